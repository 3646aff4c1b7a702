"""The operations the PostgreSQL backend gained after its first version
(issue 15), checked in the PostgreSQL database itself; test_pg_mirror.py
compares dmarc-report's output on both backends, this file what is stored:

- a complete copy replaces the salvaged copy stored before it (issue 17);
- SMTP TLS reports and DMARC failure reports, once each;
- retention (prune, [store] keep): what goes, what stays, the rollup;
- the names of source addresses (Knot DNS on loopback);
- a connection lost in the middle of a batch: exit 75, nothing half
  stored, and the next run completes;
- the rollup, summed in memory as on SQLite, of a report larger than the
  sums hold: the same rows as SQLite's, and what the records say;
- a big report that goes straight into the tables in chunks while it is
  parsed: the same as SQLite whatever comes (a duplicate, the header
  last, a second date range, a cut, values COPY escapes), and a chunk
  that fails leaves nothing;
- a run that stored many records analyses the rollup as it ends;
- a small report's moves, sent in one round trip: one that fails leaves
  nothing of its report, and the next report stores.
"""
import os
import subprocess
import time
import unittest

import dnszones
import knotfixture
import test_hostile2
import test_prune
import test_traffic
from dmarctest import EX_OK, EX_TEMPFAIL, EXAMPLES, WRAPPED, gz, record, report_xml
from rfcsamples import failure_message, original_with_body, tls_message, tls_report
from test_postgres import PgCase, many_reports

EX_IOERR = 74  # sysexits.h: a store error stops the run
ROLLUP = ("SELECT day, domain, source_ip, sum(records), sum(messages), sum(dkim_aligned), "
          "sum(spf_aligned), sum(dmarc_pass), sum(quarantined), sum(rejected) FROM traffic "
          "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
FROM_RECORDS = (
    "SELECT extract(epoch FROM rp.begin_ts)::bigint / 86400, rp.domain, "
    "coalesce(host(r.source_ip), ''), count(*), sum(r.count), "
    "sum(CASE WHEN r.dkim = 'pass' THEN r.count ELSE 0 END), "
    "sum(CASE WHEN r.spf = 'pass' THEN r.count ELSE 0 END), "
    "sum(CASE WHEN r.dkim = 'pass' OR r.spf = 'pass' THEN r.count ELSE 0 END), "
    "sum(CASE WHEN r.disposition = 'quarantine' THEN r.count ELSE 0 END), "
    "sum(CASE WHEN r.disposition = 'reject' THEN r.count ELSE 0 END) "
    "FROM reports rp JOIN records r ON r.report = rp.id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")


class PgOps(PgCase):
    def count(self, table, db=None):
        if db is not None:
            return super().count(table, db=db)
        return int(self.psql("SELECT count(*) FROM %s" % table)[0][0])

    def assertRollupIsTheRecords(self):
        self.assertEqual(self.psql(ROLLUP), self.psql(FROM_RECORDS))

    def ingest_role(self, name, *more):
        """A role that may import (as docs/postgresql.md's ingest role) but
        does not own the tables, with more statements run after its
        grants; returns its location."""
        dbname = self.pgdb.rsplit("/", 1)[1]
        self.psql("; ".join((
            "CREATE ROLE %s LOGIN" % name,
            "GRANT CONNECT, TEMPORARY ON DATABASE %s TO %s" % (dbname, name),
            "GRANT USAGE ON SCHEMA public TO %s" % name,
            "GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO %s" % name,
            "GRANT UPDATE ON traffic, imap_state, source_names, ingest_log TO %s" % name,
            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %s" % name) + more))
        return self.pgdb.replace("dmarc@", name + "@")


class Traffic(PgOps):
    def test_a_report_larger_than_the_sums_in_memory(self):
        path = self.write("big.xml.gz", test_traffic.big_report())
        self.assertExit(self.pg_ingest(path), EX_OK)
        self.assertExit(self.ingest(path), EX_OK)
        rows = self.psql(test_traffic.ROLLUP)
        self.assertEqual(len(rows), test_traffic.BIG_DISTINCT)
        self.assertEqual(sum(int(r[9]) for r in rows), test_traffic.BIG_RECORDS)
        # every key and counter as SQLite has them
        self.assertEqual(rows, [[str(v) for v in r] for r in self.sql(test_traffic.ROLLUP)])
        self.assertRollupIsTheRecords()


class Analyse(PgOps):
    """A run that stored 50,000 records or more analyses the rollup as it
    ends, so that the summaries right after it are planned on statistics
    (store-pg.c, ANALYZE_AFTER); a daily run leaves it to autovacuum."""

    STATS = "SELECT count(*) FROM pg_stats WHERE tablename = 'traffic'"

    def test_a_big_run_analyses_the_rollup_and_a_small_one_does_not(self):
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        # autovacuum must not do it for the ingest during the test
        self.psql("ALTER TABLE traffic SET (autovacuum_enabled = false)")
        small = self.write("small.xml", report_xml(records=[record(ip="192.0.2.%d" % i) for i in range(1, 40)]))
        self.assertExit(self.pg_ingest(small), EX_OK)
        self.assertEqual(self.psql(self.STATS), [["0"]])
        big = self.write("big.xml.gz", test_traffic.big_report())
        self.assertExit(self.pg_ingest(big), EX_OK)
        self.assertEqual(self.count("records"), 39 + test_traffic.BIG_RECORDS)
        self.assertGreater(int(self.psql(self.STATS)[0][0]), 5)
        self.assertEqual(self.psql("SELECT reltuples::bigint FROM pg_class WHERE relname = 'traffic'"),
                         [[str(self.count("traffic"))]])

    def test_a_role_that_does_not_own_the_rollup_skips_it_quietly(self):
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        self.psql("ALTER TABLE traffic SET (autovacuum_enabled = false)")
        url = self.ingest_role("importer")
        res = self.pg_ingest(self.write("big.xml.gz", test_traffic.big_report()), url=url)
        self.assertExit(res, EX_OK)
        self.assertEqual(res.stderr, b"")  # no WARNING from the server
        self.assertEqual(self.count("records"), test_traffic.BIG_RECORDS)
        self.assertEqual(self.psql(self.STATS), [["0"]])


class Chunks(PgOps):
    """A big report whose begin comes before its records goes straight
    into the tables after its first 2,000 records, in chunks of 5,000
    sent while it is parsed (store-pg-direct.c); each case must store what
    SQLite stores."""

    RECORDS = 45000  # 2,000 staged and moved, 8 chunks sent while parsing, the rest at the end

    def big(self, report_id="chunks"):
        recs = [record(ip="10.0.%d.%d" % (i >> 8 & 255, i & 255), count=i % 4 + 1,
                       dkim="fail" if i % 5 == 0 else "pass",
                       dkim_results=(("example.com", "s%d" % (i % 3), "pass"),),
                       spf_results=(("example.com", "mfrom", "pass"),))
                for i in range(self.RECORDS)]
        return report_xml(report_id=report_id, records=recs)

    def assertSameAsSqlite(self):
        for args in (("reports", "--format", "csv"), ("sources", "--format", "csv")):
            self.assertEqual(self.pg_report(*args).stdout, self.report(*args).stdout, args)
        self.assertRollupIsTheRecords()
        # every moved row belongs to a stored report, under its begin
        for table in ("records", "dkim_results", "spf_results"):
            self.assertEqual(self.psql("SELECT count(*) FROM %s t LEFT JOIN reports rp ON rp.id = t.report "
                                       "AND rp.begin_ts = t.begin_ts WHERE rp.id IS NULL" % table), [["0"]], table)

    def both(self, path):
        p = self.pg_ingest(path)
        self.assertEqual(p.returncode, self.ingest(path).returncode, p.stderr)
        return p

    def test_moved_in_chunks_and_counted_once(self):
        path = self.write("big.xml.gz", gz(self.big()))
        self.assertExit(self.both(path), EX_OK)
        self.assertEqual(self.count("records"), self.RECORDS)
        self.assertEqual(self.count("dkim_results"), self.RECORDS)
        self.assertSameAsSqlite()
        # the same report again, its policy after the records: the header
        # is complete only at the end, so the chunks are moved before the
        # key is found taken, and must be rolled back
        xml = self.big()
        policy = xml[xml.index(b"<policy_published>"):xml.index(b"</policy_published>") + 19]
        late = xml.replace(policy, b"").replace(b"</feedback>", policy + b"</feedback>")
        again = self.pg_ingest("-v", self.write("again.xml.gz", gz(late)))
        self.assertExit(again, EX_OK)
        self.assertIn(b"duplicates 1", again.stderr)
        self.assertEqual(self.count("records"), self.RECORDS)
        self.assertEqual(self.count("spf_results"), self.RECORDS)
        self.assertEqual(self.count("reports"), 1)

    def test_header_after_the_records_waits_for_the_end(self):
        xml = self.big()
        head = xml[xml.index(b"<report_metadata>"):xml.index(b"<record>")]
        late = xml.replace(head, b"").replace(b"</feedback>", head + b"</feedback>")
        self.assertExit(self.both(self.write("late.xml.gz", gz(late))), EX_OK)
        self.assertEqual(self.count("records"), self.RECORDS)
        self.assertSameAsSqlite()

    def test_a_second_date_range_after_the_chunks_is_ignored(self):
        xml = self.big()
        moved = (b"<report_metadata><org_name>Example Receiver</org_name><report_id>chunks</report_id>"
                 b"<date_range><begin>1700265600</begin><end>1700351999</end></date_range>"
                 b"</report_metadata>")
        self.both(self.write("two.xml.gz", gz(xml.replace(b"</feedback>", moved + b"</feedback>"))))
        self.assertSameAsSqlite()
        # the parser keeps the first range, under which the chunks moved
        self.assertEqual(self.psql("SELECT DISTINCT extract(epoch FROM begin_ts)::bigint FROM reports"),
                         [["1700006400"]])
        self.assertEqual(self.count("records"), self.RECORDS)

    def test_cut_in_the_middle_of_a_chunk(self):
        xml = self.big()
        self.both(self.write("cut.xml", xml[:len(xml) * 3 // 4]))
        self.assertSameAsSqlite()

    # What COPY's text format gives a meaning: a value that is the NULL
    # marker, the end-of-data marker, tabs, line breaks, backslashes.
    COMMENTS = ("\\N", "\\.", "tab&#9;inside", "line&#10;break", "back\\slash\\", "plain")
    REASONS_HEX = (
        "SELECT rec, idx, type, CASE WHEN comment IS NULL THEN 'NULL' ELSE lower(%s) END "
        "FROM override_reasons%s ORDER BY 1, 2")

    def direct(self, report_id="direct"):
        """Past the switch to the tables (PG_DIRECT_AFTER, 2,000 records),
        records with values COPY escapes, without an envelope_from, with
        two DKIM results, one with a count past 32 bits, and with override
        reasons: the first of those only there, so that their table is
        first written by a chunk."""
        recs = []
        for i in range(12000):
            late = i >= 2500
            recs.append(record(
                ip="10.1.%d.%d" % (i >> 8 & 255, i & 255), count=2 ** 40 + i if i == 4321 else i % 7 + 1,
                envelope_from="bounce.example.com" if i % 2 else None,
                dkim_results=(("example.com", "s%d" % (i % 3), "pass"),
                              ("esp.example", "k\\%d" % (i % 2), "fail")),
                reasons=((("forwarded", self.COMMENTS[i % 6]),) if late and i % 5 == 0 else ())))
        return report_xml(report_id=report_id, records=recs)

    def test_values_copy_escapes_go_straight_into_the_tables_as_sqlite_has_them(self):
        path = self.write("direct.xml.gz", gz(self.direct()))
        self.assertExit(self.both(path), EX_OK)
        self.assertSameAsSqlite()
        pg = self.psql(self.REASONS_HEX % ("encode(convert_to(comment, 'UTF8'), 'hex')", ""))
        # SQLite numbers records by id, in the report's order
        lite = self.sql((self.REASONS_HEX % (
            "hex(comment)", " JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rec FROM records) r "
            "ON r.id = override_reasons.record")).replace("SELECT rec, idx", "SELECT r.rec, idx"))
        self.assertEqual(len(pg), 1900)
        self.assertEqual(pg, [[str(v) for v in row] for row in lite])
        # "\N" is a value, not NULL; a tab and a line break stay inside
        values = {bytes.fromhex(r[3]).decode() for r in pg}
        self.assertEqual(values, {"\\N", "\\.", "tab\tinside", "line\nbreak", "back\\slash\\", "plain"})
        self.assertEqual(self.psql("SELECT count(*) FROM records WHERE envelope_from IS NULL"), [["6000"]])
        self.assertEqual(self.psql("SELECT rec, count FROM records WHERE count > 7"), [["4322", str(2 ** 40 + 4321)]])
        self.assertEqual(self.psql("SELECT count(*), count(DISTINCT selector) FROM dkim_results "
                                   "WHERE domain = 'esp.example'"), [["12000", "2"]])
        self.assertEqual(self.psql("SELECT DISTINCT selector FROM dkim_results WHERE domain = 'esp.example' "
                                   "AND rec % 2 = 0"), [["k\\1"]])

    def test_a_report_rejected_between_chunks_leaves_no_sums_to_the_next(self):
        # every record a group of its own: the sums fill their memory at
        # record 22,876 and wait in memory for the next chunk, at 27,000;
        # the report is rejected at 25,001 records, and the next report of
        # the run must not take them
        big = self.write("big.xml.gz", gz(self.big()))
        small = self.write("small.xml", report_xml(report_id="small", records=[
            record(ip="192.0.2.%d" % i, count=i) for i in range(1, 30)]))
        res = self.pg_ingest("--max-records", "25000", big, small)
        self.assertIn(b"more than 25000 records", res.stderr)
        self.assertEqual(self.psql("SELECT report_id FROM reports"), [["small"]])
        self.assertEqual(self.count("records"), 29)
        self.assertEqual(self.psql("SELECT sum(records), sum(messages) FROM traffic"), [["29", "435"]])
        self.assertRollupIsTheRecords()

    def test_a_chunk_that_fails_leaves_nothing_and_the_run_says_so(self):
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        url = self.ingest_role("no_reasons", "REVOKE INSERT ON override_reasons FROM no_reasons")
        path = self.write("direct.xml.gz", gz(self.direct()))
        res = self.pg_ingest(path, url=url)
        # the first reason is in a chunk sent while the report is parsed
        self.assertExit(res, EX_IOERR)
        self.assertIn(b"cannot store the records", res.stderr)
        self.assertIn(b"permission denied for table override_reasons", res.stderr)
        for table in ("reports", "records", "dkim_results", "spf_results", "traffic"):
            self.assertEqual(self.count(table), 0, table)
        # the owner stores it whole, once
        self.assertExit(self.pg_ingest(path), EX_OK)
        self.assertEqual(self.count("records"), 12000)
        self.assertEqual(self.count("override_reasons"), 1900)
        self.assertRollupIsTheRecords()


class Moves(PgOps):
    """A report's rows leave staging in one round trip (pipeline mode),
    and only the kinds of rows it has."""

    def test_only_the_kinds_a_report_has_move_and_a_failed_move_leaves_nothing(self):
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        # an ingest role that may not add override reasons
        url = self.ingest_role("no_reasons", "REVOKE INSERT ON override_reasons FROM no_reasons")
        with_reason = self.write("a.xml", report_xml(report_id="with-reason", records=[
            record(ip="192.0.2.7", count=3), record(ip="192.0.2.8", reasons=(("forwarded", "list"),))]))
        without = self.write("b.xml", report_xml(report_id="without", records=[
            record(ip="192.0.2.9", count=5), record(ip="198.51.100.2", count=2)]))
        # the first report has no override reasons and never touches
        # their table; the second's move fails, which stops the run
        res = self.pg_ingest(without, with_reason, url=url)
        self.assertExit(res, EX_IOERR)
        self.assertIn(b"cannot store the records", res.stderr)
        self.assertIn(b"permission denied for table override_reasons", res.stderr)
        # the failed report left no row anywhere; the first one is whole
        self.assertEqual(self.psql("SELECT report_id, record_count FROM reports"), [["without", "2"]])
        self.assertEqual(self.psql("SELECT host(source_ip), count FROM records ORDER BY 1"),
                         [["192.0.2.9", "5"], ["198.51.100.2", "2"]])
        self.assertEqual(self.count("dkim_results"), 2)
        self.assertEqual(self.count("spf_results"), 2)
        self.assertRollupIsTheRecords()
        # the owner stores it, reason and all; the rollup still matches
        self.assertExit(self.pg_ingest(with_reason), EX_OK)
        self.assertEqual(self.psql("SELECT type, comment FROM override_reasons"), [["forwarded", "list"]])
        self.assertEqual(self.count("records"), 4)
        self.assertRollupIsTheRecords()


class Replace(PgOps):
    def test_complete_copy_replaces_salvaged_one(self):
        self.assertExit(self.pg_ingest(self.write("partial.xml", test_hostile2.PARTIAL)), EX_OK)
        self.assertEqual(self.psql("SELECT report_id, salvaged, record_count FROM reports"),
                         [["best-1", "1", "10"]])
        p = self.pg_ingest("-v", self.write("complete.xml", test_hostile2.COMPLETE))
        self.assertExit(p, EX_OK)
        self.assertIn(b"replaced the salvaged copy", p.stderr)
        self.assertEqual(self.psql("SELECT report_id, salvaged, record_count, message_count FROM reports"),
                         [["best-1", "0", "10", "55"]])
        self.assertEqual(self.count("records"), 10)
        self.assertEqual(self.psql("SELECT sum(count) FROM records"), [["55"]])
        self.assertRollupIsTheRecords()
        # every log line, the salvaged copy's too, names the stored report
        rid = self.psql("SELECT id FROM reports")[0][0]
        self.assertEqual(self.psql("SELECT DISTINCT report FROM ingest_log"), [[rid]])
        self.assertEqual(self.count("ingest_log"), 2)
        # and the complete copy again is a duplicate
        p = self.pg_ingest("-v", self.write("again.xml", test_hostile2.COMPLETE))
        self.assertExit(p, EX_OK)
        self.assertIn(b"duplicates 1", p.stderr)
        self.assertEqual(self.count("records"), 10)

    def test_replaced_inside_a_batch_with_others(self):
        other = report_xml(report_id="other", records=[record(ip="192.0.2.9", count=4)])
        self.assertExit(self.pg_ingest(self.write("a/partial.xml", test_hostile2.PARTIAL)), EX_OK)
        self.assertExit(self.pg_ingest(self.write("b/1.xml", other),
                                       self.write("b/2.xml", test_hostile2.COMPLETE)), EX_OK)
        self.assertEqual(self.psql("SELECT report_id, salvaged, record_count FROM reports ORDER BY 1"),
                         [["best-1", "0", "10"], ["other", "0", "1"]])
        self.assertRollupIsTheRecords()


class OtherReports(PgOps):
    def test_tls_reports_stored_once_with_policies_and_failures(self):
        files = [self.write("a/r.json", tls_report()), self.write("a/r.json.gz", gz(tls_report())),
                 self.write("a/m.eml", tls_message())]
        p = self.pg_ingest("-v", *files)
        self.assertExit(p, EX_OK)
        self.assertEqual(p.stderr.decode().count("duplicate TLS Company-X"), 2)
        self.assertEqual(self.count("tls_reports"), 1)
        self.assertEqual(self.psql("SELECT policy_type, policy_domain, successful, failed FROM tls_policies"),
                         [["sts", "company-y.example", "5326", "303"]])
        self.assertEqual(self.psql("SELECT result_type, failed_sessions FROM tls_failures ORDER BY idx"),
                         [["certificate-expired", "100"], ["starttls-not-supported", "200"],
                          ["validation-failure", "3"]])
        self.assertEqual(self.psql("SELECT p.format, p.size FROM tls_reports t JOIN raw_payloads p "
                                   "ON p.id = t.raw_payload"), [["json", str(len(tls_report()))]])
        self.assertEqual(self.psql("SELECT extract(epoch FROM begin_ts)::bigint FROM tls_reports"),
                         [["1459468800"]])
        self.assertEqual(self.psql("SELECT outcome FROM ingest_log ORDER BY id"),
                         [["stored"], ["duplicate"], ["duplicate"]])

    def test_failure_reports_stored_once_with_the_body_when_asked(self):
        cfg = self.write("config", "[store]\nkeep_failure_bodies = yes\n")
        os.chmod(cfg, 0o600)
        msg = failure_message(original=original_with_body())
        self.assertExit(self.pg_ingest("--config", cfg, self.write("f.eml", msg)), EX_OK)
        self.assertEqual(self.psql(
            "SELECT source_ip, reported_domain, extract(epoch FROM at_ts)::bigint, subject, "
            "convert_from(original_body, 'UTF8') FROM failure_reports"),
            [["192.0.2.1", "example.net", "1110308400", "Grüße", "SECRET BODY TEXT of someone's mail"]])
        p = self.pg_ingest("-v", self.write("g.eml", msg))
        self.assertExit(p, EX_OK)
        self.assertIn(b"duplicates 1", p.stderr)
        self.assertEqual(self.count("failure_reports"), 1)


class Prune(PgOps):
    def setUp(self):
        super().setUp()
        test_prune.Prune.make(self)

    def test_prune_removes_the_old_and_keeps_the_rollup(self):
        self.assertExit(self.pg_ingest(self.path("old"), self.path("new"), EXAMPLES), EX_OK)
        tables = ("reports", "records", "dkim_results", "spf_results", "traffic", "raw_payloads",
                  "tls_reports", "tls_policies", "tls_failures", "failure_reports", "ingest_log")
        before = {t: self.count(t) for t in tables}
        dry = self.pg_report("prune", "--older-than", "400d", "--dry-run", "--format", "csv")
        self.assertExit(dry, EX_OK)
        self.assertIn(b"true,", dry.stdout)
        self.assertIn(b",4,1600,", dry.stdout)
        self.assertEqual({t: self.count(t) for t in tables}, before, "a dry run changes nothing")
        p = self.pg_report("prune", "--older-than", "400d")
        self.assertExit(p, EX_OK)
        self.assertIn(b"4 aggregate reports (1600 records", p.stdout)
        self.assertIn(b"2 SMTP TLS reports", p.stdout)
        self.assertIn(b"2 DMARC failure reports", p.stdout)
        self.assertEqual(self.psql("SELECT count(*) FROM reports WHERE report_id LIKE 'old-%'"), [["0"]])
        self.assertEqual(self.count("reports"), before["reports"] - 4)
        self.assertEqual(self.count("records"), before["records"] - 1600)
        self.assertEqual((self.count("tls_reports"), self.count("failure_reports")), (2, 2))
        # the TLS reports' policies and failures went with them
        self.assertEqual(self.count("tls_policies"), before["tls_policies"] // 2)
        self.assertEqual(self.count("tls_failures"), before["tls_failures"] // 2)
        for t in ("dkim_results", "spf_results", "override_reasons"):
            self.assertEqual(self.psql("SELECT count(*) FROM %s x WHERE NOT EXISTS (SELECT 1 FROM "
                                       "reports rp WHERE rp.id = x.report)" % t), [["0"]], t)
        self.assertRollupIsTheRecords()
        self.assertEqual(self.psql("SELECT count(*) FROM raw_payloads WHERE id NOT IN (SELECT raw_payload "
                                   "FROM reports WHERE raw_payload IS NOT NULL) AND id NOT IN (SELECT "
                                   "raw_payload FROM tls_reports WHERE raw_payload IS NOT NULL)"), [["0"]])
        self.assertEqual(self.psql("SELECT count(*) FROM ingest_log WHERE report IS NOT NULL AND report "
                                   "NOT IN (SELECT id FROM reports)"), [["0"]])
        again = self.pg_report("prune", "--older-than", "400d", "--format", "csv")
        self.assertIn(b"false,", again.stdout)
        self.assertRegex(again.stdout.decode(), r"\n(false),[0-9-]+,0,0,0,0,0,0,0,")

    def test_store_keep_after_the_ingest(self):
        self.assertExit(self.pg_ingest(self.path("old")), EX_OK)
        cfg = self.write("config", "[store]\nkeep = 400d\n")
        os.chmod(cfg, 0o600)
        p = self.pg_ingest("--config", cfg, self.path("new"))
        self.assertExit(p, EX_OK)
        self.assertEqual(p.stderr, b"")
        self.assertEqual(sorted(r[0] for r in self.psql("SELECT report_id FROM reports")),
                         ["new-10-example.com", "new-10-example.net", "new-2-example.com",
                          "new-2-example.net"])
        self.assertRollupIsTheRecords()


@unittest.skipUnless(knotfixture.available(), "knotd is missing (scripts/install-deps --test)")
class Names(PgOps):
    ONLINE = {"DMARCSIFT_OFFLINE": ""}

    def setUp(self):
        super().setUp()
        self.ns = knotfixture.KnotServer(dnszones.zones()).start()
        self.addCleanup(self.ns.cleanup)

    def test_names_stored_and_looked_up_again_when_expired(self):
        ips = ["198.51.100.10", "198.51.100.12"]
        f = self.write("r.xml", report_xml(records=[record(ip=ip) for ip in ips]))
        p = self.pg_ingest("--dns-server", self.ns.server, f, env=self.ONLINE)
        self.assertExit(p, EX_OK)
        self.assertEqual(self.psql("SELECT ip, result, name, confirmed FROM source_names ORDER BY ip"),
                         [["198.51.100.10", "name", "mx1.example.com", "1"],
                          ["198.51.100.12", "nxdomain", "", "0"]])
        p = self.pg_report("--dns-server", self.ns.server, "resolve")
        self.assertIn(b"nothing to look up", p.stdout)
        self.psql("UPDATE source_names SET resolved_at = to_timestamp(1), expires_at = to_timestamp(2) "
                  "WHERE ip = '198.51.100.10'")
        p = self.pg_report("--dns-server", self.ns.server, "--format", "csv", "resolve")
        self.assertExit(p, EX_OK)
        self.assertEqual(p.stdout.decode().splitlines()[1:], ["198.51.100.10,name,mx1.example.com,true,3600"])
        self.assertEqual(self.psql("SELECT resolved_at > to_timestamp(1) FROM source_names WHERE ip = "
                                   "'198.51.100.10'"), [["t"]])


@unittest.skipIf(WRAPPED, "terminates the program's connection at a random moment: not under a wrapper")
class LostConnection(PgOps):
    TERMINATE = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                 "application_name = 'dmarcsift' AND pid <> pg_backend_pid()")
    IN_BATCH = ("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dmarcsift' "
                "AND backend_xid IS NOT NULL")

    def interrupt(self):
        """Runs the import and terminates its connections while a batch
        holds uncommitted rows; None if the run ended first."""
        child = subprocess.Popen(["nice", "-n", "5", self.ingest_path(), "--db", self.pgdb,
                                  self.path("in")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while child.poll() is None and time.monotonic() < deadline:
                if int(self.psql(self.IN_BATCH)[0][0]) > 0:
                    self.psql(self.TERMINATE)
                    break
                time.sleep(0.005)
            out, err = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
        return child.returncode, err

    def ingest_path(self):
        from dmarctest import INGEST
        return INGEST

    def test_lost_connection_exits_75_and_the_next_run_completes(self):
        expected = many_reports(self, 600)
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        for attempt in range(5):
            rc, err = self.interrupt()
            if rc != EX_OK:
                break
            self.psql("TRUNCATE reports, records, override_reasons, traffic, ingest_log, raw_payloads")
        else:
            self.skipTest("every import ended before its connection could be terminated")
        self.assertEqual(rc, EX_TEMPFAIL, err.decode(errors="replace"))
        self.assertIn(b"connection", err)
        # nothing half stored: each report there is whole, and the rollup
        # is the records
        for rid, n, stored in self.psql("SELECT report_id, record_count, (SELECT count(*) FROM records r "
                                        "WHERE r.report = rp.id) FROM reports rp"):
            self.assertEqual((int(n), int(stored)), (expected[rid], expected[rid]))
        self.assertRollupIsTheRecords()
        final = self.pg_ingest(self.path("in"))
        self.assertExit(final, EX_OK)
        self.assertEqual(sorted(r[0] for r in self.psql("SELECT report_id FROM reports")), sorted(expected))
        self.assertRollupIsTheRecords()
