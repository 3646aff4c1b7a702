"""Concurrency: readers while dmarc-ingest writes, and two dmarc-ingests.

The database is in WAL mode: dmarc-report reads while an import commits
batch after batch, and must always see whole reports (the record and
message counts of every report it lists are the report's).  A second
dmarc-ingest on the same database exits at once with status 75 and one line
saying why (the lock in ingest/main.c); nothing is ever stored twice.
"""
import json
import os
import random
import sqlite3
import subprocess
import time
import unittest

from dmarctest import (EX_OK, EX_TEMPFAIL, INGEST, REPORT, WRAPPED, Case, gz, record, report_xml, run,
                       wrap)

REPORTS = 240
BIG_EVERY = 40  # a large report (its own commit) every so often


def big_report(rng, rid, n):
    """Random selectors keep it large once compressed: at least 256 KiB,
    so it is committed on its own (import.c), in the middle of the run."""
    recs = []
    for i in range(n):
        recs.append(record(ip="2001:db8::%x:%x" % (i, rng.getrandbits(16)), count=i % 7 + 1,
                           header_from="example.com",
                           dkim_results=(("example.com", "%032x" % rng.getrandbits(128), "pass"),)))
    return report_xml(org="Big Receiver", report_id=rid, records=recs), n, sum(i % 7 + 1 for i in range(n))


@unittest.skipIf(WRAPPED, "depends on timing: not under a wrapper")
class Concurrency(Case):

    def setUp(self):
        super().setUp()
        rng = random.Random(75)
        self.expected = {}
        for i in range(REPORTS):
            if i % BIG_EVERY == BIG_EVERY // 2:
                rid = "big-%03d" % i
                xml, n, m = big_report(rng, rid, 10000)
                data = gz(xml)
                self.assertGreaterEqual(len(data), 256 << 10)
                self.write("in/r%03d-big.xml.gz" % i, data)
                self.expected[rid] = (n, m)
            rid = "r-%03d" % i
            n = i % 9 + 1
            xml = report_xml(report_id=rid, begin=1700006400 + i * 60, end=1700092799 + i * 60,
                             records=[record(ip="203.0.113.%d" % (k + 1), count=2) for k in range(n)])
            self.write("in/r%03d.xml.gz" % i, gz(xml))
            self.expected[rid] = (n, 2 * n)
        self.src = self.path("in")

    def start_ingest(self, *paths):
        child = subprocess.Popen(wrap([INGEST, "--db", self.db] + list(paths or [self.src])),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.reap, child)
        return child

    @staticmethod
    def reap(child):
        if child.poll() is None:  # a failed test left it running
            child.kill()
        child.communicate()

    def wait_for_schema(self, child, timeout=30):
        """Until the ingest has created the database (it takes the lock
        first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.poll() is not None:
                self.fail("dmarc-ingest ended before it could be raced: %s" % child.stderr.read().decode())
            if os.path.exists(self.db):
                try:
                    con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
                    try:
                        if con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'reports'").fetchone()[0]:
                            return
                    finally:
                        con.close()
                except sqlite3.Error:
                    pass
            time.sleep(0.005)
        self.fail("the database never appeared")

    def assertWhole(self, rows, what):
        for r in rows:
            self.assertIn(r["report_id"], self.expected, what)
            self.assertEqual((r["records"], r["messages"]), self.expected[r["report_id"]],
                             "%s: %s listed half stored" % (what, r["report_id"]))
        self.assertEqual(len({r["report_id"] for r in rows}), len(rows), what)

    def assertAllOnce(self):
        con = sqlite3.connect(self.db)
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
            rows = con.execute("SELECT report_id, record_count, message_count FROM reports").fetchall()
        finally:
            con.close()
        self.assertEqual(sorted(rows), sorted((k, v[0], v[1]) for k, v in self.expected.items()))

    def commands(self):
        """The dmarc-report commands (from --help) that run without
        arguments on a quiet database: each must run the same during an
        import."""
        out = run([REPORT, "--help"]).stdout.decode()
        names = []
        if "Commands:" in out:
            for line in out.split("Commands:", 1)[1].splitlines()[1:]:
                if not line.startswith("  ") or not line.strip():
                    break
                names.append(line.split()[0])
        return names

    def test_reports_read_while_ingest_writes(self):
        # which commands work on this database when nothing writes to it
        proc = self.ingest(self.path("in/r000.xml.gz"), db=self.path("quiet.db"))
        self.assertExit(proc, EX_OK)
        others = [c for c in self.commands() if c != "reports" and
                  self.report(c, "--format", "csv", db=self.path("quiet.db")).returncode == EX_OK]

        child = self.start_ingest()
        # (a reader that comes while the database is being created finds
        # no schema yet, and says so: not what is tested here)
        self.wait_for_schema(child)
        reads = partial = 0
        last = 0
        while True:
            running = child.poll() is None
            proc = self.report("reports", "--format", "json")
            self.assertExit(proc, EX_OK)
            rows = json.loads(proc.stdout.decode())
            self.assertWhole(rows, "read %d" % reads)
            self.assertGreaterEqual(len(rows), last, "a report vanished")
            last = len(rows)
            if running:
                reads += 1
                if 0 < len(rows) < len(self.expected):
                    partial += 1
                # one of the other commands a read, in turn: all of them
                # every read would make the reads too few to see the
                # import half done (there are eleven commands now)
                if others:
                    c = others[(reads - 1) % len(others)]
                    p = self.report(c, "--format", "csv")
                    self.assertExit(p, EX_OK)
                # and one snapshot: the records are the reports' records
                con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
                try:
                    con.execute("BEGIN")
                    n = con.execute("SELECT count(*) FROM records").fetchone()[0]
                    total = con.execute("SELECT coalesce(sum(record_count), 0) FROM reports").fetchone()[0]
                    con.execute("COMMIT")
                finally:
                    con.close()
                self.assertEqual(n, total, "a reader saw records of a report not committed")
            if not running:
                break
        out, err = child.communicate()
        self.assertEqual(child.returncode, EX_OK, err.decode())
        self.assertEqual(last, len(self.expected))
        self.assertGreaterEqual(reads, 3, "the import ended before it could be read")
        self.assertGreaterEqual(partial, 1, "no read saw the import half done")
        self.assertAllOnce()

    def test_second_ingest_exits_75_at_once(self):
        first = self.start_ingest()
        self.wait_for_schema(first)
        start = time.monotonic()
        second = self.ingest(self.src)
        elapsed = time.monotonic() - start
        still = first.poll() is None
        self.assertExit(second, EX_TEMPFAIL)
        err = second.stderr.decode().strip()
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("another dmarc-ingest is running", err)
        self.assertIn(self.db + ".lock", err)
        self.assertEqual(second.stdout, b"")
        self.assertLess(elapsed, 5.0, "the second dmarc-ingest waited")
        self.assertTrue(still, "the first dmarc-ingest ended before the second started: nothing was raced")
        out, err = first.communicate()
        self.assertEqual(first.returncode, EX_OK, err.decode())
        self.assertAllOnce()
        # afterwards the same command runs, and finds only duplicates
        again = self.ingest("-v", self.src)
        self.assertExit(again, EX_OK)
        self.assertIn("duplicates %d" % len(self.expected), again.stderr.decode())
        self.assertAllOnce()

    def test_many_ingests_started_together(self):
        children = [self.start_ingest() for _ in range(5)]
        codes = []
        for c in children:
            out, err = c.communicate()
            codes.append(c.returncode)
            if c.returncode == EX_TEMPFAIL:
                self.assertIn(b"another dmarc-ingest is running", err)
            else:
                self.assertEqual(c.returncode, EX_OK, err.decode())
        self.assertIn(EX_OK, codes)
        self.assertIn(EX_TEMPFAIL, codes)
        self.assertAllOnce()


if __name__ == "__main__":
    unittest.main()
