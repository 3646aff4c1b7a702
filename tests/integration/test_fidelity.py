"""Data fidelity: what a report says is what is stored and what is exported.

Values with quotes, semicolons, commas, backslashes, SQL, very long domains
and non-ASCII text go in through the XML (escaped as XML requires) and must
come out of the database (read with Python's sqlite3) and out of
`dmarc-report --format csv` and `--format json` exactly as the report
meant them.  The only changes allowed are the documented ones: domains and
enumerated words are lower-cased, values are trimmed, and CSV puts an
apostrophe in front of a cell a spreadsheet would run as a formula.
"""
import csv
import io
import json
import unittest
from xml.sax.saxutils import escape

from dmarctest import EX_OK, Case, report_xml

INJECTION = "Robert'); DROP TABLE reports;--"
ORG = 'Org "Quoted" \'single\'; semi; comma, back\\slash & <angle>'
UNICODE_ORG = "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale \u65e5\u672c\u90f5\u4fbf \U0001F680 \u0645\u0631\u062d\u0628\u0627"
# 250 characters: four labels of 61, dots, and ".ab"
LONG_DOMAIN = ".".join(["%s%s" % (c, "x" * 60) for c in "abcd"]) + ".ab"
assert len(LONG_DOMAIN) == 250
# no white space: a domain with white space is refused at ingest (issue 17)
SQL_DOMAIN = "x');drop/**/table/**/records;--.example"
SELECTOR = "sel\"';--\u00e9"
HUMAN = "line one; \"two\"\n\tthree, 'four' \u2713"
COMMENT = "forwarded; by \"list\" \u00fcber; x'); delete from records;--"
FORMULA_ORG = "=HYPERLINK(\"http://evil.example\",\"x\")"


def xml_text(s):
    return escape(s, {'"': "&quot;"})


def rich_record(ip, header_from, envelope_from):
    return ("<record><row><source_ip>%s</source_ip><count>7</count><policy_evaluated>"
            "<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf>"
            "<reason><type>local_policy</type><comment>%s</comment></reason>"
            "</policy_evaluated></row><identifiers><header_from>%s</header_from>"
            "<envelope_from>%s</envelope_from></identifiers><auth_results>"
            "<dkim><domain>%s</domain><selector>%s</selector><result>pass</result>"
            "<human_result>%s</human_result></dkim>"
            "<spf><domain>%s</domain><scope>mfrom</scope><result>softfail</result></spf>"
            "</auth_results></record>" % (
                ip, xml_text(COMMENT), xml_text(header_from), xml_text(envelope_from),
                xml_text(header_from), xml_text(SELECTOR), xml_text(HUMAN), xml_text(envelope_from)))


# (org_name, report_id, domain) as the report means them
REPORTS = [
    (ORG, INJECTION, "example.com"),
    (UNICODE_ORG, "id; with \"quotes\", and 'more' \u00e9\u00e8", LONG_DOMAIN),
    ("Plain Org", "semi;colon", SQL_DOMAIN),
    (FORMULA_ORG, "-1+2", "formula.example"),
]


class Fidelity(Case):

    def setUp(self):
        super().setUp()
        for i, (org, rid, domain) in enumerate(REPORTS):
            xml = report_xml(org=xml_text(org), report_id=xml_text(rid), domain=xml_text(domain),
                             begin=1700006400 + i * 86400, end=1700092799 + i * 86400,
                             records=[rich_record("192.0.2.%d" % (i + 1), domain, SQL_DOMAIN)])
            self.write("in/r%d.xml" % i, xml)
        proc = self.ingest(self.path("in"))
        self.assertExit(proc, EX_OK)

    def test_stored_exactly(self):
        rows = self.sql("SELECT org_name, report_id, domain FROM reports ORDER BY begin_ts")
        self.assertEqual(rows, REPORTS)
        recs = self.sql("SELECT r.header_from, r.envelope_from, d.domain, d.selector, d.human_result, "
                        "s.domain, o.type, o.comment FROM records r "
                        "JOIN dkim_results d ON d.record = r.id JOIN spf_results s ON s.record = r.id "
                        "JOIN override_reasons o ON o.record = r.id ORDER BY r.id")
        self.assertEqual(recs, [(d, SQL_DOMAIN, d, SELECTOR, HUMAN, SQL_DOMAIN, "local_policy", COMMENT)
                                for _, _, d in REPORTS])
        # bytes, not only equal strings: UTF-8 as received
        (raw,), = self.sql("SELECT CAST(org_name AS BLOB) FROM reports WHERE domain = ?", LONG_DOMAIN)
        self.assertEqual(raw, UNICODE_ORG.encode("utf-8"))

    def test_sql_in_values_is_only_data(self):
        tables = {r[0] for r in self.sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self.assertTrue({"reports", "records", "dkim_results", "spf_results", "override_reasons"} <= tables)
        self.assertEqual(self.count("reports"), len(REPORTS))
        self.assertEqual(self.count("records"), len(REPORTS))
        self.assertEqual(self.sql("SELECT count(*) FROM reports WHERE report_id = ?", INJECTION), [(1,)])

    def listing(self, fmt):
        proc = self.report("reports", "--format", fmt)
        self.assertExit(proc, EX_OK)
        return proc.stdout.decode("utf-8")

    def test_exported_exactly_as_json(self):
        rows = json.loads(self.listing("json"))
        self.assertEqual([(r["org_name"], r["report_id"], r["domain"]) for r in rows], REPORTS)
        self.assertEqual([r["records"] for r in rows], [1] * len(REPORTS))
        self.assertEqual([r["messages"] for r in rows], [7] * len(REPORTS))

    def test_exported_exactly_as_csv(self):
        text = self.listing("csv")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        got = [(r["org_name"], r["report_id"], r["domain"]) for r in rows]
        # a cell that starts with = + - @ is a formula to a spreadsheet: CSV
        # shows it as text with a leading apostrophe (output-csv.c)
        want = [(("'" + o) if o[0] in "=+-@" else o, ("'" + i) if i[0] in "=+-@" else i, d)
                for o, i, d in REPORTS]
        self.assertEqual(got, want)
        self.assertTrue(text.endswith("\r\n"))

    def test_records_export_keeps_values(self):
        # the per-record listing, where the build has it: every value of
        # ours appears as one whole field, whatever the column is called
        proc = self.report("--help")
        if b"\n  records " not in proc.stdout:
            self.skipTest("no `dmarc-report records` in this build")
        proc = self.report("records", "--format", "json")
        self.assertExit(proc, EX_OK)
        values = set()
        for row in json.loads(proc.stdout.decode("utf-8")):
            values.update(v for v in row.values() if isinstance(v, str))
        for _, _, domain in REPORTS:
            self.assertIn(domain, values)
        self.assertIn(SQL_DOMAIN, values)

    def test_reimport_is_a_duplicate_not_a_new_row(self):
        # the key lookup binds the same strange values it stored
        proc = self.ingest("-v", self.path("in"))
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.count("reports"), len(REPORTS))
        lines = proc.stderr.decode("utf-8").splitlines()
        self.assertEqual(len([ln for ln in lines if ln.startswith("duplicate ")]), len(REPORTS))


if __name__ == "__main__":
    unittest.main()
