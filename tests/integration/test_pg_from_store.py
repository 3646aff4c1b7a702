"""dmarc-ingest --from-store (issue 15 item 6): every raw payload kept in
an existing store parsed again into another one, on the reports of the
shared corpus (read at run time).  SQLite to PostgreSQL moves a user's
history to the server; SQLite to SQLite upgrades a store by re-parsing.
Either way the totals and every summary are the same afterwards.
"""
import os
import unittest

from dmarctest import CORPUS, EX_OK, EXAMPLES, Case
from test_postgres import PgCase

FILES = os.path.join(CORPUS, "files")
TOTALS = "SELECT count(*), sum(record_count), sum(message_count) FROM reports"
COMMANDS = (("sources", "--format", "csv"), ("reports", "--format", "csv"), ("records", "--format", "csv"),
            ("tls", "--format", "csv"), ("ses", "--format", "csv"), ("policy", "--format", "csv"))


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
        for args in COMMANDS:
            self.assertEqual(self.report(*args, db=new).stdout, self.report(*args).stdout, args)
        # the inputs are named after the store and the payload
        self.assertIn("%s#1:" % self.db, p.stderr.decode())
        # a second time, all duplicates
        again = self.ingest("--offline", "-v", "--from-store", self.db, db=new)
        self.assertExit(again, EX_OK)
        self.assertIn(b"reports stored 0", again.stderr)

    def test_missing_store_names_the_option(self):
        p = self.ingest("--from-store", self.path("none.db"))
        self.assertNotEqual(p.returncode, EX_OK)
        self.assertIn(b"--from-store", p.stderr)
        self.assertIn(b"none.db", p.stderr)


class SqliteToPostgres(PgCase):
    def test_history_moves_in_with_the_same_totals_and_summaries(self):
        totals = fill_from_corpus(self)
        p = self.pg_ingest("--offline", "--from-store", self.db)
        self.assertExit(p, EX_OK)
        moved = self.psql(TOTALS)[0]
        self.assertEqual(tuple(int(x) for x in moved), totals)
        self.assertEqual(int(self.psql("SELECT count(*) FROM tls_reports")[0][0]),
                         self.count("tls_reports"))
        for args in COMMANDS:
            self.assertEqual(self.pg_report(*args).stdout, self.report(*args).stdout, args)
        # and back: a PostgreSQL store is a source too
        back = self.path("back.db")
        self.assertExit(self.ingest("--offline", "--from-store", self.pgdb, db=back), EX_OK)
        self.assertEqual(self.sql(TOTALS, db=back)[0], totals)


if __name__ == "__main__":
    unittest.main()
