"""dmarc-ingest --from-store (issue 15 item 6): every raw payload kept in
an existing store parsed again into another one, on the reports of the
shared corpus (read at run time).  SQLite to PostgreSQL moves a user's
history to the server; SQLite to SQLite upgrades a store by re-parsing.
Either way the totals and every summary are the same afterwards.

DMARC failure reports keep no payload, so they move whole: every column
(the body too, when kept and wanted) under the same fingerprint.
"""
import os
import unittest

from dmarctest import CORPUS, EX_OK, EXAMPLES, Case
from rfcsamples import failure_message, original_with_body
from test_postgres import PgCase

FILES = os.path.join(CORPUS, "files")
TOTALS = "SELECT count(*), sum(record_count), sum(message_count) FROM reports"
COMMANDS = (("sources", "--format", "csv"), ("reports", "--format", "csv"), ("records", "--format", "csv"),
            ("tls", "--format", "csv"), ("ses", "--format", "csv"), ("policy", "--format", "csv"),
            ("failures", "--format", "csv"))
# every column a moved failure report must keep (not its id, source or
# time of import), each as the hex of its bytes or 'NULL', so that both
# backends print the same (psql's output cannot carry a line break)
FAILURE_COLUMNS = ("fingerprint", "feedback_type", "auth_failure", "source_ip", "reported_domain",
                   "original_mail_from", "original_rcpt_to", "arrival_date", "at_ts", "dkim_domain",
                   "dkim_selector", "identity_alignment", "delivery_result", "reporter", "subject", "feedback",
                   "original_headers", "original_body")


def failures_sql(as_hex):
    return "SELECT %s FROM failure_reports ORDER BY fingerprint" % ", ".join(
        "coalesce(%s, 'NULL')" % as_hex(c) for c in FAILURE_COLUMNS)


# (SQLite's hex() of NULL is '')
SQLITE_FAILURES = failures_sql(lambda c: "CASE WHEN %s IS NULL THEN NULL ELSE lower(hex(%s)) END" % (c, c))
PG_FAILURES = failures_sql(lambda c: {"at_ts": "encode(convert_to(extract(epoch FROM at_ts)::bigint::text, 'UTF8'), 'hex')",
                                      "original_body": "encode(original_body, 'hex')"}.get(
                                          c, "encode(convert_to(%s, 'UTF8'), 'hex')" % c))


def fill_from_corpus(case):
    """The corpus (and the examples) into the test's SQLite store; the
    corpus has reports that are rejected, hence no exit status check."""
    if not os.path.isdir(FILES):
        case.skipTest("the shared corpus is absent (%s)" % FILES)
    case.ingest("--offline", FILES, EXAMPLES)
    n = case.sql(TOTALS)[0]
    case.assertGreater(n[0], 20)
    return n


class SqliteToSqlite(Case):
    def test_upgrade_by_reparsing_keeps_every_total(self):
        totals = fill_from_corpus(self)
        new = self.path("new.db")
        p = self.ingest("--offline", "-v", "--from-store", self.db, db=new)
        self.assertExit(p, EX_OK)
        self.assertEqual(self.sql(TOTALS, db=new)[0], totals)
        self.assertEqual(self.count("tls_reports", db=new), self.count("tls_reports"))
        self.assertEqual(self.count("raw_payloads", db=new), self.count("raw_payloads"))
        self.assertGreater(self.count("failure_reports"), 0)
        self.assertEqual(self.sql(SQLITE_FAILURES, db=new), self.sql(SQLITE_FAILURES))
        for args in COMMANDS:
            self.assertEqual(self.report(*args, db=new).stdout, self.report(*args).stdout, args)
        # the inputs are named after the store and the payload
        self.assertIn("%s#1:" % self.db, p.stderr.decode())
        # a second time, all duplicates
        again = self.ingest("--offline", "-v", "--from-store", self.db, db=new)
        self.assertExit(again, EX_OK)
        self.assertIn(b"reports stored 0", again.stderr)

    def test_failure_reports_move_whole_and_once(self):
        keep = self.write("keep.conf", "[store]\nkeep_failure_bodies = yes\n")
        os.chmod(keep, 0o600)
        body = "SECRET BODY \u00e9\r\n\tline two"
        self.write("one.eml", failure_message(original=original_with_body(body)))
        self.write("two.eml", failure_message(source_ip="198.51.100.7", msgid="arf-2@example.com"))
        self.assertExit(self.ingest("--config", keep, self.path("one.eml"), self.path("two.eml")), EX_OK)
        kept = self.sql(SQLITE_FAILURES)
        self.assertEqual(len(kept), 2)
        self.assertIn(b"SECRET BODY \xc3\xa9", b"".join(bytes.fromhex(r[-1]) for r in kept if r[-1] != "NULL"))

        # with the bodies wanted: every column, the body byte for byte
        new = self.path("new.db")
        p = self.ingest("--offline", "-v", "--config", keep, "--from-store", self.db, db=new)
        self.assertExit(p, EX_OK)
        self.assertEqual(self.sql(SQLITE_FAILURES, db=new), kept)
        self.assertIn("%s#failure 1:%s" % (self.db, self.path("one.eml")), p.stderr.decode())
        self.assertEqual(self.sql("SELECT source FROM failure_reports ORDER BY id", db=new),
                         [("%s#failure %d:%s" % (self.db, i, self.path(n)),) for i, n in
                          ((1, "one.eml"), (2, "two.eml"))])
        self.assertEqual(self.report("failures", "--format", "csv", db=new).stdout,
                         self.report("failures", "--format", "csv").stdout)
        # a second move stores nothing twice
        again = self.ingest("--offline", "--config", keep, "--from-store", self.db, db=new)
        self.assertExit(again, EX_OK)
        self.assertEqual(self.count("failure_reports", db=new), 2)

        # without keep_failure_bodies the body stays behind, the rest moves
        bare = self.path("bare.db")
        self.assertExit(self.ingest("--offline", "--from-store", self.db, db=bare), EX_OK)
        self.assertEqual(self.sql(SQLITE_FAILURES, db=bare), [r[:-1] + ("NULL",) for r in kept])

    def test_missing_store_names_the_option(self):
        p = self.ingest("--from-store", self.path("none.db"))
        self.assertNotEqual(p.returncode, EX_OK)
        self.assertIn(b"--from-store", p.stderr)
        self.assertIn(b"none.db", p.stderr)


class SqliteToPostgres(PgCase):
    def pg_rows(self, query):
        return [tuple(r) for r in self.psql(query)]

    def test_history_moves_in_with_the_same_totals_and_summaries(self):
        totals = fill_from_corpus(self)
        p = self.pg_ingest("--offline", "--from-store", self.db)
        self.assertExit(p, EX_OK)
        moved = self.psql(TOTALS)[0]
        self.assertEqual(tuple(int(x) for x in moved), totals)
        self.assertEqual(int(self.psql("SELECT count(*) FROM tls_reports")[0][0]),
                         self.count("tls_reports"))
        failures = self.sql(SQLITE_FAILURES)
        self.assertGreater(len(failures), 0)
        self.assertEqual(self.pg_rows(PG_FAILURES), failures)
        for args in COMMANDS:
            self.assertEqual(self.pg_report(*args).stdout, self.report(*args).stdout, args)
        # and back: a PostgreSQL store is a source too
        back = self.path("back.db")
        self.assertExit(self.ingest("--offline", "--from-store", self.pgdb, db=back), EX_OK)
        self.assertEqual(self.sql(TOTALS, db=back)[0], totals)
        self.assertEqual(self.sql(SQLITE_FAILURES, db=back), failures)

    def test_kept_bodies_go_there_and_back(self):
        keep = self.write("keep.conf", "[store]\nkeep_failure_bodies = yes\n")
        os.chmod(keep, 0o600)
        body = "SECRET BODY \u00e9\r\n\\x00 \x01 line two"
        msg = self.write("one.eml", failure_message(original=original_with_body(body)))
        self.assertExit(self.ingest("--config", keep, msg), EX_OK)
        kept = self.sql(SQLITE_FAILURES)
        self.assertIn(b"\xc3\xa9\n\\x00 \x01 line two", bytes.fromhex(kept[0][-1]))
        self.assertExit(self.pg_ingest("--offline", "--config", keep, "--from-store", self.db), EX_OK)
        self.assertEqual(self.pg_rows(PG_FAILURES), kept)
        back = self.path("back.db")
        self.assertExit(self.ingest("--offline", "--config", keep, "--from-store", self.pgdb, db=back), EX_OK)
        self.assertEqual(self.sql(SQLITE_FAILURES, db=back), kept)


if __name__ == "__main__":
    unittest.main()
