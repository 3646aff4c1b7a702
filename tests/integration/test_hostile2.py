"""Hostile input, round two (issues 17, 11 and 10): the parser's side.

Every input is written here.  Each test runs the real dmarc-ingest against
a real SQLite database and asserts what was stored (or refused, and why).
"""
import gzip
import subprocess
import unittest

from dmarctest import EX_DATAERR, EX_OK, Case, gz, message, record, report_xml, zipped


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


TEN = [record(ip="192.0.2.%d" % i, count=i) for i in range(1, 11)]
COMPLETE = report_xml(report_id="best-1", records=TEN)
# One unclosed <record> in the middle: libxml2's recovery loses records.
PARTIAL = COMPLETE.replace(b"</record>", b"", 1)
# An unescaped '<' in header_from mangles the value.
MANGLED = report_xml(report_id="best-1", records=[record(ip="192.0.2.%d" % i, count=i,
                     header_from="exa<mple.com" if i == 1 else "example.com")
                     for i in range(1, 11)])


def traffic_consistent(case):
    """The traffic rollup equals the one rebuilt from the records."""
    now = case.sql("SELECT day, domain, source_ip, records, messages FROM traffic ORDER BY 1, 2, 3")
    rebuilt = case.sql(
        "SELECT rp.begin_ts / 86400, rp.domain, ifnull(r.source_ip, ''), count(*), sum(r.count) "
        "FROM reports rp JOIN records r ON r.report = rp.id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    case.assertEqual([tuple(r) for r in now], [tuple(r) for r in rebuilt])


class BestCopyWins(Case):
    """Issue 17 item 2."""

    def test_complete_copy_replaces_salvaged_one(self):
        p = self.ingest(self.write("partial.xml", PARTIAL))
        self.assertExit(p, EX_OK)
        rows = reports_rows(self)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][1], 1, "the partial copy is salvaged")
        # the next <record> closes the unclosed one: all ten are read
        self.assertEqual(rows[0][2], 10)
        self.assertIn("starts before the previous <record> was closed", rows[0][4])
        p = self.ingest("-v", self.write("complete.xml", COMPLETE))
        self.assertExit(p, EX_OK)
        rows = reports_rows(self)
        self.assertEqual([(r[0], r[1], r[2], r[3]) for r in rows], [("best-1", 0, 10, 55)])
        self.assertEqual(self.count("records"), 10)
        self.assertIn(b"replaced the salvaged copy", p.stderr + p.stdout)
        log = self.sql("SELECT outcome, message FROM ingest_log ORDER BY id")
        self.assertEqual(log[-1][0], "stored")
        self.assertIn("replaced the salvaged copy", log[-1][1])
        # every log line names the report that is stored now
        rid = self.sql("SELECT id FROM reports")[0][0]
        self.assertEqual({r[0] for r in self.sql("SELECT report FROM ingest_log")}, {rid})
        traffic_consistent(self)

    def test_salvage_says_how_many_records_it_lost(self):
        # two records inside a comment that is not well-formed ("--"):
        # recovery drops them, and the warning says so
        i = COMPLETE.index(b"<record>", COMPLETE.index(b"<record>") + 1)
        j = COMPLETE.index(b"<record>", i + 1)
        k = COMPLETE.index(b"<record>", j + 1)
        doc = COMPLETE[:i] + b"<!-- old -- copy " + COMPLETE[i:k] + b"-->" + COMPLETE[k:]
        p = self.ingest(self.write("lost.xml", doc))
        self.assertExit(p, EX_OK)
        rows = reports_rows(self)
        self.assertEqual(rows[0][1], 1)
        self.assertEqual(rows[0][2], 8)
        self.assertRegex(p.stderr.decode(), r"stored as salvaged: .*\d of the \d+ records could not be read")
        self.assertRegex(rows[0][4], r"\d of the \d+ records could not be read")

    def test_complete_copy_first_stays(self):
        self.assertExit(self.ingest(self.write("complete.xml", COMPLETE)), EX_OK)
        p = self.ingest(self.write("partial.xml", PARTIAL))
        self.assertExit(p, EX_OK)
        rows = reports_rows(self)
        self.assertEqual([(r[0], r[1], r[2], r[3]) for r in rows], [("best-1", 0, 10, 55)])
        self.assertEqual(self.sql("SELECT outcome FROM ingest_log ORDER BY id")[-1][0], "duplicate")
        traffic_consistent(self)

    def test_mangled_value_replaced(self):
        self.assertExit(self.ingest(self.write("mangled.xml", MANGLED)), EX_OK)
        self.assertEqual(reports_rows(self)[0][1], 1)
        good = report_xml(report_id="best-1", records=[record(ip="192.0.2.%d" % i, count=i,
                          header_from="example.org" if i == 1 else "example.com")
                          for i in range(1, 11)])
        self.assertExit(self.ingest(self.write("good.xml", good)), EX_OK)
        self.assertEqual(reports_rows(self)[0][1], 0)
        self.assertEqual(self.sql("SELECT header_from FROM records WHERE source_ip = '192.0.2.1'"),
                         [("example.org",)])
        traffic_consistent(self)

    def test_records_in_another_order_are_a_duplicate(self):
        self.assertExit(self.ingest(self.write("a.xml", COMPLETE)), EX_OK)
        shuffled = report_xml(report_id="best-1", records=list(reversed(TEN)))
        p = self.ingest(self.write("b.xml", shuffled))
        self.assertExit(p, EX_OK)
        self.assertNotIn(b"different records", p.stderr)
        log = self.sql("SELECT outcome, message FROM ingest_log ORDER BY id")
        self.assertEqual(log[-1], ("duplicate", None))


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


class SayWhatItIs(Case):
    """Issue 11 item 6, issue 17 item 6: rejections name what the input is."""

    def rejected_with(self, name, data, text):
        p = self.ingest(self.write(name, data))
        self.assertExit(p, EX_DATAERR)
        self.assertIn(text, p.stderr.decode())
        self.assertEqual(self.count("reports"), 0)
        return p

    def test_gzip_attachment_holding_a_png(self):
        msg = message([("report.xml.gz", "application/gzip", gz(PNG))])
        p = self.rejected_with("png.eml", msg, "a PNG image, not a report")
        self.assertNotIn("no part holds XML", p.stderr.decode())

    def test_bzip2_xz_zstd(self):
        for name, data, word in (("r.xml.bz2", b"BZh91AY&SY" + bytes(range(200, 256)), "bzip2"),
                                 ("r.xml.xz", b"\xfd7zXZ\x00\x00\x04" + bytes(range(200, 256)), "xz"),
                                 ("r.xml.zst", b"\x28\xb5\x2f\xfd" + bytes(range(200, 256)), "zstd")):
            p = self.ingest(self.write(name, data))
            self.assertExit(p, EX_DATAERR)
            self.assertIn("%s-compressed data (not supported" % word, p.stderr.decode())
            self.assertNotIn("unrecognised", p.stderr.decode())

    def test_tnef_attachment(self):
        msg = message([("winmail.dat", "application/ms-tnef", b"\x78\x9f\x3e\x22" + bytes(range(200)))])
        self.rejected_with("tnef.eml", msg, "a TNEF attachment (winmail.dat")

    def test_uuencoded_body(self):
        body = "Report attached.\n\nbegin 644 report.xml.gz\nM'XL(\"````````\n`\nend\n"
        self.rejected_with("uu.eml", message([], body=body), "uuencoded data")

    def test_truncated_report_padded_with_nul_bytes(self):
        doc = report_xml(report_id="pad-1", records=[record(count=i) for i in range(1, 5)])
        p = self.rejected_with("pad.xml", doc[:len(doc) // 2] + b"\0" * 5000, "NUL bytes of padding")
        self.assertNotIn("binary data", p.stderr.decode())

    def test_nul_bytes_in_the_middle_are_binary_data(self):
        doc = report_xml(report_id="nul-1")
        self.rejected_with("nul.xml", doc[:100] + b"\0\0" + doc[100:], "NUL bytes followed by more data")

    def test_sturla_dev_recovered_like_xmllint(self):
        recs = [record(ip="192.0.2.%d" % i, count=i) for i in range(1, 5)]
        doc = report_xml(report_id="st-1", domain="sturla.dev", records=recs).replace(
            b"<domain>sturla.dev</domain>", b"<domain>sturla.dev<<<</domain>")
        f = self.write("sturla.xml", doc)
        p = self.ingest(f)
        self.assertExit(p, EX_OK)
        self.assertEqual(self.sql("SELECT domain, record_count, message_count, salvaged FROM reports"),
                         [("sturla.dev", 4, 10, 1)])
        # the same as xmllint --recover finds
        x = subprocess.run(["xmllint", "--recover", f], capture_output=True)
        self.assertEqual(x.stdout.count(b"<record>"), 4)


class MimeCharset(Case):
    """Issue 17 item 6: RFC 7303, the MIME charset applies."""

    def test_latin1_part_without_declaration(self):
        doc = report_xml(org="Caf\u00e9 Org", report_id="latin-1").replace(
            b'<?xml version="1.0" encoding="UTF-8"?>\n', b"")
        latin1 = doc.decode().encode("utf-8").decode("utf-8").encode("iso-8859-1")
        import email.message
        import email.policy
        m = email.message.EmailMessage(policy=email.policy.SMTP)
        m["From"] = "noreply@receiver.example"
        m["To"] = "dmarc@example.com"
        m["Subject"] = "Report"
        m.set_content("report attached")
        m.add_attachment(latin1, maintype="text", subtype="xml", filename="r.xml",
                         params={"charset": "iso-8859-1"})
        p = self.ingest(self.write("latin1.eml", m.as_bytes()))
        self.assertExit(p, EX_OK)
        self.assertEqual(self.sql("SELECT org_name, salvaged FROM reports"), [("Caf\u00e9 Org", 0)])


class ValuesAtIngest(Case):
    """Issue 10 item 9, issue 17 items 4 and 6, end to end."""

    def test_int64_max_counts_rejected_not_wrapped(self):
        recs = [record(ip="192.0.2.1", count=9223372036854775807),
                record(ip="192.0.2.2", count=9223372036854775807)]
        p = self.ingest(self.write("big.xml", report_xml(report_id="big", records=recs)))
        self.assertExit(p, EX_DATAERR)
        self.assertIn("larger than 2^53", p.stderr.decode())
        self.assertEqual(self.count("reports"), 0)
        self.assertEqual(self.count("traffic"), 0)

    def test_int64_max_dates_rejected(self):
        doc = report_xml(report_id="max", begin=9223372036854775807, end=9223372036854775807)
        p = self.ingest(self.write("max.xml", doc))
        self.assertExit(p, EX_DATAERR)
        self.assertIn("after the year 9999", p.stderr.decode())
        self.assertEqual(self.count("reports"), 0)

    def test_fraction_and_empty_counts_rejected(self):
        for name, count in (("frac.xml", "3.5"), ("empty.xml", "")):
            p = self.ingest(self.write(name, report_xml(report_id=name, records=[record(count=count)])))
            self.assertExit(p, EX_DATAERR)
        self.assertEqual(self.count("reports"), 0)

    def test_milliseconds_converted(self):
        doc = report_xml(report_id="ms", begin=1700006400000, end=1700092799000)
        p = self.ingest(self.write("ms.xml", doc))
        self.assertExit(p, EX_OK)
        self.assertEqual(self.sql("SELECT begin_ts, end_ts FROM reports"), [(1700006400, 1700092799)])
        self.assertIn("looks like milliseconds", self.sql("SELECT warnings FROM reports")[0][0])

    def test_before_2000_stored_with_a_warning(self):
        doc = report_xml(report_id="old", begin=915148800, end=915235199)
        self.assertExit(self.ingest(self.write("old.xml", doc)), EX_OK)
        self.assertIn("before the year 2000", self.sql("SELECT warnings FROM reports")[0][0])

    def test_idna_domains_are_one_domain(self):
        a = report_xml(report_id="u1", domain="B\u00dcCHER.EXAMPLE",
                       records=[record(header_from="B\u00dcCHER.EXAMPLE")])
        b = report_xml(report_id="u2", domain="xn--bcher-kva.example",
                       records=[record(header_from="b\u00fccher.example")])
        self.assertExit(self.ingest(self.write("a.xml", a), self.write("b.xml", b)), EX_OK)
        self.assertEqual({r[0] for r in self.sql("SELECT domain FROM reports")}, {"b\u00fccher.example"})
        self.assertEqual({r[0] for r in self.sql("SELECT header_from FROM records")}, {"b\u00fccher.example"})

    def test_domains_with_space_or_newline_refused(self):
        for i, dom in enumerate(("exa mple.com", "example.com&#10;forged", "example.com&#x202E;")):
            p = self.ingest(self.write("d%d.xml" % i, report_xml(report_id="d%d" % i, domain=dom)))
            self.assertExit(p, EX_DATAERR)
            self.assertIn("policy_published/domain contains", p.stderr.decode())
        self.assertEqual(self.count("reports"), 0)
