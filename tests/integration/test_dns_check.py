"""`dmarc-report check-dns` (issue 13 item 3) against a real Knot DNS on
loopback serving the zones of tests/lib/dnszones.py: a correct SES setup,
two MX, SPF on the parent instead of the MAIL FROM domain, a missing DKIM
CNAME, two DMARC records, an SPF over 10 lookups, an external rua with and
without its authorisation record.  The store is filled with SES traffic
for each domain (dmarc-ingest --offline), so the MAIL FROM domains and
selectors checked are the ones the reports show.
"""
import json
import unittest

import dnszones
import knotfixture
from dmarctest import EX_OK, EX_USAGE, Case, record, report_xml

DOMAINS = ["good.example", "twomx.example", "parent.example", "nodkim.example",
           "twodmarc.example", "spf11.example", "ext.example", "extok.example"]


def ses_record(domain, ip="54.240.27.22"):
    return record(ip=ip, header_from=domain, envelope_from="mail." + domain,
                  dkim_results=((domain, dnszones.SES_SELECTOR, "pass"),
                                ("amazonses.com", dnszones.AMAZON_SELECTOR, "pass")),
                  spf_results=(("mail." + domain, "mfrom", "pass"),))


@unittest.skipUnless(knotfixture.available(), "knotd is missing (scripts/install-deps --test)")
class CheckDnsCase(Case):
    def setUp(self):
        super().setUp()
        self.ns = knotfixture.KnotServer(dnszones.zones()).start()

    def tearDown(self):
        self.ns.cleanup()
        super().tearDown()

    def fill(self, domains=DOMAINS):
        for i, d in enumerate(domains):
            f = self.write("r%d.xml" % i, report_xml(domain=d, report_id="r%d" % i,
                                                     records=[ses_record(d)]))
            self.assertExit(self.ingest("--offline", f), EX_OK)

    def check(self, *args, fmt="json"):
        return self.report("--dns-server", self.ns.server, "--format", fmt, *args)

    def findings(self, *args):
        p = self.check(*args)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        return json.loads(p.stdout)

    def by(self, rows, domain, check):
        return [r for r in rows if r["domain"] == domain and r["check"] == check]

    def assertOnly(self, rows, domain, check, severity, *words):
        got = self.by(rows, domain, check)
        self.assertTrue(got, "no %s finding for %s" % (check, domain))
        self.assertEqual({r["severity"] for r in got}, {severity}, got)
        text = " ".join(r["finding"] + " " + (r["fix"] or "") for r in got)
        for w in words:
            self.assertIn(w, text)

    def test_correct_ses_setup_is_clean(self):
        self.fill(["good.example"])
        p = self.check("--exit-code", "check-dns")
        self.assertExit(p, EX_OK)
        rows = json.loads(p.stdout)
        self.assertEqual({r["severity"] for r in rows}, {"ok"}, rows)
        self.assertEqual(sorted(r["check"] for r in rows),
                         ["dkim", "dmarc", "mail-from-mx", "mail-from-spf", "spf"])
        self.assertOnly(rows, "good.example", "mail-from-mx", "ok",
                        "feedback-smtp.us-west-2.amazonses.com")
        self.assertOnly(rows, "good.example", "dkim", "ok", "holds a key")
        for r in rows:
            self.assertIsNone(r["fix"])

    def test_every_broken_setup_is_named(self):
        self.fill()
        rows = self.findings("check-dns")
        self.assertOnly(rows, "twomx.example", "mail-from-mx", "error", "2 MX records",
                        "keep exactly one MX", "never add that region's MX")
        self.assertOnly(rows, "parent.example", "mail-from-spf", "error", "SPF on the wrong domain",
                        "include:amazonses.com ~all\" at mail.parent.example")
        self.assertOnly(rows, "nodkim.example", "dkim", "error", "no DKIM record",
                        "%s.dkim.amazonses.com" % dnszones.SES_SELECTOR)
        self.assertOnly(rows, "twodmarc.example", "dmarc", "error", "2 DMARC records")
        self.assertIn("needs 11 DNS lookups; the limit is 10",
                      " ".join(r["finding"] for r in self.by(rows, "spf11.example", "spf")))
        self.assertOnly(rows, "ext.example", "dmarc-rua", "error", "does not authorise",
                        "ext.example._report._dmarc.reports.example")
        self.assertOnly(rows, "extok.example", "dmarc-rua", "ok")
        # what is right in a broken domain stays ok
        self.assertOnly(rows, "twomx.example", "dkim", "ok")
        self.assertOnly(rows, "parent.example", "mail-from-mx", "ok")
        self.assertOnly(rows, "nodkim.example", "mail-from-spf", "ok")
        for r in rows:
            if r["severity"] != "ok":
                self.assertTrue(r["fix"], r)

    def test_exit_codes(self):
        self.fill(["good.example", "twomx.example"])
        self.assertExit(self.check("--exit-code", "check-dns", "good.example"), 0)
        self.assertExit(self.check("--exit-code", "check-dns"), 1)
        self.assertExit(self.check("--exit-code", "--domain", "twomx.example", "check-dns"), 1)
        self.assertExit(self.check("check-dns"), 0)
        p = self.check("--exit-code", "--domain", "nothing.example", "check-dns")
        self.assertExit(p, 3)
        p = self.check("check-dns", "not a domain")
        self.assertExit(p, EX_USAGE)
        self.assertIn(b"not a domain name", p.stderr)

    def test_domain_argument_without_traffic(self):
        """A domain named on the command line is checked even with no
        reports; without SES traffic only DMARC and SPF are checked."""
        self.fill(["good.example"])
        rows = self.findings("check-dns", "SPF11.example.")
        self.assertEqual({r["domain"] for r in rows}, {"spf11.example"})
        self.assertEqual({r["check"] for r in rows}, {"dmarc", "spf"})
        self.assertIn("ok", {r["severity"] for r in self.by(rows, "spf11.example", "dmarc")})
        self.assertOnly(rows, "spf11.example", "spf", "error", "needs 11 DNS lookups")

    def test_region_from_confirmed_name_in_the_fix(self):
        """The fix names the region's feedback-smtp host: from the /24
        table (the weakest evidence) before resolve, and still after the
        source's forward-confirmed PTR (smtp-out.us-west-2) is stored."""
        self.fill(["ext.example"])
        rows = self.findings("check-dns")
        self.assertIn("feedback-smtp.us-west-2.amazonses.com",
                      self.by(rows, "ext.example", "mail-from-mx")[0]["fix"])
        self.assertExit(self.report("--dns-server", self.ns.server, "resolve"), EX_OK)
        rows = self.findings("check-dns")
        self.assertIn("feedback-smtp.us-west-2.amazonses.com",
                      self.by(rows, "ext.example", "mail-from-mx")[0]["fix"])

    def test_table_and_csv(self):
        self.fill(["twomx.example"])
        p = self.check("check-dns", fmt="table")
        self.assertExit(p, EX_OK)
        out = p.stdout.decode()
        self.assertIn("twomx.example\n", out)
        self.assertIn("error    mail-from-mx mail.twomx.example: 2 MX records", out)
        self.assertIn("fix: keep exactly one MX", out)
        self.assertTrue(all(len(l) <= 100 for l in out.splitlines()))
        p = self.check("check-dns", fmt="csv")
        self.assertExit(p, EX_OK)
        self.assertEqual(p.stdout.decode().splitlines()[0], "domain,check,name,severity,finding,fix")

    def test_unreachable_dns_is_one_error(self):
        self.fill(["good.example"])
        p = self.report("--dns-server", "127.0.0.1:%d" % knotfixture.free_port(), "check-dns")
        self.assertExit(p, 69)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn(b"cannot be reached", p.stderr)


@unittest.skipUnless(knotfixture.available(), "knotd is missing (scripts/install-deps --test)")
class HostileRecordsCase(Case):
    """TXT records are data: control characters are escaped in the output,
    and a record that is not DMARC is not parsed as one."""

    def test_escaped_and_invalid(self):
        zones = dnszones.zones()
        zones["bad.example"] = knotfixture.zone_text("bad.example", [
            '_dmarc TXT "v=DMARC1; p=bogus\\027[31m"',
            '@ TXT "v=spf1 ip4:300.1.1.1 foo:bar -all"'])
        with knotfixture.KnotServer(zones) as ns:
            self.assertExit(self.ingest("--offline", self.write("r.xml", report_xml(domain="bad.example"))), EX_OK)
            p = self.report("--dns-server", ns.server, "--format", "table", "check-dns")
            self.assertExit(p, EX_OK)
            self.assertNotIn(b"\x1b", p.stdout)
            p = self.report("--dns-server", ns.server, "--format", "json", "check-dns")
            rows = json.loads(p.stdout)
            text = [r["finding"] for r in rows]
            self.assertIn("the DMARC record is invalid: p=bogus\\x1b[31m is not none, quarantine or reject", text)
            self.assertIn("ip4:300.1.1.1 is not an address or network", text)


if __name__ == "__main__":
    unittest.main()
