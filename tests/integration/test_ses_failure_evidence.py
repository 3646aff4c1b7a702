"""DMARC failure reports (RFC 6591) as evidence in `dmarc-report ses`
(issue 14 item 2): a failure report from an SES source, matched to the
finding by its Source-IP and Reported-Domain (or by the region its own
signals name), is named in the `evidence` column with the count, the DKIM
signature, the MAIL FROM, a sample subject, and the region it names --
said as the failure reports', never written over the finding's region --
and it never changes the finding's counts.  The ARF messages are built
like rfcsamples.failure_message (RFC 6591's example) with SES's values."""
import csv
import io
import time

from dmarctest import EX_OK, Case, report_xml
from test_ses_verdicts import rec  # the same records as the verdict tests

DAY = int(time.time()) // 86400 * 86400 - 86400
SEL_USE1 = "6gbrjpgwjskckoa6a5zn6fwqkn67xbtw"   # SES's own selectors (ses-region-evidence.md)
SEL_EUW1 = "uku4taia5b5tsbglxyj6zym32efj7xqv"
SES_MAIL_FROM = "<010001893a2b3c4d-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab-000000@amazonses.com>"


def ses_default_us(ip="54.240.8.20", count=40):
    """SES in us-east-1 (the /24 table) with the default MAIL FROM and no Easy DKIM."""
    return rec(ip, count, "fail", "fail", env="amazonses.com",
               dkim_results=(("amazonses.com", SEL_USE1, "pass"),), spf_results=(("amazonses.com", "pass"),))


def ses_unknown_region(ip="54.240.94.118", count=12):
    """An SES address in no /24 of the table, the reporter leaving out the selector: region unknown."""
    return rec(ip, count, "fail", "pass", env="mail.example.com",
               dkim_results=(("amazonses.com", None, "pass"),), spf_results=(("mail.example.com", "pass"),))


def arf(source_ip, msgid, reported_domain="example.com", auth_failure="dmarc", dkim_domain="amazonses.com",
        selector=SEL_USE1, mail_from=SES_MAIL_FROM, subject="Your invoice 2026-11"):
    """An RFC 6591 authentication failure report, laid out as the RFC's example."""
    b = "part1_13d.2e68ed54_report_boundary"
    when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(DAY + 3600))
    original = ("Content-Type: text/rfc822-headers\r\n\r\n"
                "Authentication-Results: mx.receiver.example;\r\n"
                "     dmarc=fail header.from=%s\r\n"
                "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple;\r\n"
                "     s=%s; d=%s;\r\n     h=From:To:Subject:Date; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
                "     b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB\r\n"
                "Received: from a8-20.smtp-out.amazonses.com ([%s]) by mx.receiver.example;\r\n"
                "     %s\r\n"
                "Subject: %s\r\nDate: %s\r\nFrom: Billing <billing@%s>\r\nTo: user@receiver.example\r\n"
                % (reported_domain, selector, dkim_domain, source_ip, when, subject, when, reported_domain))
    fields = ["Feedback-Type: auth-failure", "User-Agent: ReceiverDMARC/2.1", "Version: 1"]
    if auth_failure:
        fields.append("Auth-Failure: %s" % auth_failure)
    fields += ["Original-Mail-From: %s" % mail_from, "Original-Rcpt-To: <user@receiver.example>",
               "Arrival-Date: %s" % when, "Source-IP: %s" % source_ip, "Reported-Domain: %s" % reported_domain,
               "Identity-Alignment: none"]
    if dkim_domain:
        fields += ["DKIM-Domain: %s" % dkim_domain, "DKIM-Selector: %s" % selector]
    return ("From: dmarc-noreply@receiver.example\r\nTo: ruf@example.com\r\n"
            "Subject: DMARC failure report for %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=\"feedback-report\";\r\n    boundary=\"%s\"\r\n\r\n"
            "--%s\r\nContent-Type: text/plain; charset=\"US-ASCII\"\r\n\r\n"
            "This is an authentication failure report for an email message received from IP %s.\r\n\r\n"
            "--%s\r\nContent-Type: message/feedback-report\r\n\r\n%s\r\n\r\n"
            "--%s\r\n%s\r\n--%s--\r\n"
            % (reported_domain, when, msgid, b, b, source_ip, b, "\r\n".join(fields), b, original, b)).encode()


def rows(proc):
    return list(csv.DictReader(io.StringIO(proc.stdout.decode("utf-8"), newline="")))


COUNTS = ("region", "source_ip", "header_from", "messages", "spf_aligned", "dkim_aligned", "cause",
          "severity", "region_evidence")


class FailureEvidence(Case):
    def load(self, *records):
        self.write("agg/r.xml", report_xml(records=list(records), begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("agg")), EX_OK)

    def failures(self, *messages):
        for i, m in enumerate(messages):
            self.write("ruf/f%d.eml" % i, m)
        self.assertExit(self.ingest(self.path("ruf")), EX_OK)

    def ses_rows(self, *args):
        proc = self.report("ses", "--format", "csv", *args)
        self.assertExit(proc, EX_OK)
        return rows(proc)

    def test_same_address_names_the_reports_and_confirms_the_causes(self):
        self.load(ses_default_us())
        before = self.ses_rows()
        self.assertEqual([r["evidence"] for r in before], [""])
        self.failures(arf("54.240.8.20", "f1@receiver.example"),
                      arf("54.240.8.20", "f2@receiver.example", subject="Second"))
        after = self.ses_rows()
        # evidence, never counts: every other column is what it was
        self.assertEqual([tuple(r[k] for k in COUNTS) for r in after],
                         [tuple(r[k] for k in COUNTS) for r in before])
        self.assertEqual(after[0]["region"], "us-east-1")
        self.assertEqual(after[0]["evidence"], (
            "2 failure reports (RFC 6591), 2 from this address; Auth-Failure dmarc; DKIM d=amazonses.com "
            "s=%s; MAIL FROM amazonses.com; region us-east-1 by mail-from too; they confirm the SES MAIL FROM "
            "and the amazonses.com-only signature; a subject: \"Your invoice 2026-11\"" % SEL_USE1))

    def test_table_says_evidence_under_the_block(self):
        self.load(ses_default_us())
        self.failures(arf("54.240.8.20", "f1@receiver.example", auth_failure="spf"))
        proc = self.report("ses", "--wide")
        self.assertExit(proc, EX_OK)
        out = proc.stdout.decode()
        self.assertIn("Evidence: 54.240.8.20: 1 failure report (RFC 6591), 1 from this address; "
                      "Auth-Failure spf;", out)
        # the block's counts are the aggregate reports' (40 messages)
        self.assertRegex(out, r"54\.240\.8\.20 +\S+ +40 ")

    def test_json_has_the_evidence(self):
        import json
        self.load(ses_default_us())
        self.failures(arf("54.240.8.20", "f1@receiver.example"))
        proc = self.report("ses", "--format", "json")
        self.assertExit(proc, EX_OK)
        data = json.loads(proc.stdout)
        self.assertEqual(list(data[0])[-1], "evidence")
        self.assertTrue(data[0]["evidence"].startswith("1 failure report (RFC 6591), 1 from this address"))
        self.assertEqual(data[0]["messages"], 40)

    def test_unknown_region_stays_unknown_with_the_reports_region_said_as_theirs(self):
        self.load(ses_unknown_region())
        self.failures(arf("54.240.94.118", "f1@receiver.example", selector=SEL_EUW1,
                          mail_from="<billing@mail.example.com>"))
        (r,) = self.ses_rows()
        self.assertEqual((r["region"], r["region_evidence"]), ("unknown", "none"))
        self.assertIn("they name region eu-west-1 (by dkim-selector; the aggregate reports do not)",
                      r["evidence"])
        self.assertIn("MAIL FROM mail.example.com", r["evidence"])
        # its cause is no-easy-dkim (the MAIL FROM is the customer's): the
        # signature is confirmed, the MAIL FROM is not SES's
        self.assertIn("they confirm the amazonses.com-only signature;", r["evidence"])
        self.assertNotIn("SES MAIL FROM", r["evidence"])

    def test_other_address_of_the_same_region_matches_by_region(self):
        self.load(ses_default_us())
        self.failures(arf("54.240.9.77", "f1@receiver.example"))
        (r,) = self.ses_rows()
        self.assertTrue(r["evidence"].startswith("1 failure report (RFC 6591), 0 from this address;"),
                        r["evidence"])

    def test_unrelated_failure_reports_are_no_evidence(self):
        self.load(ses_default_us())
        self.failures(
            # not SES: an address outside SES, signed by the domain itself
            arf("192.0.2.1", "f1@receiver.example", dkim_domain="example.com", selector="news",
                mail_from="<someone@example.com>"),
            # SES, but another From domain
            arf("54.240.8.20", "f2@receiver.example", reported_domain="other.example"))
        (r,) = self.ses_rows()
        self.assertEqual(r["evidence"], "")
        self.assertEqual(r["messages"], "40")
        # the SES one is said, as matching no finding; the other is not SES
        out = self.report("ses").stdout.decode()
        self.assertIn("1 DMARC failure report from SES sources matches no finding above", out)
        self.assertNotIn("Evidence:", out)

    def test_since_selects_the_failure_reports_too(self):
        self.load(ses_default_us())
        self.failures(arf("54.240.8.20", "f1@receiver.example"))
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(DAY + 86400))
        # the aggregate report and the failure report are both before it
        self.assertEqual(self.ses_rows("--since", tomorrow), [])
        day = time.strftime("%Y-%m-%d", time.gmtime(DAY))
        (r,) = self.ses_rows("--since", day)
        self.assertTrue(r["evidence"].startswith("1 failure report"))

    def test_hostile_subject_stays_data(self):
        self.load(ses_default_us())
        self.failures(arf("54.240.8.20", "f1@receiver.example", subject="<script>alert(1)</script>"))
        (r,) = self.ses_rows()
        self.assertIn('a subject: "<script>alert(1)</script>"', r["evidence"])
        page = self.path("p.html")
        self.assertExit(self.report("html", "-o", page), EX_OK)
        with open(page, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn("<script>alert", text)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", text)
        self.assertIn("1 failure report (RFC 6591), 1 from this address", text)
