"""SMTP TLS and DMARC failure reports written after the examples of RFC 8460
(section 4.4, and the message of section 5.3) and RFC 6591 (appendix B),
for the tests of those kinds (test_other_reports.py, tests/imap)."""
import base64
import gzip
import json

# RFC 8460, section 4.4: the JSON report sample.
RFC8460_REPORT = {
    "organization-name": "Company-X",
    "date-range": {"start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"},
    "contact-info": "sts-reporting@company-x.example",
    "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
    "policies": [{
        "policy": {
            "policy-type": "sts",
            "policy-string": ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example",
                              "max_age: 86400"],
            "policy-domain": "company-y.example",
            "mx-host": ["*.mail.company-y.example"],
        },
        "summary": {"total-successful-session-count": 5326, "total-failure-session-count": 303},
        "failure-details": [{
            "result-type": "certificate-expired",
            "sending-mta-ip": "2001:db8:abcd:0012::1",
            "receiving-mx-hostname": "mx1.mail.company-y.example",
            "failed-session-count": 100,
        }, {
            "result-type": "starttls-not-supported",
            "sending-mta-ip": "2001:db8:abcd:0013::1",
            "receiving-mx-hostname": "mx2.mail.company-y.example",
            "receiving-ip": "203.0.113.56",
            "failed-session-count": 200,
            "additional-information": "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported",
        }, {
            "result-type": "validation-failure",
            "sending-mta-ip": "198.51.100.62",
            "receiving-ip": "203.0.113.58",
            "receiving-mx-hostname": "mx-backup.mail.company-y.example",
            "failed-session-count": 3,
            "failure-reason-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED",
        }],
    }],
}


def tls_report(report_id=None, start="2016-04-01T00:00:00Z", end="2016-04-01T23:59:59Z", **changes):
    r = json.loads(json.dumps(RFC8460_REPORT))
    if report_id is not None:
        r["report-id"] = report_id
    r["date-range"] = {"start-datetime": start, "end-datetime": end}
    r.update(changes)
    return json.dumps(r, indent=2).encode()


def tls_message(report=None, gzipped=True, msgid="735ff.e317.43b5@mail.sender.example"):
    """RFC 8460 section 5.3: the report mailed as application/tlsrpt+gzip."""
    data = report if report is not None else tls_report()
    if gzipped:
        data = gzip.compress(data, mtime=0)
    ctype = "application/tlsrpt+gzip" if gzipped else "application/tlsrpt+json"
    b = "----=_NextPart_000_024E_01CC9B0A.AFE54C00"
    body = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return ("From: tlsrpt@mail.sender.example\r\n"
            "Date: Fri, May 09 2017 16:54:30 -0800\r\n"
            "To: mts-sts-tlsrpt@company-y.example\r\n"
            "Subject: Report Domain: company-y.example Submitter: mail.sender.example "
            "Report-ID: <%s>\r\n"
            "TLS-Report-Domain: company-y.example\r\n"
            "TLS-Report-Submitter: mail.sender.example\r\n"
            "Message-ID: <%s>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
            "    boundary=\"%s\"\r\n\r\n"
            "--%s\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\n"
            "This is an aggregate TLS report from mail.sender.example\r\n\r\n"
            "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment;\r\n"
            "    filename=\"mail.sender.example!company-y.example!1013662812!1013749130.json.gz\"\r\n\r\n"
            "%s\r\n--%s--\r\n" % (msgid, msgid, b, b, b, ctype, body, b)).encode()


# RFC 6591, appendix B: an authentication failure report (feedback-type
# auth-failure) with the original's headers as text/rfc822-headers.
def failure_message(feedback_type="auth-failure", source_ip="192.0.2.1", msgid="arf-1@example.com",
                    original=None):
    b = "part1_13d.2e68ed54_report_boundary"
    if original is None:
        third = ("Content-Type: text/rfc822-headers\r\n\r\n"
                 "Authentication-Results: mail.example.com;\r\n"
                 "     dkim=fail header.d=example.net\r\n"
                 "DKIM-Signature: v=1; c=relaxed/simple; a=rsa-sha256;\r\n"
                 "     s=news; d=example.net;\r\n"
                 "     h=From:To:Subject:Date;\r\n"
                 "     bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
                 "     b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB\r\n"
                 "Received: from smtp-out.example.net by mail.example.com\r\n"
                 "     with SMTP id o3F52gxO029144;\r\n"
                 "     Thu, 8 Mar 2005 14:00:00 -0700 (PDT)\r\n"
                 "Subject: Put best tagline here\r\n"
                 "Date: Thu, 8 Mar 2005 14:00:00 -0700 (PDT)\r\n"
                 "From: Joe <joe@example.net>\r\n"
                 "To: user@example.com\r\n")
    else:
        third = "Content-Type: message/rfc822\r\n\r\n" + original
    return ("From: arf-daemon@example.com\r\n"
            "To: recipient@example.net\r\n"
            "Subject: This is a test\r\n"
            "Date: Wed, 14 Apr 2010 12:17:45 -0700 (PDT)\r\n"
            "Message-ID: <%s>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=\"feedback-report\";\r\n"
            "    boundary=\"%s\"\r\n\r\n"
            "--%s\r\nContent-Type: text/plain; charset=\"US-ASCII\"\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n"
            "This is an authentication failure report for an email message\r\n"
            "received from IP %s on Thu, 8 Mar 2005 14:00:00 EDT.\r\n\r\n"
            "--%s\r\nContent-Type: message/feedback-report\r\n\r\n"
            "Feedback-Type: %s\r\n"
            "User-Agent: SomeDKIMFilter/1.0\r\n"
            "Version: 1\r\n"
            "Original-Mail-From: <somespammer@example.net>\r\n"
            "Original-Rcpt-To: <user@example.com>\r\n"
            "Arrival-Date: Thu, 8 Mar 2005 14:00:00 -0500\r\n"
            "Source-IP: %s\r\n"
            "Authentication-Results: mail.example.com;\r\n"
            "     dkim=fail header.d=example.net\r\n"
            "Reported-Domain: example.net\r\n"
            "DKIM-Domain: example.net\r\n"
            "DKIM-Identity: @example.net\r\n"
            "DKIM-Selector: news\r\n\r\n"
            "--%s\r\n%s\r\n"
            "--%s--\r\n" % (msgid, b, b, source_ip, b, feedback_type, source_ip, b, third, b)).encode()


def original_with_body(body="SECRET BODY TEXT of someone's mail"):
    return ("From: Joe <joe@example.net>\r\nTo: user@example.com\r\n"
            "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\nDate: Thu, 8 Mar 2005 14:00:00 -0700\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n%s\r\n" % body)


def bounce_message():
    """A delivery status notification: not a report of any kind."""
    b = "dsn-boundary"
    return ("From: MAILER-DAEMON@mx.example\r\nTo: dmarc@example.com\r\nSubject: Undelivered Mail\r\n"
            "Message-ID: <bounce-1@mx.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"%s\"\r\n\r\n"
            "--%s\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
            "--%s\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
            "Final-Recipient: rfc822; nobody@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            "--%s--\r\n" % (b, b, b, b)).encode()
