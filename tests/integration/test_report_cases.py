"""dmarc-report sources, ses, records and policy on reports built for one
point each: sums across reports and receivers, --exit-code, the inclusive
date filters, empty databases and selections, CSV that stays inert in a
spreadsheet, JSON, the 100-column table, colour, and --sources."""
import csv
import io
import json
import os
import pty

from dmarctest import EX_NOINPUT, EX_OK, EX_USAGE, REPORT, Case, record, report_xml, run, utc

DAY = utc(2026, 11, 24)


def ses_default(ip="54.240.7.12", count=10, region="eu-west-1"):
    """SES with the default MAIL FROM of region and no Easy DKIM."""
    dom = "amazonses.com" if region == "us-east-1" else region + ".amazonses.com"
    return record(ip=ip, count=count, dkim="fail", spf="fail", envelope_from=dom,
                  dkim_results=(("amazonses.com", "sesselector", "pass"),),
                  spf_results=((dom, "mfrom", "pass"),))


def ses_healthy(ip="69.169.224.5", count=10):
    return record(ip=ip, count=count, envelope_from="mail.example.com",
                  dkim_results=(("example.com", "tok1", "pass"), ("amazonses.com", "sesselector", "pass")),
                  spf_results=(("mail.example.com", "mfrom", "pass"),))


def csv_rows(proc):
    return list(csv.DictReader(io.StringIO(proc.stdout.decode("utf-8"), newline="")))


class Sums(Case):
    def test_counts_add_up_across_reports_and_receivers(self):
        for i, org in enumerate(("Receiver A", "Receiver B", "Receiver C")):
            self.write("in/%d.xml" % i, report_xml(
                org=org, report_id="r%d" % i, begin=DAY, end=DAY + 86399,
                records=[ses_default(count=10 + i), ses_default(count=100),
                         ses_healthy(count=5)]))
        self.assertExit(self.ingest(self.path("in")), EX_OK)
        rows = csv_rows(self.report("ses", "--format", "csv"))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["messages"], str(10 + 11 + 12 + 300))
        self.assertEqual(rows[0]["cause"], "default-mail-from;no-easy-dkim;region-gap")
        src = {r["source"] + "/" + r["region"]: r for r in csv_rows(self.report("sources", "--format", "csv"))}
        self.assertEqual(src["Amazon SES/eu-west-1"]["messages"], "333")
        # 69.169.224.5: eu-central-1 by the /24 table
        self.assertEqual(src["Amazon SES/eu-central-1"]["messages"], "15")
        self.assertEqual(src["Amazon SES/eu-central-1"]["dmarc_pass"], "15")

    def test_tables_summarise_big_address_pools(self):
        recs = [ses_default(ip="54.240.7.%d" % i, count=100 + i) for i in range(15)]
        recs += [record(ip="198.51.100.%d" % i, count=1, dkim="fail", spf="fail", dkim_results=(),
                        spf_results=(("spoof.test", "mfrom", "fail"),)) for i in range(25)]
        self.write("a.xml", report_xml(records=recs, begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("a.xml")), EX_OK)
        text = self.report("ses").stdout.decode()
        self.assertIn("54.240.7.14 ", text)          # the busiest shown
        self.assertNotIn("54.240.7.4 ", text)        # the quietest summarised
        self.assertIn("... and 5 more addresses with %d messages" % sum(range(100, 105)), text)
        self.assertEqual(len(csv_rows(self.report("ses", "--format", "csv"))), 15)
        text = self.report("sources").stdout.decode()
        self.assertIn("... and 5 more unknown sources with 5 messages", text)
        self.assertEqual(len(csv_rows(self.report("sources", "--format", "csv"))), 26)

    def test_region_gap_needs_a_healthy_sibling(self):
        self.write("a.xml", report_xml(records=[ses_default()], begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("a.xml")), EX_OK)
        rows = csv_rows(self.report("ses", "--format", "csv"))
        self.assertEqual([r["cause"] for r in rows], ["default-mail-from;no-easy-dkim"])

    def test_healthy_only_is_quiet(self):
        self.write("a.xml", report_xml(records=[ses_healthy()], begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("a.xml")), EX_OK)
        # DAY is older than --max-age's default (exit 3: test_policy_verdicts.py)
        proc = self.report("ses", "--exit-code", "--max-age", "36500")
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stdout.decode().count("\n"), 1)
        self.assertIn("No SES problems", proc.stdout.decode())
        proc = self.report("ses", "--exit-code", "--format", "csv", "--max-age", "36500")
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stdout, b"region,source_ip,header_from,messages,spf_aligned,"
                                      b"dkim_aligned,envelope_from,dkim_domains,cause,fix,"
                                      b"severity,region_evidence,notes,evidence\r\n")

    def test_no_ses_at_all(self):
        self.write("a.xml", report_xml(records=[record(ip="198.51.100.9")], begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("a.xml")), EX_OK)
        proc = self.report("ses", "--exit-code", "--max-age", "36500")
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stdout, b"No Amazon SES mail in the selected reports.\n")


class Dates(Case):
    def setUp(self):
        super().setUp()
        # reports beginning on the 23rd at 00:00, the 24th at 23:59:59 and
        # the 25th at 00:00, one failing SES record each
        for rid, begin, n in (("d23", utc(2026, 11, 23), 1), ("d24", utc(2026, 11, 24, 23, 59, 59), 2),
                              ("d25", utc(2026, 11, 25), 4)):
            self.write("in/%s.xml" % rid, report_xml(report_id=rid, begin=begin, end=begin + 3600,
                                                     records=[ses_default(count=n)]))
        self.assertExit(self.ingest(self.path("in")), EX_OK)

    def messages(self, command, *args):
        rows = csv_rows(self.report(command, "--format", "csv", *args))
        return sum(int(r["messages" if command != "records" else "count"]) for r in rows)

    def test_boundaries_are_inclusive_days(self):
        for cmd in ("ses", "sources", "records"):
            with self.subTest(command=cmd):
                self.assertEqual(self.messages(cmd), 7)
                self.assertEqual(self.messages(cmd, "--since", "2026-11-24", "--until", "2026-11-24"), 2)
                self.assertEqual(self.messages(cmd, "--since", "2026-11-24"), 6)
                self.assertEqual(self.messages(cmd, "--until", "2026-11-24"), 3)
                self.assertEqual(self.messages(cmd, "--until", "2026-11-23"), 1)
                self.assertEqual(self.messages(cmd, "--since", "2026-11-26"), 0)
        rows = csv_rows(self.report("policy", "--format", "csv", "--since", "2026-11-24"))
        self.assertEqual({(r["reports"], r["days"], r["first_day"], r["last_day"]) for r in rows},
                         {("2", "2", "2026-11-24", "2026-11-25")})

    def test_empty_selection(self):
        for cmd in ("sources", "ses", "records", "policy"):
            with self.subTest(command=cmd):
                proc = self.report(cmd, "--since", "2027-01-01", "--exit-code")
                # ses and policy: an empty selection is exit 3 (is ingest
                # running?); the others ignore --exit-code
                self.assertExit(proc, 3 if cmd in ("ses", "policy") else EX_OK)
                self.assertEqual(proc.stdout.decode().count("\n"), 1)
                self.assertIn("match the selection", proc.stdout.decode())
                proc = self.report(cmd, "--until", "2026-11-01", "--format", "json")
                self.assertExit(proc, EX_OK)
                self.assertEqual(json.loads(proc.stdout), [])
                self.assertIn("match the selection", proc.stderr.decode())


class Empty(Case):
    def test_empty_database(self):
        self.assertExit(self.ingest(self.write("x.json", b'{"policies":[]}')), 65)
        for cmd in ("sources", "ses", "records", "policy"):
            with self.subTest(command=cmd):
                proc = self.report(cmd)
                self.assertExit(proc, EX_OK)
                self.assertEqual(proc.stdout.decode().count("\n"), 1)
                self.assertIn("in the database yet", proc.stdout.decode())
                proc = self.report(cmd, "--format", "csv")
                self.assertExit(proc, EX_OK)
                self.assertEqual(proc.stdout.count(b"\r\n"), 1)  # the header only
                self.assertEqual(json.loads(self.report(cmd, "--format", "json").stdout), [])

    def test_missing_database(self):
        self.assertExit(self.report("ses"), EX_NOINPUT)


HOSTILE = '=HYPERLINK("http://evil.example/?x","click"), "quoted"\nsecond line'


class Hostile(Case):
    def setUp(self):
        super().setUp()
        x = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        rec = record(ip="203.0.113.5", count=3, disposition="quarantine", dkim="fail", spf="fail",
                     envelope_from="mx.evil.test", dkim_results=(),
                     spf_results=(("mx.evil.test", "mfrom", "fail"),),
                     reasons=(("local_policy", x), ("other", "+SUM(1,2)")))
        self.write("in/a.xml", report_xml(org=x, report_id="-1+2", begin=DAY, end=DAY + 86399,
                                          records=[rec, ses_default()]))
        self.assertExit(self.ingest(self.path("in")), EX_OK)

    def test_csv_roundtrips_and_stays_inert(self):
        proc = self.report("records", "--format", "csv")
        self.assertExit(proc, EX_OK)
        rows = csv_rows(proc)
        self.assertEqual(len(rows), 2)
        r = next(r for r in rows if r["source_ip_address"] == "203.0.113.5")
        # python's csv module reads back exactly what was stored, with the
        # apostrophe that keeps a spreadsheet from evaluating it
        self.assertEqual(r["org_name"], "'" + HOSTILE)
        self.assertEqual(r["report_id"], "'-1+2")
        self.assertEqual(r["policy_override_comments"], "'" + HOSTILE + "|+SUM(1,2)")
        self.assertEqual(r["policy_override_reasons"], "local_policy,other")
        self.assertEqual(r["count"], "3")
        for row in rows:
            for name, value in row.items():
                self.assertFalse(value[:1] in ("=", "+", "-", "@", "\t", "\r"),
                                 "%s = %r is live in a spreadsheet" % (name, value))
        # RFC 4180: CRLF between records, the newline inside a quoted field
        self.assertIn(b'\nsecond line', proc.stdout)
        self.assertTrue(proc.stdout.endswith(b"\r\n"))

    def test_json_is_exact(self):
        data = json.loads(self.report("records", "--format", "json").stdout)
        r = next(r for r in data if r["source_ip_address"] == "203.0.113.5")
        self.assertEqual(r["org_name"], HOSTILE)  # JSON needs no neutralising
        self.assertEqual(r["count"], 3)
        self.assertIs(r["dmarc_aligned"], False)

    def test_tables_fit(self):
        for cmd in ("sources", "ses", "records", "policy"):
            text = self.report(cmd, env={"COLUMNS": "100"}).stdout.decode("utf-8")
            for line in text.splitlines():
                self.assertLessEqual(len(line), 100, "%s: %r" % (cmd, line))


class Wide(Case):
    def test_long_names_and_ipv6_fit_in_100_columns(self):
        long_from = ("a" * 60) + ".example.com"
        recs = [ses_default(ip="54.240.7.%d" % i, count=i + 1) for i in range(3)]
        recs.append(record(ip="2001:db8:ffff:ffff:ffff:ffff:ffff:fff1", count=9, dkim="fail", spf="fail",
                           header_from=long_from, envelope_from="b" * 50 + ".test",
                           dkim_results=(), spf_results=(("b" * 50 + ".test", "mfrom", "fail"),)))
        recs.append(record(ip="54.240.9.9", count=4, dkim="fail", spf="fail", header_from=long_from,
                           envelope_from="us-west-2.amazonses.com",
                           dkim_results=(("c" * 70 + ".example.com", "s", "fail"),
                                         ("amazonses.com", "x", "pass")),
                           spf_results=(("us-west-2.amazonses.com", "mfrom", "pass"),)))
        self.write("a.xml", report_xml(org="An Organisation With A Really Long Name " * 3,
                                       domain=long_from, records=recs, begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("a.xml")), EX_OK)
        for cmd in ("sources", "ses", "records", "policy"):
            with self.subTest(command=cmd):
                proc = self.report(cmd, env={"COLUMNS": "100"})
                self.assertIn(proc.returncode, (0,))
                for line in proc.stdout.decode("utf-8").splitlines():
                    self.assertLessEqual(len(line), 100, "%s: %r" % (cmd, line))


class Colour(Case):
    def on_tty(self, *args, env=None):
        master, slave = pty.openpty()
        full = dict(os.environ)
        full.pop("NO_COLOR", None)
        full.update(env or {})
        import subprocess
        p = subprocess.run([REPORT, "--db", self.db] + list(args), stdout=slave,
                           stderr=subprocess.PIPE, env=full, timeout=60)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        self.assertEqual(p.returncode, 0, p.stderr)
        return out

    def test_colour_only_on_a_terminal_without_no_color(self):
        self.write("a.xml", report_xml(records=[ses_default(), ses_healthy()], begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("a.xml")), EX_OK)
        for cmd in ("sources", "ses", "policy"):
            with self.subTest(command=cmd):
                self.assertIn(b"\033[1m", self.on_tty(cmd))
                self.assertNotIn(b"\033[", self.on_tty(cmd, env={"NO_COLOR": "1"}))
                self.assertNotIn(b"\033[", self.report(cmd).stdout)


class UserSources(Case):
    def setUp(self):
        super().setUp()
        self.write("a.xml", report_xml(begin=DAY, end=DAY + 86399, records=[
            record(ip="198.51.100.23", count=5, dkim="fail", spf="fail", envelope_from="relay.example.com",
                   dkim_results=(), spf_results=(("relay.example.com", "mfrom", "softfail"),)),
            record(ip="203.0.113.9", count=7, dkim="fail", spf="fail", envelope_from="example.com",
                   dkim_results=(), spf_results=(("example.com", "mfrom", "fail"),)),
        ]))
        self.assertExit(self.ingest(self.path("a.xml")), EX_OK)

    def test_names_and_ses_ranges_from_the_file(self):
        f = self.write("senders.csv", "cidr_or_domain,name\n198.51.100.0/24,Office relay\n"
                                      "203.0.113.9,Amazon SES\n")
        for args, env in ((("--sources", f), None), ((), {"DMARCSIFT_SOURCES": f})):
            rows = csv_rows(self.report("sources", "--format", "csv", *args, env=env))
            self.assertEqual({(r["source"], r["region"]) for r in rows},
                             {("Office relay", ""), ("Amazon SES", "unknown")})
        # a dedicated SES address: no DKIM at all, SPF failing for the
        # MAIL FROM on the From domain, the region unknown
        rows = csv_rows(self.report("ses", "--format", "csv", "--sources", f))
        self.assertEqual([(r["source_ip"], r["region"], r["cause"]) for r in rows],
                         [("203.0.113.9", "unknown", "no-easy-dkim;mail-from-spf-fail")])
        policy = csv_rows(self.report("policy", "--format", "csv", "--sources", f))
        self.assertEqual({r["known_source"] for r in policy}, {"true"})
        self.assertEqual({r["ready"] for r in policy}, {"false"})
        # without the file both are unknown, named by address
        rows = csv_rows(self.report("sources", "--format", "csv"))
        self.assertEqual({r["source"] for r in rows}, {"198.51.100.23", "203.0.113.9"})

    def test_bad_file_is_a_usage_error(self):
        f = self.write("bad.csv", "198.51.100.0/40,Nope\n")
        proc = self.report("sources", "--sources", f)
        self.assertExit(proc, EX_USAGE)
        self.assertIn("bad.csv:1:", proc.stderr.decode())
        proc = self.report("ses", "--sources", self.path("missing.csv"))
        self.assertExit(proc, EX_USAGE)
        self.assertIn("missing.csv", proc.stderr.decode())
        # the listing of reports does not need the file
        self.assertExit(self.report("reports", "--sources", f), EX_OK)

    def test_help_lists_the_commands(self):
        proc = run([REPORT, "--help"])
        self.assertExit(proc, EX_OK)
        for word in ("sources", "ses", "records", "policy", "--sources", "--exit-code"):
            self.assertIn(word, proc.stdout.decode())
