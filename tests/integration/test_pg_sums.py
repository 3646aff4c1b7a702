"""A big report's share of the rollup on PostgreSQL (store/pg-sums.c,
store/sum-runs.c):

- when no row of traffic has the report's day, domain and alignment
  modes, its sums are COPYed into traffic (on both write paths: a report
  under 2,000 records through staging, a bigger one straight into the
  tables);
- when such rows are there, the sums are added to them (ON CONFLICT);
- sums written out in runs (more groups than memory holds) are merged
  back, every key once, and then go the same ways;
- a report whose sums the server refuses leaves nothing, and the next run
  stores it.

In every case traffic must hold exactly what SQLite's holds for the same
reports (SQLite's is checked against its records by test_traffic), and
the server's log says which statement put the rows there.
"""
import gzip
import os
import re
import unittest

import test_traffic
from dmarctest import EX_OK, WRAPPED, gz, record, report_xml
from test_postgres import PgCase

DAY = 1700006400


def report(report_id, groups, records=None, offset=0, org="Example Receiver"):
    """A gzipped report of `records` records (default: one per group) in
    `groups` groups, keys offset by `offset`."""
    recs = []
    for i in range(records or groups):
        k = i % groups + offset
        recs.append(record(ip="10.%d.%d.%d" % (k >> 16, (k >> 8) & 255, k & 255), count=i % 4 + 1,
                           dkim="fail" if k % 5 == 0 else "pass",
                           disposition="quarantine" if k % 9 == 0 else "none",
                           dkim_results=(("example.com", "s%d" % (k % 3), "pass"),)))
    return gz(report_xml(org=org, report_id=report_id, begin=DAY, end=DAY + 86399, records=recs))


class RollupSums(PgCase):
    def import_both(self, name, data):
        """Imports into both stores; what the server logged for
        PostgreSQL's import, its statements on traffic."""
        path = self.write(name, data)
        self.assertExit(self.ingest(path), EX_OK)
        with open(os.path.join(self.pg.tmp, "server.log"), "rb") as f:
            f.seek(0, os.SEEK_END)
            self.assertExit(self.pg_ingest(path, env={
                "PGOPTIONS": "-c log_statement=all -c log_parameter_max_length=0"}), EX_OK)
            log = f.read().decode(errors="replace")
        return [s for s in re.findall(r"(?:statement|execute [^:]*): (.*)", log)
                if "INTO traffic" in s or "COPY traffic" in s]

    def assertSameRollup(self):
        lite = [[str(v) for v in row] for row in self.sql(test_traffic.ROLLUP)]
        self.assertEqual(self.psql(test_traffic.ROLLUP), lite)
        for cmd in ("sources", "ses", "policy"):
            self.assertEqual(self.pg_report(cmd, "--format", "csv").stdout,
                             self.report(cmd, "--format", "csv").stdout, cmd)
        return lite

    def test_sums_on_new_keys_are_copied_into_traffic(self):
        # 1,500 records go through staging, 5,000 straight to the tables
        for name, groups, records in (("staged", 1500, 1500), ("direct", 1200, 5000)):
            day = DAY if name == "staged" else DAY + 86400
            data = gz(report_xml(report_id=name, begin=day, end=day + 86399, records=[
                record(ip="10.0.%d.%d" % ((i % groups) >> 8, (i % groups) & 255), count=i % 3 + 1)
                for i in range(records)]))
            statements = self.import_both(name + ".xml.gz", data)
            self.assertEqual([s[:12] for s in statements], ["COPY traffic"], name)
        rows = self.assertSameRollup()
        self.assertEqual(len(rows), 1500 + 1200)
        self.assertEqual(sum(int(r[9]) for r in rows), 6500)

    def test_sums_on_taken_keys_add_up(self):
        self.import_both("a.xml.gz", report("a", 2000))
        # another receiver, the same day and domain: half its keys taken
        statements = self.import_both("b.xml.gz", report("b", 2000, offset=1000, org="Other"))
        self.assertEqual(len(statements), 1)
        self.assertIn("ON CONFLICT", statements[0])
        rows = self.assertSameRollup()
        self.assertEqual(len(rows), 3000)
        self.assertEqual(sum(int(r[9]) for r in rows), 4000)
        self.assertEqual(sum(1 for r in rows if r[9] == "2"), 1000)

    def test_sums_written_out_in_pieces(self):
        # more groups than the sums in memory hold (test_traffic.big_report)
        statements = self.import_both("big.xml.gz", test_traffic.big_report())
        self.assertEqual([s[:12] for s in statements], ["COPY traffic"])
        # the same records again in a second report: every key taken, and
        # each once in the statement (an INSERT may not update a row twice)
        again = gzip.decompress(test_traffic.big_report()).replace(b"<report_id>big<", b"<report_id>big2<")
        statements = self.import_both("big2.xml.gz", gz(again))
        self.assertEqual(len(statements), 1)
        self.assertIn("ON CONFLICT", statements[0])
        rows = self.assertSameRollup()
        self.assertEqual(len(rows), test_traffic.BIG_DISTINCT)
        self.assertEqual(sum(int(r[9]) for r in rows), 2 * test_traffic.BIG_RECORDS)

    def test_sums_refused_leave_nothing(self):
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        self.psql("ALTER TABLE traffic ADD CONSTRAINT no_ten CHECK (source_ip <> '10.0.7.208')")
        path = self.write("r.xml.gz", report("r", 3000))
        proc = self.pg_ingest(path)
        self.assertNotEqual(proc.returncode, EX_OK)
        self.assertIn(b"no_ten", proc.stderr)
        for table in ("reports", "records", "traffic"):
            self.assertEqual(self.psql("SELECT count(*) FROM %s" % table), [["0"]], table)
        self.psql("ALTER TABLE traffic DROP CONSTRAINT no_ten")
        self.assertExit(self.ingest(path), EX_OK)
        self.assertExit(self.pg_ingest(path), EX_OK)
        self.assertEqual(len(self.assertSameRollup()), 3000)

    @unittest.skipIf(WRAPPED, "valgrind writes its own files in TMPDIR")
    def test_sums_with_nowhere_to_go_leave_nothing(self):
        # the runs' file cannot be made: the report fails, named the cause
        path = self.write("big.xml.gz", test_traffic.big_report())
        proc = self.pg_ingest(path, env={"TMPDIR": os.path.join(self.tmp, "missing")})
        self.assertNotEqual(proc.returncode, EX_OK)
        self.assertIn(b"missing (TMPDIR)", proc.stderr)
        for table in ("reports", "records", "traffic"):
            self.assertEqual(self.psql("SELECT count(*) FROM %s" % table), [["0"]], table)
        statements = self.import_both("big.xml.gz", test_traffic.big_report())
        self.assertEqual([s[:12] for s in statements], ["COPY traffic"])
        self.assertEqual(len(self.assertSameRollup()), test_traffic.BIG_DISTINCT)
