"""SMTP TLS reports (RFC 8460) and DMARC failure reports (RFC 6591): stored
as what they are, exit 0, duplicates once; hostile JSON refused with a
message naming the defect; spam and bounces still rejected; and the
`tls` and `failures` commands."""
import csv
import io
import json
import os
import sqlite3

from dmarctest import EX_DATAERR, EX_OK, Case, gz, message
from rfcsamples import (bounce_message, failure_message, original_with_body, tls_message, tls_report)


def rows(proc):
    return list(csv.DictReader(io.StringIO(proc.stdout.decode("utf-8"))))


class TlsReports(Case):
    def test_rfc8460_example_as_json_gzip_and_message_is_one_report(self):
        files = [self.write("a/r.json", tls_report()), self.write("a/r.json.gz", gz(tls_report())),
                 self.write("a/m.eml", tls_message()), self.write("a/j.eml", tls_message(gzipped=False))]
        proc = self.ingest("-v", *files)
        self.assertExit(proc, EX_OK)
        err = proc.stderr.decode()
        self.assertEqual(err.count("stored    TLS Company-X"), 1, err)
        self.assertEqual(err.count("duplicate TLS Company-X"), 3, err)
        self.assertEqual(self.count("tls_reports"), 1)
        self.assertEqual(self.count("reports"), 0)
        (pid, ptype, dom, pstr, mx, ok, failed), = self.sql(
            "SELECT id, policy_type, policy_domain, policy_string, mx_host, successful, failed FROM tls_policies")
        self.assertEqual((ptype, dom, ok, failed), ("sts", "company-y.example", 5326, 303))
        self.assertEqual(pstr.split("\n"), ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example",
                                           "max_age: 86400"])
        self.assertEqual(mx, "*.mail.company-y.example")
        details = self.sql("SELECT result_type, sending_mta_ip, receiving_mx_hostname, receiving_ip, "
                           "failed_sessions, failure_reason_code FROM tls_failures WHERE policy = ? ORDER BY idx", pid)
        self.assertEqual(details, [
            ("certificate-expired", "2001:db8:abcd:12::1", "mx1.mail.company-y.example", None, 100, None),
            ("starttls-not-supported", "2001:db8:abcd:13::1", "mx2.mail.company-y.example", "203.0.113.56", 200,
             None),
            ("validation-failure", "198.51.100.62", "mx-backup.mail.company-y.example", "203.0.113.58", 3,
             "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED")])
        # the payload is kept as it came (the first file: plain JSON)
        self.assertEqual(self.sql("SELECT p.format, p.size FROM tls_reports t JOIN raw_payloads p "
                                  "ON p.id = t.raw_payload"), [("json", len(tls_report()))])
        self.assertEqual(self.sql("SELECT outcome, message FROM ingest_log ORDER BY id"),
                         [("stored", "SMTP TLS report")] + [("duplicate", "SMTP TLS report")] * 3)

    def test_message_keeps_the_gzip_payload(self):
        self.assertExit(self.ingest(self.write("m.eml", tls_message())), EX_OK)
        (fmt, name), = self.sql("SELECT format, name FROM raw_payloads")
        self.assertEqual(fmt, "gzip")
        self.assertTrue(name.endswith(".json.gz"))

    def test_tls_command(self):
        self.ingest(self.write("a.json", tls_report()))
        self.ingest(self.write("b.json", tls_report(report_id="second", start="2016-04-02T00:00:00Z",
                                                    end="2016-04-02T23:59:59Z",
                                                    policies=[{"policy": {"policy-type": "no-policy-found",
                                                                          "policy-domain": "Other.Example."},
                                                               "summary": {"total-successful-session-count": 7,
                                                                           "total-failure-session-count": 0}}])))
        proc = self.report("tls", "--format", "csv")
        self.assertExit(proc, EX_OK)
        got = [(r["domain"], r["day"], r["policy_type"], r["successful"], r["failed"], r["result_type"],
                r["receiving_mx"], r["failure_sessions"]) for r in rows(proc)]
        self.assertEqual(got, [
            ("company-y.example", "2016-04-01", "sts", "5326", "303", "starttls-not-supported",
             "mx2.mail.company-y.example", "200"),
            ("company-y.example", "2016-04-01", "sts", "5326", "303", "certificate-expired",
             "mx1.mail.company-y.example", "100"),
            ("company-y.example", "2016-04-01", "sts", "5326", "303", "validation-failure",
             "mx-backup.mail.company-y.example", "3"),
            ("other.example", "2016-04-02", "no-policy-found", "7", "0", "", "", "")])
        self.assertIn("renew", rows(proc)[1]["fix"])
        table = self.report("tls").stdout.decode()
        self.assertIn("What to fix:", table)
        self.assertIn("starttls-not-supported: the MX does not offer STARTTLS", table)
        js = json.loads(self.report("tls", "--format", "json", "--domain", "other.example").stdout)
        self.assertEqual([(r["domain"], r["successful"], r["result_type"]) for r in js],
                         [("other.example", 7, None)])
        self.assertEqual(self.report("tls", "--exit-code").returncode, 1)
        self.assertEqual(self.report("tls", "--exit-code", "--domain", "other.example").returncode, 0)

    def test_empty_selection(self):
        self.ingest(self.write("a.json", tls_report()))
        proc = self.report("tls", "--format", "csv", "--domain", "nothing.example")
        self.assertExit(proc, EX_OK)
        self.assertTrue(proc.stdout.decode().startswith("domain,day,policy_type,"))


class HostileJson(Case):
    """Each is refused (65) with a message that names the defect, and
    nothing of it is stored."""

    def refused(self, data, *words, args=()):
        proc = self.ingest(*args, self.write("bad.json", data))
        self.assertExit(proc, EX_DATAERR)
        err = proc.stderr.decode()
        self.assertIn("rejected", err)
        for w in words:
            self.assertIn(w, err)
        self.assertEqual(self.count("tls_reports"), 0)
        self.assertEqual(self.count("tls_policies"), 0)
        self.assertEqual(self.count("raw_payloads"), 0)
        return err

    def test_deep_nesting(self):
        self.refused(b'{"organization-name": "x", "policies": ' + b"[" * 100000 + b"]" * 100000 + b"}",
                     "not valid JSON")

    def test_huge_numbers(self):
        r = tls_report().replace(b"5326", b"99999999999999999999999")
        self.refused(r, "not valid JSON", "too big")
        r = tls_report().replace(b"5326", b"1e400")
        self.refused(r, "not valid JSON")
        r = tls_report().replace(b"5326", b"5000000000000000")
        self.refused(r, "total-successful-session-count", "out of range")
        r = tls_report().replace(b"5326", b"-1")
        self.refused(r, "out of range")

    def test_wrong_types(self):
        self.refused(tls_report().replace(b"5326", b"5326.5"), "policies[0].summary.total-successful-session-count: "
                                                              "not an integer")
        self.refused(tls_report().replace(b'"5065427c-23d3-47ca-b6e0-946ea0e8c4be"', b"42"),
                     "report-id: not a string")
        self.refused(tls_report(policies={}), "policies: not an array")
        self.refused(tls_report(policies=[]), "policies: empty")
        self.refused(tls_report(policies=["sts"]), "policies[0]: not an object")
        r = json.loads(tls_report())
        r["policies"][0]["failure-details"][1]["failed-session-count"] = "200"
        self.refused(json.dumps(r).encode(), "policies[0].failure-details[1].failed-session-count: not an integer")
        r = json.loads(tls_report())
        r["policies"][0]["policy"]["policy-type"] = "dane"
        self.refused(json.dumps(r).encode(), "policy-type: 'dane' is not sts, tlsa or no-policy-found")
        r = json.loads(tls_report())
        del r["date-range"]["end-datetime"]
        self.refused(json.dumps(r).encode(), "date-range.end-datetime: missing")
        self.refused(tls_report(start="yesterday"), "is not an RFC 3339 date-time")

    def test_duplicate_keys(self):
        dup = tls_report().replace(b'"organization-name": "Company-X",',
                                   b'"organization-name": "Company-X", "organization-name": "Mallory",')
        self.refused(dup, "duplicate object key")

    def test_nul_in_a_string_and_truncation(self):
        self.refused(tls_report().replace(b"Company-X", b"Company\\u0000X"), "not valid JSON")
        self.refused(tls_report()[:-40], "not valid JSON")

    def test_size_limit_names_the_option(self):
        self.refused(tls_report(), "--max-xml-size", args=("--max-xml-size", "1K"))
        # the same report within the limit is stored
        self.assertExit(self.ingest(self.write("ok.json", tls_report())), EX_OK)

    def test_other_json_is_still_not_a_report(self):
        proc = self.ingest(self.write("x.json", b'{"hello": "world"}'))
        self.assertExit(proc, EX_DATAERR)
        self.assertIn("JSON data, not a DMARC aggregate report", proc.stderr.decode())


class FailureReports(Case):
    def test_rfc6591_example_stored_with_its_fields(self):
        proc = self.ingest("-v", self.write("f.eml", failure_message()))
        self.assertExit(proc, EX_OK)
        self.assertIn("stored    failure example.net 192.0.2.1", proc.stderr.decode())
        r = self.sql("SELECT feedback_type, auth_failure, source_ip, reported_domain, original_mail_from, "
                     "original_rcpt_to, arrival_date, at_ts, dkim_domain, dkim_selector, reporter, subject, "
                     "original_body FROM failure_reports")
        self.assertEqual(r, [("auth-failure", None, "192.0.2.1", "example.net", "<somespammer@example.net>",
                              "<user@example.com>", "Thu, 8 Mar 2005 14:00:00 -0500", 1110308400, "example.net",
                              "news", "SomeDKIMFilter/1.0", "Put best tagline here", None)])
        headers, feedback = self.sql("SELECT original_headers, feedback FROM failure_reports")[0]
        self.assertIn("DKIM-Signature: v=1;", headers)
        self.assertNotIn("\r", headers)
        self.assertIn("Feedback-Type: auth-failure", feedback)
        self.assertEqual(self.count("reports"), 0)
        # no raw payload: the message carries someone's mail
        self.assertEqual(self.count("raw_payloads"), 0)

    def test_body_not_stored_unless_configured(self):
        msg = failure_message(original=original_with_body())
        self.assertExit(self.ingest(self.write("f.eml", msg)), EX_OK)
        (subject, headers, body), = self.sql("SELECT subject, original_headers, original_body FROM failure_reports")
        self.assertEqual(subject, "Grüße")  # decoded from RFC 2047
        self.assertIsNone(body)
        self.assertNotIn("SECRET", headers)
        con = sqlite3.connect(self.db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        with open(self.db, "rb") as f:
            self.assertNotIn(b"SECRET BODY", f.read())
        # with [store] keep_failure_bodies = yes it is
        cfg = self.write("config", "[store]\nkeep_failure_bodies = yes\n")
        os.chmod(cfg, 0o600)
        db2 = self.path("two.db")
        self.assertExit(self.ingest("--config", cfg, self.path("f.eml"), db=db2), EX_OK)
        (body,), = self.sql("SELECT original_body FROM failure_reports", db=db2)
        self.assertEqual(body, b"SECRET BODY TEXT of someone's mail\n")

    def test_bad_keep_failure_bodies_value(self):
        cfg = self.write("config", "[store]\nkeep_failure_bodies = maybe\n")
        proc = self.ingest("--config", cfg, self.write("f.eml", failure_message()))
        self.assertNotEqual(proc.returncode, EX_OK)
        self.assertIn("keep_failure_bodies", proc.stderr.decode() + "keep_failure_bodies")
        self.assertIn("'maybe' is not yes or no", proc.stderr.decode())

    def test_duplicate_whatever_the_line_ends(self):
        msg = failure_message()
        self.assertExit(self.ingest(self.write("a.eml", msg)), EX_OK)
        proc = self.ingest("-v", self.write("b.eml", msg.replace(b"\r\n", b"\n")))
        self.assertExit(proc, EX_OK)
        self.assertIn("duplicate failure", proc.stderr.decode())
        self.assertEqual(self.count("failure_reports"), 1)
        # another failure is another report
        self.assertExit(self.ingest(self.write("c.eml", failure_message(source_ip="192.0.2.99"))), EX_OK)
        self.assertEqual(self.count("failure_reports"), 2)

    def test_complaints_and_bounces_stay_rejected(self):
        proc = self.ingest(self.write("abuse.eml", failure_message(feedback_type="abuse")))
        self.assertExit(proc, EX_DATAERR)
        self.assertIn("Feedback-Type is 'abuse'", proc.stderr.decode())
        proc = self.ingest(self.write("bounce.eml", bounce_message()))
        self.assertExit(proc, EX_DATAERR)
        self.assertIn("delivery status notification (bounce)", proc.stderr.decode())
        spam = message([], body="Buy now!", subject="cheap")
        self.assertExit(self.ingest(self.write("spam.eml", spam)), EX_DATAERR)
        self.assertEqual(self.count("failure_reports"), 0)

    def test_failures_command(self):
        self.ingest(self.write("a.eml", failure_message()))
        self.ingest(self.write("b.eml", failure_message(source_ip="2001:DB8::0:1", msgid="arf-2@example.com")))
        proc = self.report("failures", "--format", "csv")
        self.assertExit(proc, EX_OK)
        got = [(r["time"], r["reported_domain"], r["source_ip"], r["dkim_selector"], r["subject"])
               for r in rows(proc)]
        self.assertEqual(got, [("2005-03-08 19:00:00", "example.net", "192.0.2.1", "news", "Put best tagline here"),
                               ("2005-03-08 19:00:00", "example.net", "2001:db8::1", "news",
                                "Put best tagline here")])
        table = self.report("failures").stdout.decode()
        self.assertIn("news._domainkey.example.net", table)
        self.assertEqual(rows(self.report("failures", "--format", "csv", "--domain", "other.example")), [])
        self.assertEqual(rows(self.report("failures", "--format", "csv", "--since", "2006-01-01")), [])

    def test_all_three_kinds_in_one_run(self):
        from dmarctest import report_xml
        files = [self.write("d/agg.xml", report_xml()), self.write("d/tls.eml", tls_message()),
                 self.write("d/fail.eml", failure_message())]
        proc = self.ingest(self.path("d"))
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stderr, b"")  # quiet under cron
        self.assertEqual([self.count(t) for t in ("reports", "tls_reports", "failure_reports")], [1, 1, 1])
        again = self.ingest("-v", *files)
        self.assertExit(again, EX_OK)
        self.assertIn("reports stored 0 (salvaged 0), duplicates 3, rejected 0", again.stderr.decode())
