"""Issue 11 defect: when writing the ingest log failed, import.c's
log_outcome() returned -1 without a message, and dmarc-ingest printed
whatever the error buffer held ("error: ^A").  A trigger makes every
insert into ingest_log fail."""
import sqlite3

import dmarctest as dt


class TestIngestLogFailure(dt.Case):

    def broken_log(self):
        good = self.write("r.xml", dt.report_xml(report_id="first"))
        self.assertEqual(self.ingest(good).returncode, 0)
        con = sqlite3.connect(self.db)
        con.execute("CREATE TRIGGER no_log BEFORE INSERT ON ingest_log "
                    "BEGIN SELECT RAISE(ABORT, 'the log is full'); END")
        con.commit()
        con.close()

    def assertSaysWhy(self, p):
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"cannot write the ingest log", p.stderr)
        self.assertIn(b"the log is full", p.stderr)
        for line in p.stderr.splitlines():
            self.assertTrue(all(c >= 0x20 or c == 9 for c in line), line)
            self.assertFalse(line.rstrip().endswith(b"error:"), line)

    def test_rejected_input(self):
        self.broken_log()
        junk = self.write("junk.txt", "not a report at all\n" * 10)
        self.assertSaysWhy(self.ingest(junk))

    def test_stored_report(self):
        self.broken_log()
        other = self.write("s.xml", dt.report_xml(report_id="second"))
        self.assertSaysWhy(self.ingest(other))
        self.assertEqual(self.count("reports"), 1)
