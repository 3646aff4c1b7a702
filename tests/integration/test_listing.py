"""dmarc-report reports: the listing of stored reports in every format, its
order, the selection options, and what it says when there is nothing."""
import csv
import io
import json

from dmarctest import EX_NOINPUT, EX_OK, EX_USAGE, REPORT, Case, record, report_xml, run, utc


class Listing(Case):
    def setUp(self):
        super().setUp()
        day = utc(2026, 11, 24)
        self.write("in/a.xml", report_xml(org="Zeta", report_id="z1", begin=day, end=day + 86399,
                                          records=[record(count=3), record(count=4)]))
        self.write("in/b.xml", report_xml(org="Alpha", report_id="a1", begin=day, end=day + 86399,
                                          domain="example.net"))
        self.write("in/c.xml", report_xml(org="Mid", report_id="m1", begin=day - 86400, end=day - 1,
                                          records=[record(count=10)]))
        self.assertExit(self.ingest(self.path("in")), EX_OK)

    def csv_rows(self, *args):
        proc = self.report("reports", "--format", "csv", *args)
        self.assertExit(proc, EX_OK)
        text = proc.stdout.decode("utf-8")
        self.assertTrue(text.startswith("org_name,report_id,domain,begin,end,records,messages\r\n"))
        return list(csv.DictReader(io.StringIO(text)))

    def test_csv_exact_and_sorted(self):
        rows = self.csv_rows()
        self.assertEqual([(r["org_name"], r["report_id"]) for r in rows],
                         [("Mid", "m1"), ("Alpha", "a1"), ("Zeta", "z1")])
        self.assertEqual(rows[2], {"org_name": "Zeta", "report_id": "z1", "domain": "example.com",
                                   "begin": "2026-11-24T00:00:00Z", "end": "2026-11-24T23:59:59Z",
                                   "records": "2", "messages": "7"})

    def test_json(self):
        proc = self.report("reports", "--format", "json")
        self.assertExit(proc, EX_OK)
        data = json.loads(proc.stdout)
        self.assertEqual(len(data), 3)
        self.assertEqual(data[0], {"org_name": "Mid", "report_id": "m1", "domain": "example.com",
                                   "begin": "2026-11-23T00:00:00Z", "end": "2026-11-23T23:59:59Z",
                                   "records": 1, "messages": 10})

    def test_table(self):
        proc = self.report("reports")
        self.assertExit(proc, EX_OK)
        lines = proc.stdout.decode().splitlines()
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[0].startswith("ORG"))
        self.assertTrue(all(len(l) <= 100 for l in lines))
        self.assertNotIn("\033[", proc.stdout.decode())  # no colour when not a terminal
        self.assertRegex(lines[3], r"^Zeta\s+z1\s+example\.com\s+2026-11-24 00:00\s+24\s+2\s+7$")

    def test_selection(self):
        self.assertEqual([r["report_id"] for r in self.csv_rows("--domain", "EXAMPLE.NET")], ["a1"])
        self.assertEqual([r["report_id"] for r in self.csv_rows("--domain", "example.net",
                                                                 "--domain", "example.com")],
                         ["m1", "a1", "z1"])
        # --since and --until are whole UTC days, both inclusive
        self.assertEqual([r["report_id"] for r in self.csv_rows("--since", "2026-11-24")], ["a1", "z1"])
        self.assertEqual([r["report_id"] for r in self.csv_rows("--until", "2026-11-23")], ["m1"])
        self.assertEqual([r["report_id"] for r in self.csv_rows("--since", "2026-11-23",
                                                                 "--until", "2026-11-23")], ["m1"])
        self.assertEqual(self.csv_rows("--since", "2026-11-25"), [])

    def test_empty_selection_says_so(self):
        proc = self.report("reports", "--domain", "example.net", "--until", "2026-11-23")
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stdout.decode().strip().count("\n"), 0)
        self.assertIn("No reports match the selection", proc.stdout.decode())
        proc = self.report("reports", "--domain", "example.net", "--until", "2026-11-23", "--format", "json")
        self.assertEqual(json.loads(proc.stdout), [])
        self.assertIn("No reports match", proc.stderr.decode())
        # a domain the database has no report for is a usage error
        # naming the domains it has (tests/integration/test_selection.py)
        proc = self.report("reports", "--domain", "nothing.example")
        self.assertExit(proc, EX_USAGE)
        self.assertIn("example.com, example.net", proc.stderr.decode())

    def test_usage_errors(self):
        self.assertExit(self.report("reports", "--format", "xml"), EX_USAGE)
        self.assertExit(self.report("reports", "--since", "yesterday"), EX_USAGE)
        self.assertExit(self.report("nosuchcommand"), EX_USAGE)
        self.assertExit(self.report(), EX_USAGE)
        help_ = run([REPORT, "--help"])
        self.assertExit(help_, EX_OK)
        self.assertIn("reports", help_.stdout.decode())


class NoData(Case):
    def test_missing_database(self):
        proc = self.report("reports")
        self.assertExit(proc, EX_NOINPUT)
        self.assertIn("no database at", proc.stderr.decode())

    def test_empty_database(self):
        self.assertExit(self.ingest(self.write("x.json", b'{"policies":[]}')), 65)
        proc = self.report("reports")
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stdout.decode(),
                         "No reports in the database yet: import some with dmarc-ingest.\n")
        proc = self.report("reports", "--format", "csv")
        self.assertEqual(proc.stdout, b"org_name,report_id,domain,begin,end,records,messages\r\n")
