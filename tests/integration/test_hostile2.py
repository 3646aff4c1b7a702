"""Hostile input, round two (issues 17, 11 and 10): the parser's side.

Every input is written here.  Each test runs the real dmarc-ingest against
a real SQLite database and asserts what was stored (or refused, and why).
"""
import gzip
import subprocess
import unittest

from dmarctest import EX_DATAERR, EX_OK, Case, gz, record, report_xml, zipped


def reports_rows(case):
    return case.sql("SELECT report_id, salvaged, record_count, message_count, warnings "
                    "FROM reports ORDER BY report_id")


class EveryReportInAStream(Case):
    """Issue 17 item 3: concatenated reports yield every report."""

    A = report_xml(report_id="cat-a", records=[record(ip="192.0.2.1", count=3)])
    B = report_xml(report_id="cat-b", records=[record(ip="192.0.2.2", count=4),
                                                record(ip="192.0.2.3", count=5)])

    def check_both(self, p):
        self.assertExit(p, EX_OK)
        rows = reports_rows(self)
        self.assertEqual([(r[0], r[1], r[2], r[3]) for r in rows],
                         [("cat-a", 0, 1, 3), ("cat-b", 0, 2, 9)], p.stderr)

    def test_multi_member_gzip(self):
        f = self.write("two.xml.gz", gz(self.A) + gz(self.B))
        self.check_both(self.ingest(f))

    def test_two_feedback_documents_in_one_file(self):
        f = self.write("two.xml", self.A + self.B)
        self.check_both(self.ingest(f))

    def test_two_roots_without_declarations(self):
        a = self.A.split(b"?>\n", 1)[1]
        b = self.B.split(b"?>\n", 1)[1]
        f = self.write("two.xml", a + b"  \n" + b)
        self.check_both(self.ingest(f))

    def test_three_in_a_zip_member(self):
        c = report_xml(report_id="cat-c", records=[record(count=1)])
        f = self.write("three.zip", zipped([("r.xml", self.A + self.B + c)]))
        p = self.ingest(f)
        self.assertExit(p, EX_OK)
        self.assertEqual([r[0] for r in reports_rows(self)], ["cat-a", "cat-b", "cat-c"])

    def test_trailing_junk_is_still_salvage(self):
        f = self.write("junk.xml", self.A + b"garbage after the report")
        p = self.ingest(f)
        self.assertExit(p, EX_OK)
        rows = reports_rows(self)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][1], 1, "trailing junk makes the report salvaged")


if __name__ == "__main__":
    unittest.main()
