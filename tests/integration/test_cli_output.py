"""dmarc-report as issue 12 asks: help for every command (its columns the
same as its CSV header and its man page), tables that fit $COLUMNS (60, 100,
200) or --wide and are never cut in a pipe, JSON with arrays, nulls and
RFC 3339 times, CSV times with a Z, and per-signature lists that stay
aligned."""
import csv
import io
import json
import os
import re
import time

from dmarctest import EX_OK, EX_USAGE, SOURCE, Case, record, report_xml, utc

DAY = utc(2026, 11, 24)
COMMANDS = ("reports", "sources", "ses", "records", "policy")
MAN = os.path.join(SOURCE, "docs", "dmarc-report.1")


def ses_failing(ip="54.240.7.12", count=10):
    return record(ip=ip, count=count, dkim="fail", spf="fail", envelope_from="eu-west-1.amazonses.com",
                  dkim_results=(("amazonses.com", "sesselector", "pass"),),
                  spf_results=(("eu-west-1.amazonses.com", "mfrom", "pass"),))


class Populated(Case):
    def setUp(self):
        super().setUp()
        long_from = "a-really-long-from-domain-that-goes-on." + "b" * 40 + ".example.com"
        recs = [ses_failing(), ses_failing(ip="54.240.7.13", count=3),
                record(ip="192.0.2.9", count=2, header_from=long_from,
                       dkim_results=(("c" * 60 + ".example.com", "s1", "pass"),))]
        self.write("in/a.xml", report_xml(org="An Organisation With A Long Name, Reporting", report_id="r-" + "9" * 40,
                                          begin=DAY, end=DAY + 86399, records=recs))
        self.write("in/b.xml", report_xml(org="alpha receiver", report_id="r2", begin=DAY, end=DAY + 86399))
        self.write("in/c.xml", report_xml(org="Zulu", report_id="r3", begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("in")), EX_OK)

    def out(self, *args, env=None):
        proc = self.report(*args, env=env)
        self.assertExit(proc, EX_OK)
        return proc.stdout.decode("utf-8")


class Help(Populated):
    def help_columns(self, text):
        part = text.split("Columns (CSV", 1)[1].split("\n", 1)[1].split("\n\n", 1)[0]
        return [m.group(1) for m in re.finditer(r"^  (\S+)", part, re.M)]

    def man_section(self, cmd):
        text = open(MAN, encoding="utf-8").read()
        start = text.index(".TP\n.B %s\n" % cmd)
        end = text.find("\n.TP\n.B ", start + 1)
        stop = text.find("\n.SH ", start)
        return text[start:min(x for x in (end, stop) if x != -1)]

    def test_every_command_has_help_listing_its_csv_columns(self):
        for cmd in COMMANDS:
            with self.subTest(command=cmd):
                a = self.report("help", cmd)
                b = self.report(cmd, "--help")
                self.assertExit(a, EX_OK)
                self.assertExit(b, EX_OK)
                self.assertEqual(a.stdout, b.stdout)
                text = a.stdout.decode()
                self.assertIn("Usage: dmarc-report [OPTION]... %s" % cmd, text)
                self.assertIn("--format", text)
                header = self.out(cmd, "--format", "csv").split("\r\n", 1)[0].split(",")
                self.assertEqual(self.help_columns(text), header)
                man = self.man_section(cmd)
                for col in header:
                    self.assertRegex(man, r"(?m)^\.I[RB]? .*\b%s\b" % re.escape(col),
                                     "dmarc-report.1 does not list %s's column %s" % (cmd, col))

    def test_help_without_a_command_and_errors(self):
        general = self.report("help")
        self.assertExit(general, EX_OK)
        self.assertIn(b"Commands:", general.stdout)
        self.assertEqual(general.stdout, self.report("--help").stdout)
        bad = self.report("help", "nosuch")
        self.assertExit(bad, EX_USAGE)
        self.assertIn(b"no such command 'nosuch'", bad.stderr)
        self.assertExit(self.report("help", "sources", "extra"), EX_USAGE)

    def test_man_page_examples_quote_bang(self):
        for page in ("dmarc-report.1", "dmarc-ingest.1"):
            text = open(os.path.join(SOURCE, "docs", page), encoding="utf-8").read()
            ex = text.split(".SH EXAMPLES", 1)[1].split(".SH", 1)[0]
            for line in ex.splitlines():
                for word in re.findall(r"'[^']*'|\S+", line):
                    if "!" in word:
                        self.assertTrue(word.startswith("'"), "%s: unquoted ! in %r" % (page, line))


class Widths(Populated):
    def lines(self, cmd, env=None, *args):
        return self.out(cmd, *args, env=env).splitlines()

    def test_columns_60_100_200(self):
        for width in (60, 100, 200):
            for cmd in COMMANDS:
                with self.subTest(command=cmd, width=width):
                    for line in self.lines(cmd, {"COLUMNS": str(width)}):
                        # a table is cut to fit unless its fixed columns
                        # alone are wider: records' and sources' at 60
                        if width >= 100:
                            self.assertLessEqual(len(line), width, "%s: %r" % (cmd, line))

    def test_60_is_narrower_than_200(self):
        for cmd in ("reports", "records"):
            narrow = max(len(l) for l in self.lines(cmd, {"COLUMNS": "60"}))
            wide = max(len(l) for l in self.lines(cmd, {"COLUMNS": "200"}))
            self.assertLess(narrow, wide, cmd)
            self.assertIn("...", self.out(cmd, env={"COLUMNS": "60"}))

    def test_prose_wraps_at_60(self):
        for line in self.lines("policy", {"COLUMNS": "60"}):
            if not re.match(r"^\S.*  \S", line):  # prose, not a table row
                self.assertLessEqual(len(line), 60, line)

    def test_not_a_terminal_and_wide_never_cut(self):
        rid = "r-" + "9" * 40
        for env, args in (({}, ()), ({"COLUMNS": "60"}, ("--wide",))):
            with self.subTest(env=env):
                text = self.out("reports", *args, env=env)
                self.assertIn(rid, text)
                self.assertIn("An Organisation With A Long Name, Reporting", text)
                self.assertNotIn("...", text)
                self.assertIn("c" * 60 + ".example.com", self.out("records", "--format", "csv", env=env))

    def test_reports_sort_names_without_case(self):
        rows = list(csv.DictReader(io.StringIO(self.out("reports", "--format", "csv"), newline="")))
        self.assertEqual([r["org_name"] for r in rows],
                         ["alpha receiver", "An Organisation With A Long Name, Reporting", "Zulu"])


class Json(Case):
    def setUp(self):
        super().setUp()
        recs = [
            # four DKIM signatures: two without a domain, one without a
            # selector; one SPF result without a scope
            record(ip="192.0.2.1", count=5,
                   dkim_results=(("example.com", "s1", "pass"), ("", "s2", "fail"),
                                 ("", "", "none"), ("other.example", "s4", "pass")),
                   spf_results=(("example.com", "", "pass"),),
                   reasons=(("forwarded", ""), ("local_policy", "a, b"))),
            record(ip="192.0.2.2", count=1, dkim_results=(), spf_results=()),
        ]
        self.write("a.xml", report_xml(begin=DAY, end=DAY + 86399, records=recs,
                                       policy="<p>none</p>"))
        self.assertExit(self.ingest(self.path("a.xml")), EX_OK)

    def json(self, cmd):
        proc = self.report(cmd, "--format", "json")
        self.assertExit(proc, EX_OK)
        return json.loads(proc.stdout)

    def test_records_lists_are_aligned_arrays(self):
        r = next(x for x in self.json("records") if x["source_ip_address"] == "192.0.2.1")
        self.assertEqual(r["dkim_domains"], ["example.com", None, None, "other.example"])
        self.assertEqual(r["dkim_selectors"], ["s1", "s2", None, "s4"])
        self.assertEqual(r["dkim_results"], ["pass", "fail", "none", "pass"])
        self.assertEqual(r["spf_domains"], ["example.com"])
        self.assertEqual(r["spf_scopes"], [None])
        self.assertEqual(r["policy_override_reasons"], ["forwarded", "local_policy"])
        self.assertEqual(r["policy_override_comments"], [None, "a, b"])
        self.assertEqual(r["errors"], [])
        empty = next(x for x in self.json("records") if x["source_ip_address"] == "192.0.2.2")
        self.assertEqual((empty["dkim_domains"], empty["spf_results"]), ([], []))

    def test_records_csv_lists_keep_their_places(self):
        proc = self.report("records", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(proc.stdout.decode(), newline="")))
        r = next(x for x in rows if x["source_ip_address"] == "192.0.2.1")
        self.assertEqual(r["dkim_domains"], "example.com,,,other.example")
        self.assertEqual(r["dkim_selectors"], "s1,s2,none,s4")
        self.assertEqual(r["dkim_results"], "pass,fail,none,pass")
        self.assertEqual(r["policy_override_comments"], "none|a, b")
        self.assertEqual(r["begin_date"], "2026-11-24T00:00:00Z")

    def test_nulls_and_times_in_every_command(self):
        stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        for cmd in COMMANDS:
            with self.subTest(command=cmd):
                data = self.json(cmd)
                for row in data:
                    for k, v in row.items():
                        self.assertNotEqual(v, "", "%s: %s is \"\" (null expected)" % (cmd, k))
                        if k in ("begin", "end", "begin_date", "end_date"):
                            self.assertRegex(v, stamp)
        raw = self.report("policy", "--format", "json").stdout.decode()
        self.assertRegex(raw, r'"domain_dmarc_pass_pct":\d+(\.\d)?,')  # 92.4, not 92.400000000000006
        r = self.json("records")[0]
        self.assertIsNone(r["sp"])        # absent from the policy
        self.assertIsNone(r["pct"])
        self.assertEqual(self.json("reports")[0]["begin"], "2026-11-24T00:00:00Z")


class JsonDoc(Populated):
    def test_json_md_lists_every_key_of_every_command(self):
        text = open(os.path.join(SOURCE, "docs", "json.md"), encoding="utf-8").read()
        for cmd in COMMANDS:
            with self.subTest(command=cmd):
                section = text.split("\n## %s\n" % cmd, 1)[1].split("\n## ", 1)[0]
                keys = []
                for line in section.splitlines():
                    if line.startswith("| ") and not line.startswith("| key"):
                        keys += [k.strip() for k in line.split("|")[1].split(",")]
                header = self.out(cmd, "--format", "csv").split("\r\n", 1)[0].split(",")
                self.assertEqual(sorted(keys), sorted(header))


class SesJson(Case):
    """ses: the MAIL FROM and DKIM domain lists are JSON arrays, and the
    same items joined with commas in CSV (issue 12 item 8)."""

    def test_lists_are_arrays(self):
        day = int(time.time()) // 86400 * 86400 - 86400
        recs = [record(ip="54.240.7.%d" % (10 + i), count=3, dkim="fail", spf="fail",
                       envelope_from=ef,
                       dkim_results=(("amazonses.com", "uku4taia5b5tsbglxyj6zym32efj7xqv", "pass"),),
                       spf_results=((ef, "mfrom", "pass"),))
                for i, ef in enumerate(["eu-west-1.amazonses.com"])]
        self.write("r.xml", report_xml(records=recs, begin=day, end=day + 86399))
        self.assertExit(self.ingest("--offline", self.path("r.xml")), EX_OK)
        rows = json.loads(self.report("ses", "--format", "json").stdout)
        self.assertEqual(rows[0]["envelope_from"], ["eu-west-1.amazonses.com"])
        self.assertEqual(rows[0]["dkim_domains"], ["amazonses.com"])
        out = self.report("ses", "--format", "csv").stdout.decode()
        self.assertIn(",eu-west-1.amazonses.com,amazonses.com,", out)
