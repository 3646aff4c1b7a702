"""dmarc-report's selection checks (issue 12, item 5): --since after
--until, empty, spaced or trailing-dot domains, dates before 2000 or after
tomorrow, and a --domain the database has no report for (exit 64 with the
domains it has)."""
import datetime
import json

from dmarctest import EX_OK, EX_USAGE, Case, report_xml, utc

DAY = utc(2026, 11, 24)
COMMANDS = ("reports", "sources", "ses", "records", "policy")


class Selection(Case):
    def setUp(self):
        super().setUp()
        self.write("in/a.xml", report_xml(report_id="a", domain="example.com", begin=DAY, end=DAY + 86399))
        self.write("in/b.xml", report_xml(report_id="b", domain="example.net", begin=DAY, end=DAY + 86399))
        self.assertExit(self.ingest(self.path("in")), EX_OK)

    def refused(self, *args, says):
        for cmd in COMMANDS:
            with self.subTest(command=cmd, args=args):
                proc = self.report(cmd, *args)
                self.assertExit(proc, EX_USAGE)
                self.assertEqual(proc.stdout, b"")
                self.assertIn(says, proc.stderr.decode())

    def test_since_after_until(self):
        self.refused("--since", "2026-11-30", "--until", "2026-11-01",
                     says="--since 2026-11-30 is after --until 2026-11-01")
        # the same day is a one-day range
        proc = self.report("reports", "--format", "json", "--since", "2026-11-24", "--until", "2026-11-24")
        self.assertEqual(len(json.loads(proc.stdout)), 2)

    def test_empty_and_bad_domains(self):
        self.refused("--domain", "", says="--domain: an empty domain")
        self.refused("--domain", "exa mple.com", says="no white space or control characters")
        self.refused("--domain", "example.com\n", says="--domain 'example.com\\n'")
        self.refused("--domain", ".", says="is not a domain")

    def test_trailing_dot_is_dropped_with_a_note(self):
        proc = self.report("reports", "--format", "json", "--domain", "Example.NET.")
        self.assertExit(proc, EX_OK)
        self.assertEqual([r["report_id"] for r in json.loads(proc.stdout)], ["b"])
        self.assertIn("--domain example.net.: using example.net", proc.stderr.decode())

    def test_dates_before_2000_are_refused(self):
        self.refused("--since", "1999-12-31", says="--since 1999-12-31: before 2000")
        self.refused("--until", "1970-01-01", says="--until 1970-01-01: before 2000")
        self.assertExit(self.report("reports", "--since", "2000-01-01"), EX_OK)

    def test_dates_after_tomorrow_get_a_word(self):
        later = (datetime.datetime.now(datetime.timezone.utc).date()
                 + datetime.timedelta(days=2)).isoformat()
        proc = self.report("reports", "--since", later)
        self.assertExit(proc, EX_OK)
        self.assertIn("--since %s is after tomorrow: no report can match" % later, proc.stderr.decode())
        proc = self.report("reports", "--format", "json", "--until", later)
        self.assertExit(proc, EX_OK)
        self.assertEqual(len(json.loads(proc.stdout)), 2)
        self.assertIn("the same as no --until", proc.stderr.decode())
        tomorrow = (datetime.datetime.now(datetime.timezone.utc).date()
                    + datetime.timedelta(days=1)).isoformat()
        self.assertEqual(self.report("reports", "--until", tomorrow).stderr, b"")

    def test_unknown_domain_lists_the_stored_ones(self):
        self.refused("--domain", "exmaple.com",
                     says="--domain exmaple.com: no stored report is for it; the database has "
                          "these domains: example.com, example.net")
        # one known and one unknown: still refused, naming the unknown one
        self.refused("--domain", "example.com", "--domain", "nothing.example",
                     says="--domain nothing.example: no stored report")

    def test_known_domain_outside_the_dates_is_an_empty_answer(self):
        proc = self.report("reports", "--domain", "example.com", "--until", "2026-11-01")
        self.assertExit(proc, EX_OK)
        self.assertIn("No reports match the selection", proc.stdout.decode())


class EmptyStore(Case):
    def test_a_domain_on_an_empty_database_says_it_is_empty(self):
        self.assertExit(self.ingest(self.write("x.json", b'{"policies":[]}')), 65)
        proc = self.report("reports", "--domain", "example.com")
        self.assertExit(proc, EX_OK)
        self.assertIn("No reports", proc.stdout.decode())
