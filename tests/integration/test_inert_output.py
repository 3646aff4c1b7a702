"""Output that a report cannot forge (issue 17, item 4): values with a
newline, TAB, DEL, ESC, C1 (U+009B) or a bidi override (U+202E) are shown
escaped in every table command and in the ingest messages, and kept byte
for byte, correctly quoted, in CSV and JSON.

The hostile values are written into the store by hand after a normal
import ("forged rows"): whatever ingest accepts or refuses, the report side
must stay inert for what an older version, a salvaged report or a query
of the operator's own left there."""
import csv
import io
import json
import os
import sqlite3

from dmarctest import EX_OK, Case, record, report_xml, utc

DAY = utc(2026, 11, 24)

# marker -> the hostile value that replaces it in every text column
HOSTILE = {
    "orgmark": "Evil Org\nFORGED-ORG 1 2 3",
    "dommark.example": "example.com\nFORGED-DOMAIN: p=reject",
    "hfmark.example": "hf.example\nFORGED-HF\tT\x7fD",
    "dkmark.example": "dk.example\x1b[2J\x1b[31m",
    "selmark": "sel\u009b31m\u202eeliforp",
    "efmark.example": "ef.example\u202e\r",
}
# what a terminal must never receive, and what it is shown instead
RAW = ["\t", "\x7f", "\x1b", "\u009b", "\u202e", "\r"]
SHOWN = {"\t": "\\t", "\x7f": "\\x7f", "\x1b": "\\x1b", "\u009b": "\\u009b",
         "\u202e": "\\u202e", "\r": "\\r"}


class InertOutput(Case):
    def setUp(self):
        super().setUp()
        recs = [
            # Amazon SES, failing alignment: listed by `ses`
            record(ip="54.240.7.12", count=10, dkim="fail", spf="fail",
                   header_from="hfmark.example", envelope_from="efmark.example",
                   dkim_results=(("dkmark.example", "selmark", "pass"),),
                   spf_results=(("efmark.example", "mfrom", "pass"),)),
            record(ip="192.0.2.7", count=3, dkim="fail", spf="fail",
                   header_from="hfmark.example", envelope_from="efmark.example",
                   dkim_results=(("dkmark.example", "selmark", "fail"),),
                   spf_results=(("efmark.example", "mfrom", "fail"),)),
        ]
        self.write("in/r.xml", report_xml(org="orgmark", report_id="rid-1", domain="dommark.example",
                                          begin=DAY, end=DAY + 86399, records=recs))
        self.assertExit(self.ingest(self.path("in")), EX_OK)
        self.forge()

    def forge(self):
        con = sqlite3.connect(self.db)
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
        for t in tables:
            cols = [r[1] for r in con.execute("PRAGMA table_info(%s)" % t)
                    if (r[2] or "").upper() in ("TEXT", "")]
            for c in cols:
                for mark, value in HOSTILE.items():
                    con.execute("UPDATE %s SET %s = replace(%s, ?, ?) WHERE %s LIKE ?" % (t, c, c, c),
                                (mark, value, "%" + mark + "%"))
        con.commit()
        n = con.execute("SELECT count(*) FROM reports WHERE org_name = ?",
                        (HOSTILE["orgmark"],)).fetchone()[0]
        con.close()
        self.assertEqual(n, 1)

    def table(self, *args):
        # wide enough that no cell is cut: the escapes are what is checked
        proc = self.report(*args, env=dict(os.environ, COLUMNS="300"))
        self.assertExit(proc, EX_OK)
        return proc.stdout.decode("utf-8")

    def assertInert(self, text, expect):
        for ch in RAW:
            self.assertNotIn(ch, text, "raw %r in:\n%s" % (ch, text))
        for line in text.splitlines():
            self.assertFalse(line.startswith("FORGED"), "a forged line:\n%s" % text)
        for e in expect:
            self.assertIn(e, text)

    def test_reports_table(self):
        t = self.table("reports")
        self.assertInert(t, ["Evil Org\\nFORGED-ORG", "example.com\\nFORGED-DOMAIN"])

    def test_records_table(self):
        t = self.table("records")
        self.assertInert(t, ["hf.example\\nFORGED-HF\\tT\\x7fD"])

    def test_sources_table(self):
        # sources shows the senders: nothing of the forged values may leak raw
        self.assertInert(self.table("sources"), [])

    def test_ses_table(self):
        t = self.table("ses")
        self.assertInert(t, ["hf.example\\nFORGED-HF\\tT\\x7fD"])

    def test_policy_text_and_table(self):
        t = self.table("policy")
        self.assertInert(t, ["example.com\\nFORGED-DOMAIN: p=reject:", "Evil Org\\nFORGED-ORG"])

    def test_csv_and_json_keep_the_bytes(self):
        proc = self.report("records", "--format", "csv")
        self.assertExit(proc, EX_OK)
        rows = list(csv.DictReader(io.StringIO(proc.stdout.decode("utf-8"), newline="")))
        self.assertEqual(len(rows), 2)
        self.assertEqual({r["header_from"] for r in rows}, {HOSTILE["hfmark.example"]})
        self.assertIn(HOSTILE["dkmark.example"], rows[0]["dkim_domains"])
        proc = self.report("reports", "--format", "json")
        self.assertExit(proc, EX_OK)
        data = json.loads(proc.stdout)
        self.assertEqual(data[0]["org_name"], HOSTILE["orgmark"])
        self.assertEqual(data[0]["domain"], HOSTILE["dommark.example"])


class InertFileNames(Case):
    def test_a_hostile_file_name_in_a_directory_walk(self):
        # a file that is no report, named to forge a "stored" line and
        # to clear the screen
        name = "x\x1b[2K\rstored    fake\nrid\u202e.xml"
        self.write(os.path.join("in", name), "not a report at all\n")
        proc = self.ingest("-v", self.path("in"))
        err = proc.stderr.decode("utf-8")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("x\\x1b[2K\\rstored    fake\\nrid\\u202e.xml", err)
        for ch in ("\x1b", "\r", "\u202e"):
            self.assertNotIn(ch, err)
        for line in err.splitlines():
            self.assertFalse(line.startswith("rid"), err)
