"""dmarc-report html with the findings of `tls` and `check-dns` (issue 16:
"built from the same collected data as sources, ses, policy (and tls,
check-dns findings when present)").

The page is opened in headless Chromium (networking off, as test_html
does) and the numbers its DOM carries are compared with what `tls` and
`check-dns` print for the same database; the DNS findings come from the
real Knot server of tests/lib/knotfixture.py, and only with --check-dns."""
import csv
import io
import json
import unittest

import dnszones
import knotfixture
import test_dns_check
import test_html
from dmarctest import EX_OK, EX_USAGE, Case, record, report_xml, utc
from rfcsamples import tls_report

EX_UNAVAILABLE = 69
DAY1 = utc(2016, 4, 1)


def rows(proc):
    return list(csv.DictReader(io.StringIO(proc.stdout.decode("utf-8"), newline="")))


class FindingsReader(test_html.DomReader):
    """test_html's reader, plus the TLS and DNS rows of each domain."""

    def __init__(self):
        super().__init__()
        self.tls_totals, self.tls_types, self.tls_days, self.dns = {}, {}, {}, {}
        self.svg_titles = 0

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        a, d = dict(attrs), self.domain
        if "data-tls-successful" in a and tag == "p":
            self.tls_totals[d] = (int(a["data-tls-successful"]), int(a["data-tls-failed"]))
        if tag == "tr" and "data-tls-type" in a:
            self.tls_types.setdefault(d, {})[(a["data-tls-type"], a["data-tls-mx"])] = int(a["data-tls-sessions"])
        if tag == "tr" and "data-tls-day" in a:
            self.tls_days.setdefault(d, {})[a["data-tls-day"]] = (int(a["data-tls-successful"]),
                                                                   int(a["data-tls-failed"]))
        if tag == "tr" and "data-dns-severity" in a:
            self.dns.setdefault(d, []).append((a["data-dns-check"], a["data-dns-severity"]))


def second_day_report():
    """A second day for company-y.example: certificate-expired again at
    mx1, with STARTTLS now offered everywhere."""
    return tls_report(report_id="day-2", start="2016-04-02T00:00:00Z", end="2016-04-02T23:59:59Z",
                      policies=[{"policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: testing",
                                                                                    "mx: *.mail.company-y.example",
                                                                                    "max_age: 86400"],
                                            "policy-domain": "company-y.example",
                                            "mx-host": ["*.mail.company-y.example"]},
                                 "summary": {"total-successful-session-count": 4000,
                                             "total-failure-session-count": 7},
                                 "failure-details": [{"result-type": "certificate-expired",
                                                      "sending-mta-ip": "2001:db8:abcd:0012::1",
                                                      "receiving-mx-hostname": "mx1.mail.company-y.example",
                                                      "failed-session-count": 7}]}])


class HtmlTls(test_html.PageCase):
    reader = FindingsReader

    def load(self):
        for i, dom in enumerate(("company-y.example", "example.com")):
            for d in range(2):
                begin = DAY1 + d * 86400
                self.write("agg/%d-%d.xml" % (i, d), report_xml(
                    report_id="a%d-%d" % (i, d), domain=dom, begin=begin, end=begin + 86399,
                    records=[record(ip="209.85.220.41", count=10 + d, header_from=dom)]))
        self.write("tls/a.json", tls_report())
        self.write("tls/b.json", second_day_report())
        self.assertExit(self.ingest(self.path("agg")), EX_OK)
        self.assertExit(self.ingest(self.path("tls")), EX_OK)

    def test_tls_section_agrees_with_tls_to_the_session(self):
        self.load()
        r = self.dom(self.page())
        proc = self.report("tls", "--domain", "company-y.example", "--format", "csv")
        self.assertExit(proc, EX_OK)
        days, types = {}, {}
        for row in rows(proc):
            days[row["day"]] = (int(row["successful"]), int(row["failed"]))
            if row["result_type"]:
                key = (row["result_type"], row["receiving_mx"])
                types[key] = types.get(key, 0) + int(row["failure_sessions"])
        self.assertEqual(r.tls_totals["company-y.example"],
                         (sum(v[0] for v in days.values()), sum(v[1] for v in days.values())))
        self.assertEqual(r.tls_totals["company-y.example"], (9326, 310))   # 5326 + 4000, 303 + 7
        self.assertEqual(r.tls_types["company-y.example"], types)
        self.assertEqual(types[("certificate-expired", "mx1.mail.company-y.example")], 107)
        self.assertEqual(r.tls_days["company-y.example"], days)
        # a domain without TLS reports has no TLS section
        self.assertNotIn("example.com", r.tls_totals)
        text = "".join(r.text)
        self.assertIn("renew it (and automate the renewal)", text)          # tls's fix
        self.assertIn("SMTP TLS sessions per day", text)                    # the chart's title
        self.assertIn("successful sessions", text)                          # its legend / table

    def test_since_narrows_the_tls_section_like_tls(self):
        self.load()
        r = self.dom(self.page("--since", "2016-04-02"))
        self.assertEqual(r.tls_totals["company-y.example"], (4000, 7))
        proc = self.report("tls", "--since", "2016-04-02", "--domain", "company-y.example", "--format", "csv")
        self.assertEqual([(x["successful"], x["failed"]) for x in rows(proc)], [("4000", "7")])

    def test_hostile_mx_name_stays_text_and_page_is_valid(self):
        self.load()
        evil = '<script>alert(1)</script>"onmouseover="x'
        self.write("tls2/c.json", tls_report(
            report_id="evil", start="2016-04-01T00:00:00Z", end="2016-04-01T23:59:59Z",
            policies=[{"policy": {"policy-type": "sts", "policy-domain": "company-y.example"},
                       "summary": {"total-successful-session-count": 1, "total-failure-session-count": 2},
                       "failure-details": [{"result-type": evil, "receiving-mx-hostname": evil,
                                            "failed-session-count": 2}]}]))
        self.assertExit(self.ingest(self.path("tls2")), EX_OK)
        page = self.page()
        r = self.dom(page)
        self.assertNotIn("script", r.tags)
        self.assertFalse([a for a in r.attrs if a.startswith("on")], r.attrs)
        self.assertEqual(r.tls_types["company-y.example"][(evil, evil)], 2)
        self.assertValidHtml(page)

    def test_check_dns_is_off_by_default_and_needs_a_server_here(self):
        self.load()
        with open(self.page(), encoding="utf-8") as f:
            self.assertNotIn("data-dns-severity", f.read())
        # asked for, with no server and DMARCSIFT_OFFLINE set: no lookups, no page
        out = self.path("dns.html")
        proc = self.report("html", "--check-dns", "-o", out)
        self.assertExit(proc, EX_UNAVAILABLE)
        self.assertFalse(__import__("os").path.exists(out))
        proc = self.report("sources", "--check-dns")
        self.assertExit(proc, EX_USAGE)
        self.assertIn(b"--check-dns is an option of html", proc.stderr)


@unittest.skipUnless(knotfixture.available(), "knotd is missing (scripts/install-deps --test)")
class HtmlCheckDns(Case):
    def setUp(self):
        super().setUp()
        if test_html.CHROMIUM is None:
            self.skipTest("chromium is not installed (scripts/install-deps --test installs it)")
        self.browser = test_html.Chromium(self.tmp)
        self.ns = knotfixture.KnotServer(dnszones.zones()).start()

    def tearDown(self):
        self.ns.cleanup()
        super().tearDown()

    def test_findings_agree_with_check_dns(self):
        domains = ["good.example", "twomx.example", "nodkim.example"]
        for i, d in enumerate(domains):
            f = self.write("r%d.xml" % i, report_xml(domain=d, report_id="r%d" % i,
                                                     records=[test_dns_check.ses_record(d)]))
            self.assertExit(self.ingest("--offline", f), EX_OK)
        out = self.path("page.html")
        self.assertExit(self.report("--dns-server", self.ns.server, "html", "--check-dns", "-o", out), EX_OK)
        proc = test_html.Chromium.run(self.browser, "--dump-dom", "file://" + out)
        self.assertEqual(proc.returncode, 0)
        r = FindingsReader()
        r.feed(proc.stdout.decode())
        p = self.report("--dns-server", self.ns.server, "--format", "json", "check-dns")
        self.assertExit(p, EX_OK)
        want = {}
        for row in json.loads(p.stdout):
            want.setdefault(row["domain"], []).append((row["check"], row["severity"]))
        self.assertEqual(r.dns, want)
        self.assertIn(("mail-from-mx", "error"), r.dns["twomx.example"])
        self.assertIn(("dkim", "error"), r.dns["nodkim.example"])
        self.assertEqual({s for _, s in r.dns["good.example"]}, {"ok"})
        text = "".join(r.text)
        self.assertIn("keep exactly one MX", text)   # check-dns's fix, on the page
        # the rest of the page is what it is without --check-dns
        self.assertEqual(set(r.totals), set(domains))
