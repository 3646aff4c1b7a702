"""Crash safety: dmarc-ingest killed with SIGKILL at random moments.

A directory of a few hundred reports (small XML, gzip and zip files, and
some large enough, at least 256 KiB compressed, to be parsed on the
pipeline's worker thread) is imported again and again, each run killed
after a random delay; the database is carried over from one run to the
next, as it would be from one cron run to the next (and started afresh once
everything is in, so that the kills keep interrupting imports).  After every kill the
database must pass PRAGMA integrity_check and hold only whole reports (as
many records as its record_count, its raw payload), and a final run must
leave every report stored exactly once.

The delays come from a seeded generator (DMARCSIFT_CRASH_SEED to vary it;
a failure prints the seed and the run).
"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import unittest
import zipfile

from dmarctest import EX_OK, INGEST, WRAPPED, Case, gz, record, report_xml, sanitized, wrap, zipped

SEED = int(os.environ.get("DMARCSIFT_CRASH_SEED", "20261127"))
KILLS = 20
PIPELINE_BYTES = 256 << 10


def large_report(rng, report_id, n):
    """A report whose records carry random strings, so that it stays large
    once compressed."""
    recs = []
    for i in range(n):
        token = "%032x" % rng.getrandbits(128)
        recs.append(
            "<record><row><source_ip>2001:db8:%x:%x::%x</source_ip><count>%d</count><policy_evaluated>"
            "<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>"
            "<identifiers><header_from>example.com</header_from></identifiers><auth_results><dkim>"
            "<domain>example.com</domain><selector>s%s</selector><result>pass</result><human_result>%s"
            "</human_result></dkim><spf><domain>example.com</domain><result>fail</result></spf>"
            "</auth_results></record>" % (rng.getrandbits(16), rng.getrandbits(16), i, i % 5 + 1,
                                         token[:12], token))
    return report_xml(org="Big Receiver", report_id=report_id, records=recs), n, sum(i % 5 + 1 for i in range(n))


@unittest.skipIf(WRAPPED, "kills the program at random moments: not under a wrapper")
class CrashSafety(Case):

    def make_inputs(self, rng):
        """Writes the directory; returns {report_id: (records, messages)}."""
        # small reports (XML, gzip, zip), and gzip files of at least 256
        # KiB, parsed on the pipeline's worker thread; fewer under ASan,
        # which parses several times slower: the kills matter, not the size
        SMALL, LARGE = (120, 2) if sanitized() else (300, 6)
        expected = {}
        big_at = {int(SMALL * (k + 1) / (LARGE + 1)) for k in range(LARGE)}
        for i in range(SMALL):
            if i in big_at:
                rid = "big-%03d" % i
                xml, nrec, nmsg = large_report(rng, rid, 9000)
                data = gz(xml)
                self.assertGreaterEqual(len(data), PIPELINE_BYTES)
                self.write("in/r%03d.xml.gz" % i, data)
                expected[rid] = (nrec, nmsg)
            rid = "small-%03d" % i
            n = rng.randint(1, 12)
            recs = [record(ip="198.51.%d.%d" % (i % 250, k + 1), count=k + 1) for k in range(n)]
            xml = report_xml(report_id=rid, begin=1700006400 + i * 3600, end=1700092799 + i * 3600,
                             records=recs)
            kind = i % 3
            if kind == 0:
                self.write("in/r%03d-a.xml" % i, xml)
            elif kind == 1:
                self.write("in/r%03d-a.xml.gz" % i, gz(xml))
            else:
                self.write("in/r%03d-a.zip" % i, zipped([("report.xml", xml)]))
            expected[rid] = (n, n * (n + 1) // 2)
        # a duplicate in another form, and a large plain XML file
        self.write("in/zz-duplicate.xml.gz", gz(report_xml(
            report_id="small-000", begin=1700006400, end=1700092799,
            records=[record(ip="198.51.0.%d" % (k + 1), count=k + 1) for k in range(expected["small-000"][0])])))
        xml, nrec, nmsg = large_report(rng, "big-plain", 3000)
        self.assertGreaterEqual(len(xml), PIPELINE_BYTES)
        self.write("in/zz-plain.xml", xml)
        expected["big-plain"] = (nrec, nmsg)
        return expected

    def check(self, expected, what):
        """The database after a kill: sound, and only whole reports.
        Returns the number of reports stored."""
        if not os.path.exists(self.db):
            return 0  # killed before the database was created
        con = sqlite3.connect("file:%s?mode=rw" % self.db, uri=True)
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)], what)
            self.assertEqual(con.execute("PRAGMA foreign_key_check").fetchall(), [], what)
            tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if con.execute("PRAGMA user_version").fetchone()[0] == 0:
                # killed before the schema was committed: all or nothing
                self.assertEqual(tables, 0, what)
                return 0
            rows = con.execute(
                "SELECT r.report_id, r.record_count, r.message_count, "
                "(SELECT count(*) FROM records c WHERE c.report = r.id), "
                "(SELECT coalesce(sum(count), 0) FROM records c WHERE c.report = r.id), "
                "(SELECT count(*) FROM raw_payloads p WHERE p.id = r.raw_payload AND length(p.data) = p.size "
                "AND p.size > 0), r.ingested_at FROM reports r").fetchall()
            for rid, nrec, nmsg, rows_rec, rows_msg, raw, at in rows:
                self.assertIn(rid, expected, what)
                self.assertEqual((nrec, nmsg), expected[rid], "%s: %s" % (what, rid))
                self.assertEqual((rows_rec, rows_msg), (nrec, nmsg), "%s: %s half stored" % (what, rid))
                self.assertEqual(raw, 1, "%s: %s has no raw payload" % (what, rid))
                self.assertGreater(at, 0, "%s: %s is a provisional row" % (what, rid))
            self.assertEqual(len({r[0] for r in rows}), len(rows), what)
            # every record has its one DKIM and one SPF result, no orphans
            nrec = con.execute("SELECT count(*) FROM records").fetchone()[0]
            self.assertEqual(nrec, sum(r[1] for r in rows), what)
            self.assertEqual(con.execute("SELECT count(*) FROM dkim_results").fetchone()[0], nrec, what)
            self.assertEqual(con.execute("SELECT count(*) FROM spf_results").fetchone()[0], nrec, what)
            return len(rows)
        finally:
            con.close()

    def test_sigkill_at_random_moments(self):
        rng = random.Random(SEED)
        expected = self.make_inputs(rng)
        src = self.path("in")

        # how long an uninterrupted import takes here (the delays are drawn
        # within it), into a database of its own
        start = time.monotonic()
        proc = self.ingest(src, db=self.path("scratch.db"))
        full = time.monotonic() - start
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.count("reports", db=self.path("scratch.db")), len(expected))

        kills = partial = runs = episodes = 0
        while kills < KILLS:
            runs += 1
            self.assertLess(runs, 4 * KILLS, "seed %d: the runs end before they can be killed" % SEED)
            what = "seed %d, run %d" % (SEED, runs)
            child = subprocess.Popen(wrap([INGEST, "--db", self.db, src]), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.0, full * 0.9))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
            err = child.communicate()[1]
            if child.returncode == -signal.SIGKILL:
                kills += 1
            else:  # it had finished (perhaps just before the signal)
                self.assertEqual(child.returncode, EX_OK, "%s: %s" % (what, err.decode()))
            stored = self.check(expected, what + (" (killed)" if child.returncode < 0 else ""))
            if 0 < stored < len(expected) and child.returncode < 0:
                partial += 1
            if stored == len(expected):
                # all in: start over, so that the next kills interrupt an
                # import again rather than runs that only find duplicates
                episodes += 1
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(self.db + suffix):
                        os.unlink(self.db + suffix)

        print("seed %d: %d kills in %d runs, %d of them in the middle of an import; %d imports completed "
              "(%.2f s uninterrupted)" % (SEED, kills, runs, partial, episodes, full), file=sys.stderr)
        # the kills must have interrupted the import itself, not only runs
        # that had nothing left to store
        self.assertGreaterEqual(partial, KILLS // 2, "seed %d: only %d kills left a partial import"
                                % (SEED, partial))

        proc = self.ingest(src)
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.check(expected, "final run"), len(expected))
        self.assertEqual(sorted(r[0] for r in self.sql("SELECT report_id FROM reports")), sorted(expected))
        # and once more: nothing is added
        proc = self.ingest(src)
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.count("reports"), len(expected))


if __name__ == "__main__":
    unittest.main()
