"""Issue 12 item 6: the summary separates duplicates (the same report
again) from conflicts (same key, other records: kept out) and rejects;
-v rejection lines say what was rejected and why without empty fields;
counts read naturally ("1 record")."""
import re

import dmarctest as dt


class TestSummary(dt.Case):

    def test_conflict_is_not_a_duplicate(self):
        a = self.write("a.xml", dt.report_xml(records=[dt.record(count=1)]))
        b = self.write("b.xml", dt.report_xml(records=[dt.record(count=9)]))
        self.assertEqual(self.ingest(a).returncode, 0)
        p = self.ingest("-v", b, a)
        self.assertEqual(p.returncode, 0, p.stderr)
        err = p.stderr.decode()
        self.assertRegex(err, r"(?m)^conflict  .* 1 record  .*b\.xml$")
        self.assertRegex(err, r"(?m)^duplicate .* 1 record  .*a\.xml$")
        self.assertIn("duplicates 1, rejected 0, records stored 0, "
                      "conflicts 1 (a stored report has the same key and "
                      "other records: this copy kept out)", err)
        self.assertEqual(self.sql("SELECT message_count FROM reports"),
                         [(1,)])

    def test_no_conflict_no_word(self):
        a = self.write("a.xml", dt.report_xml())
        p = self.ingest("-v", a, a)
        self.assertNotIn(b"conflict", p.stderr)
        self.assertIn(b"duplicates 1,", p.stderr)

    def test_rejection_line_has_no_empty_fields(self):
        bad = self.write("bad.xml", b"<invalid/>")
        p = self.ingest("-v", bad)
        self.assertEqual(p.returncode, dt.EX_DATAERR)
        line = [l for l in p.stderr.decode().splitlines()
                if l.startswith("rejected")][0]
        self.assertEqual(line, "rejected  %s: root element <invalid> is "
                         "not <feedback>: not a DMARC aggregate report"
                         % bad)
        self.assertNotRegex(line, r" - |\.\.-|0 records")

    def test_rejection_line_names_what_is_known(self):
        # a report whose metadata was read, then a bad record
        xml = dt.report_xml(org="Org B", report_id="rb").replace(
            b"<count>1</count>", b"<count>lots</count>")
        r = self.write("r.xml", xml)
        p = self.ingest("-v", r)
        lines = [l for l in p.stderr.decode().splitlines()
                 if l.startswith("rejected")]
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertRegex(lines[0], r"^rejected  Org B rb example\.com "
                         r"\d{4}-\d\d-\d\d\.\.\d{4}-\d\d-\d\d  %s: .*"
                         r"'lots' is not a number$" % re.escape(r))

    def test_plural_records(self):
        one = self.write("one.xml", dt.report_xml(report_id="one"))
        two = self.write("two.xml", dt.report_xml(
            report_id="two", records=[dt.record(), dt.record(ip="192.0.2.9")]))
        p = self.ingest("-v", one, two)
        err = p.stderr.decode()
        self.assertRegex(err, r"(?m) one .* 1 record  ")
        self.assertRegex(err, r"(?m) two .* 2 records  ")
        self.assertFalse(re.search(r"\b1 records\b", err), err)
