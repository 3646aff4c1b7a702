"""The PostgreSQL backend (issue 15) against a real server started by the
fixture (tests/lib/pgfixture.py: initdb into a temporary directory, a
loopback port); skipped, saying why, when the PostgreSQL binaries are
absent or dmarcsift was built without libpq.

- The report tests of test_report_cases.py, test_report_examples.py,
  test_listing.py and test_fidelity.py run again with every import made
  into SQLite *and* PostgreSQL, and every dmarc-report command run on both:
  the outputs must be the same bytes, the exit status the same.
- The store itself: schema and --migrate-only, duplicates, the rollup
  against the records, payloads kept byte for byte, roles with the grants
  docs/postgresql.md gives, a kill -9 in the middle of batches, and two
  writers at once (two "hosts") storing every report once.
"""
import gzip
import os
import random
import signal
import subprocess
import time
import unittest

import pgfixture
import test_fidelity
import test_listing
import test_report_cases
import test_report_examples
from dmarctest import (EX_OK, EX_TEMPFAIL, EXAMPLES, INGEST, REPORT, WRAPPED, Case, gz, record,
                       report_xml, run, zipped)


def built_with_libpq():
    proc = run([REPORT, "--db", "postgresql://nobody@127.0.0.1:1/none", "reports"])
    return b"no PostgreSQL support" not in proc.stderr


class PgCase(Case):
    """A test with a server of its own and an empty database on it."""

    def setUp(self):
        # the server first: the setUp of a mirrored class imports at once
        if not built_with_libpq():
            self.skipTest("dmarcsift was built without libpq (install libpq-dev)")
        self.pg = pgfixture.Server()
        self.addCleanup(self.pg.stop)
        self.pgdb = self.pg.create_database()
        super().setUp()

    def psql(self, sql, url=None):
        return self.pg.psql(url or self.pgdb, sql)

    def pg_ingest(self, *args, input=None, env=None, url=None):
        return run([INGEST, "--db", url or self.pgdb] + list(args), input=input, env=env)

    def pg_report(self, *args, env=None, url=None):
        return run([REPORT, "--db", url or self.pgdb] + list(args), env=env)


class BothBackends(PgCase):
    """Imports go to both stores; dmarc-report must print the same on both."""

    def ingest(self, *args, input=None, env=None, db=None):
        res = super().ingest(*args, input=input, env=env, db=db)
        if db is None or db == self.db:
            pg = self.pg_ingest(*args, input=input, env=env)
            self.assertEqual(pg.returncode, res.returncode,
                             "PostgreSQL: %s\nSQLite: %s" % (pg.stderr.decode(errors="replace"),
                                                             res.stderr.decode(errors="replace")))
        return res

    def report(self, *args, env=None, db=None):
        res = super().report(*args, env=env, db=db)
        if db is None or db == self.db:
            pg = self.pg_report(*args, env=env)
            self.assertEqual(self.comparable(pg.stdout.decode(errors="replace")),
                             self.comparable(res.stdout.decode(errors="replace")),
                             "dmarc-report %s: PostgreSQL and SQLite differ" % " ".join(args))
            self.assertEqual(pg.returncode, res.returncode,
                             "PostgreSQL: %s\nSQLite: %s" % (pg.stderr.decode(errors="replace"),
                                                             res.stderr.decode(errors="replace")))
            self.assertEqual(self.comparable(pg.stderr.decode(errors="replace").replace(self.pgdb, "DB")),
                             self.comparable(res.stderr.decode(errors="replace").replace(self.db, "DB")))
        return res


    def comparable(self, out):
        """What of dmarc-report's output must be the same on both."""
        return out


def mirror(module, into=__name__):
    """module's test classes, each run through BothBackends, as classes of
    the module named into."""
    out = {}
    for name in dir(module):
        cls = getattr(module, name)
        if isinstance(cls, type) and issubclass(cls, Case) and cls.__module__ == module.__name__:
            out["Pg" + name] = type("Pg" + name, (BothBackends, cls), {"__module__": into})
    return out


for _module in (test_report_cases, test_report_examples, test_listing, test_fidelity):
    globals().update(mirror(_module))
del _module


def example_paths():
    return sorted(os.path.join(EXAMPLES, n) for n in os.listdir(EXAMPLES))


class Store(PgCase):
    def test_migrate_only_creates_the_schema_and_nothing_else(self):
        proc = self.pg_ingest("--migrate-only")
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.psql("SELECT version FROM dmarcsift_schema"), [["4"]])
        self.assertEqual(self.psql("SELECT count(*) FROM reports"), [["0"]])
        # payloads are compressed already: the server does not try again
        self.assertEqual(self.psql("SELECT attstorage FROM pg_attribute WHERE attrelid = "
                                   "'raw_payloads'::regclass AND attname = 'data'"), [["e"]])
        # records are partitioned by month, with a DEFAULT partition
        parts = [r[0] for r in self.psql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'records' ORDER BY 1")]
        self.assertIn("records_default", parts)
        self.assertGreaterEqual(len(parts), 5)
        again = self.pg_ingest("--migrate-only")
        self.assertExit(again, EX_OK)
        self.assertEqual(self.psql("SELECT count(*) FROM dmarcsift_schema"), [["1"]])
        self.assertExit(self.pg_ingest("--migrate-only", EXAMPLES), 64)

    def test_types_duplicates_and_payloads(self):
        paths = example_paths()
        self.assertExit(self.pg_ingest(*paths), EX_OK)
        n = int(self.psql("SELECT count(*) FROM reports")[0][0])
        self.assertGreater(n, 3)
        types = dict(self.psql("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_name IN ('reports', 'records', 'raw_payloads') AND "
                               "column_name IN ('begin_ts', 'source_ip', 'data')"))
        self.assertEqual(types, {"begin_ts": "timestamp with time zone", "source_ip": "inet",
                                 "data": "bytea"})
        # every report whole: its records, and its payload as received
        self.assertEqual(self.psql(
            "SELECT count(*) FROM reports rp WHERE record_count <> "
            "(SELECT count(*) FROM records r WHERE r.report = rp.id)"), [["0"]])
        # (plain XML kept gzip-compressed: payload.h)
        kept = {os.path.basename(r[0]): (r[1], bytes.fromhex(r[2][2:])) for r in self.psql(
            "SELECT name, format, data FROM raw_payloads")}
        compared = 0
        for p in paths:
            name = os.path.basename(p)
            if name in kept:
                with open(p, "rb") as f:
                    data = f.read()
                fmt, blob = kept[name]
                if name.endswith(".xml"):
                    self.assertEqual((fmt, gzip.decompress(blob)), ("gzip", data), name)
                else:
                    self.assertEqual(blob, data, name)
                compared += 1
        self.assertGreaterEqual(compared, 2)  # the .xml and the .xml.gz example
        # the second time, everything is a duplicate, and nothing is added
        before = self.psql("SELECT count(*), (SELECT count(*) FROM records), "
                           "(SELECT sum(messages) FROM traffic) FROM reports")
        again = self.pg_ingest("-v", *paths)
        self.assertExit(again, EX_OK)
        self.assertIn(b"duplicates %d" % n, again.stderr)
        self.assertEqual(self.psql("SELECT count(*), (SELECT count(*) FROM records), "
                                   "(SELECT sum(messages) FROM traffic) FROM reports"), before)

    def test_traffic_rollup_matches_the_records(self):
        self.assertExit(self.pg_ingest(*example_paths()), EX_OK)
        rollup = self.psql(
            "SELECT domain, source_ip, sum(records), sum(messages), sum(dkim_aligned), "
            "sum(spf_aligned), sum(dmarc_pass), sum(quarantined), sum(rejected) FROM traffic "
            "GROUP BY 1, 2 ORDER BY 1, 2")
        direct = self.psql(
            "SELECT rp.domain, coalesce(host(r.source_ip), ''), count(*), sum(r.count), "
            "sum(CASE WHEN r.dkim = 'pass' THEN r.count ELSE 0 END), "
            "sum(CASE WHEN r.spf = 'pass' THEN r.count ELSE 0 END), "
            "sum(CASE WHEN r.dkim = 'pass' OR r.spf = 'pass' THEN r.count ELSE 0 END), "
            "sum(CASE WHEN r.disposition = 'quarantine' THEN r.count ELSE 0 END), "
            "sum(CASE WHEN r.disposition = 'reject' THEN r.count ELSE 0 END) "
            "FROM reports rp JOIN records r ON r.report = rp.id GROUP BY 1, 2 ORDER BY 1, 2")
        self.assertEqual(rollup, direct)
        self.assertGreater(len(rollup), 5)

    def test_roles_from_the_documentation(self):
        """docs/postgresql.md: the owner migrates, the ingest role imports,
        the report role reads, and may not write."""
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        dbname = self.pgdb.rsplit("/", 1)[1]
        self.psql("CREATE ROLE dmarc_ingest LOGIN; CREATE ROLE dmarc_report LOGIN; "
                  "GRANT CONNECT, TEMPORARY ON DATABASE %s TO dmarc_ingest; "
                  "GRANT CONNECT ON DATABASE %s TO dmarc_report; "
                  "GRANT USAGE ON SCHEMA public TO dmarc_ingest, dmarc_report; "
                  "GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO dmarc_ingest; "
                  "GRANT UPDATE ON traffic, imap_state, source_names, ingest_log TO dmarc_ingest; "
                  "GRANT DELETE ON reports, records, override_reasons, traffic TO dmarc_ingest; "
                  "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO dmarc_ingest; "
                  "GRANT SELECT ON ALL TABLES IN SCHEMA public TO dmarc_report" % (dbname, dbname))
        ingest_url = self.pgdb.replace("dmarc@", "dmarc_ingest@")
        report_url = self.pgdb.replace("dmarc@", "dmarc_report@")
        self.assertExit(self.pg_ingest(*example_paths(), url=ingest_url), EX_OK)
        # a salvaged copy replaced by the complete one: the grants suffice
        import test_hostile2
        for name in ("partial", "complete"):
            self.assertExit(self.pg_ingest(self.write(name + ".xml", getattr(test_hostile2, name.upper())),
                                           url=ingest_url), EX_OK)
        self.assertEqual(self.psql("SELECT salvaged FROM reports WHERE report_id = 'best-1'"), [["0"]])
        owner = self.pg_report("sources", "--format", "csv")
        reader = self.pg_report("sources", "--format", "csv", url=report_url)
        self.assertExit(reader, EX_OK)
        self.assertEqual(reader.stdout, owner.stdout)
        denied = self.pg_ingest(*example_paths(), url=report_url)
        self.assertNotEqual(denied.returncode, EX_OK)
        self.assertIn(b"permission denied", denied.stderr)

    def test_connection_refused_is_clear(self):
        proc = self.pg_report("reports", url="postgresql://dmarc@127.0.0.1:1/none")
        self.assertNotEqual(proc.returncode, EX_OK)
        self.assertIn(b"cannot connect to the database postgresql://dmarc@127.0.0.1:1/none",
                      proc.stderr)


def many_reports(case, n):
    """n small reports in case's in/ directory, in XML, gzip and zip; returns
    {report_id: records}."""
    expected = {}
    for i in range(n):
        rid = "pg-%04d" % i
        k = i % 7 + 1
        recs = [record(ip="198.51.%d.%d" % (i % 250, j + 1), count=j + 1) for j in range(k)]
        xml = report_xml(report_id=rid, begin=1700006400 + i * 3600, end=1700092799 + i * 3600,
                         records=recs)
        if i % 3 == 0:
            case.write("in/r%04d.xml" % i, xml)
        elif i % 3 == 1:
            case.write("in/r%04d.xml.gz" % i, gz(xml))
        else:
            case.write("in/r%04d.zip" % i, zipped([("report.xml", xml)]))
        expected[rid] = k
    return expected


@unittest.skipIf(WRAPPED, "kills the program at random moments: not under a wrapper")
class Crash(PgCase):
    def assertWhole(self, expected, complete):
        rows = self.psql("SELECT rp.report_id, rp.record_count, (SELECT count(*) FROM records r "
                         "WHERE r.report = rp.id), (SELECT count(*) FROM traffic) > 0 FROM reports rp")
        seen = {}
        for rid, n, stored, _ in rows:
            self.assertNotIn(rid, seen, "stored twice")
            seen[rid] = int(stored)
            self.assertEqual(int(n), int(stored), "half a report: %s" % rid)
            self.assertEqual(int(stored), expected[rid])
        if complete:
            self.assertEqual(set(seen), set(expected))
        msgs = self.psql("SELECT coalesce(sum(messages), 0) FROM traffic")[0][0]
        direct = self.psql("SELECT coalesce(sum(count), 0) FROM records")[0][0]
        self.assertEqual(msgs, direct, "the rollup and the records disagree")

    def test_kill_9_mid_batch_leaves_whole_reports(self):
        expected = many_reports(self, 240)
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        rng = random.Random(int(os.environ.get("DMARCSIFT_CRASH_SEED", "20261204")))
        killed = 0
        for attempt in range(12):
            child = subprocess.Popen([INGEST, "--db", self.pgdb, self.path("in")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.05, 0.6))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                killed += 1
            child.wait()
            self.assertWhole(expected, complete=False)
        self.assertGreater(killed, 0, "no run was interrupted")
        final = self.pg_ingest(self.path("in"))
        self.assertExit(final, EX_OK)
        self.assertWhole(expected, complete=True)


class Writers(PgCase):
    def unshare_ok(self):
        proc = subprocess.run(["unshare", "--uts", "true"], capture_output=True)
        return proc.returncode == 0

    def as_host(self, host, *args):
        return subprocess.Popen(["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host,
                                 INGEST, "--db", self.pgdb] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def test_two_hosts_store_every_report_once(self):
        if not self.unshare_ok():
            self.skipTest("needs unshare --uts (root) to play two hosts")
        expected = many_reports(self, 200)
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        a = self.as_host("ingest-a", self.path("in"))
        b = self.as_host("ingest-b", self.path("in"))
        out_a, err_a = a.communicate()
        out_b, err_b = b.communicate()
        self.assertEqual(a.returncode, EX_OK, err_a.decode())
        self.assertEqual(b.returncode, EX_OK, err_b.decode())
        rows = self.psql("SELECT report_id, record_count, (SELECT count(*) FROM records r WHERE "
                         "r.report = rp.id) FROM reports rp")
        self.assertEqual(sorted(r[0] for r in rows), sorted(expected))
        for rid, n, stored in rows:
            self.assertEqual((int(n), int(stored)), (expected[rid], expected[rid]))
        self.assertEqual(self.psql("SELECT sum(messages) FROM traffic"),
                         self.psql("SELECT sum(count) FROM records"))

    def test_same_host_waits_its_turn_with_75(self):
        if not self.unshare_ok():
            self.skipTest("needs unshare --uts (root) to play two hosts")
        many_reports(self, 400)
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        first = self.as_host("ingest-a", self.path("in"))
        time.sleep(0.3)
        second = self.as_host("ingest-a", self.path("in"))
        out, err = second.communicate()
        still = first.poll() is None
        first.communicate()
        if not still:
            self.skipTest("the first import ended before the second started")
        self.assertEqual(second.returncode, EX_TEMPFAIL, err.decode())
        self.assertIn(b"another dmarc-ingest is running", err)
        self.assertIn(b"host:ingest-a", err)
