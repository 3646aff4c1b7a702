"""dmarc-ingest from local sources: every kind of input, container and
message shape, duplicates, the output under -v/-q, the database location and
permissions, the kept raw bytes, and every exit status.

All against the real binary, real SQLite files, real gzip/zip archives and
real RFC 5322 messages built with python's email package.
"""
import base64
import fcntl
import gzip
import os
import re
import stat
import subprocess
import zlib

from dmarctest import (EX_DATAERR, EX_NOINPUT, EX_OK, EX_TEMPFAIL, EX_USAGE, EXAMPLES, INGEST, Case, gz,
                       message, record, report_xml, run, zipped)


def reports(case):
    return case.sql("SELECT org_name, report_id, domain, record_count, message_count, salvaged "
                    "FROM reports ORDER BY report_id")


class Inputs(Case):
    def test_plain_xml_file(self):
        p = self.write("r.xml", report_xml(records=[record(count=3), record(ip="192.0.2.2", count=4)]))
        proc = self.ingest(p)
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(proc.stderr, b"")  # quiet when all is well
        self.assertEqual(reports(self), [("Example Receiver", "rid-1", "example.com", 2, 7, 0)])
        self.assertEqual(self.sql("SELECT source_ip, count FROM records ORDER BY id"),
                         [("192.0.2.1", 3), ("192.0.2.2", 4)])

    def test_gzip_named_anything(self):
        # content decides, not the name
        p = self.write("report.zip", gz(report_xml()))
        self.assertExit(self.ingest(p), EX_OK)
        self.assertEqual(self.count("reports"), 1)
        self.assertEqual(self.sql("SELECT format FROM raw_payloads"), [("gzip",)])

    def test_gzip_in_gzip_and_multimember(self):
        a = gz(report_xml(records=[record(count=5)]))
        self.assertExit(self.ingest(self.write("a.xml.gz.gz", gz(a))), EX_OK)
        xml = report_xml(report_id="multi", records=[record(count=2)])
        half = len(xml) // 2
        multi = gz(xml[:half]) + gz(xml[half:])  # concatenated members
        self.assertExit(self.ingest(self.write("m.gz", multi)), EX_OK)
        self.assertEqual(self.sql("SELECT report_id, message_count FROM reports ORDER BY report_id"),
                         [("multi", 2), ("rid-1", 5)])

    def test_gzip_trailing_garbage_is_a_note(self):
        p = self.write("t.xml.gz", gz(report_xml()) + b"\r\n")
        proc = self.ingest("-v", p)
        self.assertExit(proc, EX_OK)
        self.assertIn("data after the end of the gzip stream ignored", proc.stderr.decode())
        self.assertIn("data after the end of the gzip stream", self.sql("SELECT warnings FROM reports")[0][0])

    def test_raw_zlib_stream(self):
        p = self.write("r.z", zlib.compress(report_xml()))
        self.assertExit(self.ingest(p), EX_OK)
        self.assertEqual(self.sql("SELECT format FROM raw_payloads"), [("zlib",)])

    def test_zip_every_member(self):
        z = zipped([("a.xml", report_xml(report_id="za")), ("dir/", b""),
                    ("", report_xml(report_id="zempty")),
                    ("b.xml.gz", gz(report_xml(report_id="zb")))])
        proc = self.ingest("-v", self.write("r.zip", z))
        self.assertExit(proc, EX_OK)
        self.assertEqual([r[1] for r in reports(self)], ["za", "zb", "zempty"])
        # one raw payload shared by the three reports of the archive
        self.assertEqual(self.count("raw_payloads"), 1)
        self.assertIn("zip member 'a.xml'", proc.stderr.decode())

    def test_stdin(self):
        proc = self.ingest("-", input=gz(report_xml(report_id="fromstdin")))
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.sql("SELECT report_id, source FROM reports"), [("fromstdin", "(stdin)")])

    def test_directory_recursive_sorted(self):
        self.write("in/b/2.xml", report_xml(report_id="two"))
        self.write("in/a/1.xml.gz", gz(report_xml(report_id="one")))
        self.write("in/a/sub/3.zip", zipped([("3.xml", report_xml(report_id="three"))]))
        proc = self.ingest("-v", self.path("in"))
        self.assertExit(proc, EX_OK)
        # stored in path order: in/a/1.xml.gz, in/a/sub/3.zip, in/b/2.xml
        order = re.findall(r"(?m)^stored\s+Example Receiver (\S+) ", proc.stderr.decode())
        self.assertEqual(order, ["one", "three", "two"])

    def test_maildir_and_mbox(self):
        m1 = message([("a.xml.gz", "application/gzip", gz(report_xml(report_id="md1")))])
        m2 = message([("b.zip", "application/zip", zipped([("b.xml", report_xml(report_id="md2"))]))])
        self.write("Maildir/new/1.host", m1)
        self.write("Maildir/cur/2.host:2,S", m2)
        os.makedirs(self.path("Maildir/tmp"))
        self.write("Maildir/tmp/ignored", m1.replace(b"md1", b"tmpx"))
        self.assertExit(self.ingest(self.path("Maildir")), EX_OK)
        self.assertEqual([r[1] for r in reports(self)], ["md1", "md2"])

        mbox = (b"From a@b Tue Nov 24 10:00:00 2026\n" + message([
            ("c.xml", "text/xml", report_xml(report_id="mb1"))]).replace(b"\r\n", b"\n") +
            b"\nFrom a@b Tue Nov 24 10:00:01 2026\n" + message([
                ("d.xml.gz", "application/octet-stream", gz(report_xml(report_id="mb2")))]).replace(b"\r\n", b"\n"))
        proc = self.ingest("-v", self.write("box.mbox", mbox))
        self.assertExit(proc, EX_OK)
        self.assertIn("box.mbox: message 2", proc.stderr.decode())
        self.assertEqual([r[1] for r in reports(self)], ["mb1", "mb2", "md1", "md2"])

    def test_examples_directory(self):
        proc = self.ingest("-v", EXAMPLES)
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.count("reports"), 5)
        self.assertEqual(self.sql("SELECT sum(message_count), sum(record_count) FROM reports"), [(7693, 46)])


class Messages(Case):
    def ingest_message(self, raw, status=EX_OK):
        proc = self.ingest("-v", self.write("m.eml", raw))
        self.assertExit(proc, status)
        return proc

    def test_generic_content_types(self):
        for i, ctype in enumerate(["application/octet-stream", "application/x-zip-compressed",
                                   "text/plain", "application/x-gzip"]):
            data = zipped([("r.xml", report_xml(report_id="ct%d" % i))]) if "zip" in ctype else \
                gz(report_xml(report_id="ct%d" % i))
            self.ingest_message(message([("weird.bin", ctype, data)]))
        self.assertEqual([r[1] for r in reports(self)], ["ct0", "ct1", "ct2", "ct3"])

    def test_single_part_base64_zip(self):
        body = base64.encodebytes(zipped([("g.xml", report_xml(report_id="single"))]))
        raw = (b"From: noreply-dmarc-support@google.com\r\nTo: d@example.com\r\n"
               b"Subject: Report domain: example.com Submitter: google.com\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: application/zip; name=\"g.zip\"\r\n"
               b"Content-Disposition: attachment; filename=\"g.zip\"\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n" + body.replace(b"\n", b"\r\n"))
        self.ingest_message(raw)
        self.assertEqual([r[1] for r in reports(self)], ["single"])

    def test_quoted_printable_xml_part(self):
        import quopri
        xml = report_xml(report_id="qp", org="Caf\xe9 \u20ac")
        raw = (b"From: r@x\r\nTo: d@example.com\r\nSubject: r\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/xml; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
               quopri.encodestring(xml).replace(b"\n", b"\r\n"))
        self.ingest_message(raw)
        self.assertEqual(self.sql("SELECT org_name FROM reports"), [("Caf\xe9 \u20ac",)])

    def test_forwarded_report(self):
        inner = message([("f.xml.gz", "application/gzip", gz(report_xml(report_id="fwd")))])
        import email.message
        import email.policy
        outer = email.message.EmailMessage(policy=email.policy.SMTP)
        outer["From"] = "colleague@example.com"
        outer["To"] = "dmarc@example.com"
        outer["Subject"] = "Fwd: report"
        outer.set_content("see attached")
        outer.add_attachment(inner, maintype="message", subtype="rfc822")
        self.ingest_message(outer.as_bytes())
        self.assertEqual([r[1] for r in reports(self)], ["fwd"])

    def test_html_body_never_a_report(self):
        html = "<html><body><feedback>not a report</feedback></body></html>"
        proc = self.ingest_message(message([], html=html), EX_DATAERR)
        self.assertIn("without", proc.stderr.decode())
        self.assertEqual(self.count("reports"), 0)

    def test_no_attachment_rejected_with_reason(self):
        proc = self.ingest_message(message([]), EX_DATAERR)
        self.assertRegex(proc.stderr.decode(), r"(?m)^rejected .*m\.eml: a message without an aggregate report")

    def test_good_and_bad_parts(self):
        raw = message([("good.xml", "text/xml", report_xml(report_id="good")),
                       ("bad.xml.gz", "application/gzip", gz(report_xml(report_id="bad"))[:-20])])
        proc = self.ingest_message(raw, EX_DATAERR)
        self.assertEqual([r[1] for r in reports(self)], ["good"])
        self.assertIn("attachment 'bad.xml.gz'", proc.stderr.decode())
        self.assertIn("truncated", proc.stderr.decode())

    def test_failure_report_is_not_aggregate(self):
        raw = (b"From: r@x\r\nTo: d@example.com\r\nSubject: failure\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n"
               b"--b\r\nContent-Type: text/plain\r\n\r\nhuman text\r\n"
               b"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: auth-failure\r\n\r\n"
               b"--b\r\nContent-Type: message/rfc822\r\n\r\n" +
               message([("x.xml", "text/xml", report_xml(report_id="inside-arf"))]) + b"\r\n--b--\r\n")
        proc = self.ingest_message(raw, EX_DATAERR)
        self.assertIn("failure (forensic) report (ARF", proc.stderr.decode())
        self.assertEqual(self.count("reports"), 0)  # the forwarded original is not ours

    def test_yahoo_unused_placeholder(self):
        proc = self.ingest_message(message([("x.xml.gz", "application/gzip", gz(b"unused"))]), EX_DATAERR)
        self.assertIn('plain text, not a report ("unused")', proc.stderr.decode())


class Duplicates(Case):
    def test_second_run_stores_nothing(self):
        self.write("d/a.xml", report_xml(report_id="a"))
        self.write("d/b.xml.gz", gz(report_xml(report_id="b")))
        self.assertExit(self.ingest(self.path("d")), EX_OK)
        proc = self.ingest("-v", self.path("d"))
        self.assertExit(proc, EX_OK)
        out = proc.stderr.decode()
        self.assertEqual(len(re.findall(r"^duplicate ", out, re.M)), 2)
        self.assertNotRegex(out, r"(?m)^stored ")
        self.assertIn("reports stored 0 (salvaged 0), duplicates 2, rejected 0", out)
        self.assertEqual(self.count("reports"), 2)
        self.assertEqual(self.count("raw_payloads"), 2)
        self.assertEqual(self.sql("SELECT outcome, count(*) FROM ingest_log GROUP BY outcome ORDER BY 1"),
                         [("duplicate", 2), ("stored", 2)])

    def test_same_report_in_other_container_is_duplicate(self):
        xml = report_xml(report_id="same")
        self.assertExit(self.ingest(self.write("a.xml", xml)), EX_OK)
        proc = self.ingest(self.write("b.zip", zipped([("b.xml", xml.replace(b"<record>", b"\n  <record>"))])))
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stderr, b"")  # an identical copy is not worth a warning
        self.assertEqual(self.count("reports"), 1)

    def test_reused_id_other_dates_is_new(self):
        self.assertExit(self.ingest(self.write("a.xml", report_xml(report_id="x", begin=1, end=2))), EX_OK)
        self.assertExit(self.ingest(self.write("b.xml", report_xml(report_id="x", begin=3, end=4))), EX_OK)
        self.assertEqual(self.count("reports"), 2)

    def test_same_key_different_content_keeps_first_and_warns(self):
        self.assertExit(self.ingest(self.write("a.xml", report_xml(records=[record(count=1)]))), EX_OK)
        proc = self.ingest(self.write("b.xml", report_xml(records=[record(count=9)])))
        self.assertExit(proc, EX_OK)
        err = proc.stderr.decode()
        self.assertIn("different records (1 records/9 messages here, 1/1 stored): kept the first", err)
        self.assertIn("a.xml", err)  # says where the kept one came from
        self.assertEqual(self.sql("SELECT message_count FROM reports"), [(1,)])
        self.assertEqual(self.sql("SELECT count(*) FROM ingest_log WHERE outcome='duplicate' "
                                  "AND message LIKE '%different records%'"), [(1,)])

    def test_records_before_header_still_deduplicated(self):
        xml = (b"<feedback>" + record().encode() + b"<report_metadata><org_name>o</org_name><email>a@b</email>"
               b"<report_id>late</report_id><date_range><begin>1</begin><end>2</end></date_range>"
               b"</report_metadata><policy_published><domain>example.com</domain></policy_published></feedback>")
        self.assertExit(self.ingest(self.write("a.xml", xml)), EX_OK)
        self.assertExit(self.ingest(self.write("b.xml", xml)), EX_OK)
        self.assertEqual(self.sql("SELECT report_id, record_count FROM reports"), [("late", 1)])
        self.assertEqual(self.count("records"), 1)


class Stored(Case):
    def test_raw_bytes_kept_exactly(self):
        data = gz(report_xml(report_id="raw"), mtime=1234)
        self.ingest(self.write("r.xml.gz", data))
        (blob, fmt, size, name), = self.sql("SELECT data, format, size, name FROM raw_payloads")
        self.assertEqual((blob, fmt, size), (data, "gzip", len(data)))
        self.assertTrue(name.endswith("r.xml.gz"))
        # and it parses again to the same report
        self.assertIn(b"<report_id>raw</report_id>", gzip.decompress(blob))

    def test_every_field(self):
        xml = report_xml(records=[record(
            ip="2001:DB8:0::1", count=4, disposition="quarantine", dkim="fail", spf="pass",
            header_from="Mail.Example.com.", envelope_from="bounce.example.com",
            dkim_results=(("example.com", "sel1", "Fail"), ("amazonses.com", "tok", "pass")),
            spf_results=(("bounce.example.com", "mfrom", "pass"),),
            reasons=(("forwarded", "via list"), ("something_new", "hm")))],
            policy="<p>quarantine</p><sp>reject</sp><np>none</np><pct>50</pct><fo>1</fo>")
        self.assertExit(self.ingest(self.write("f.xml", xml)), EX_OK)
        self.assertEqual(self.sql("SELECT p, sp, np, pct, fo, adkim, aspf, email, version FROM reports"),
                         [("quarantine", "reject", "none", 50, "1", "r", "r", "dmarc@receiver.example", "1.0")])
        self.assertEqual(self.sql("SELECT source_ip, count, disposition, dkim, spf, header_from, envelope_from, "
                                  "envelope_to FROM records"),
                         [("2001:db8::1", 4, "quarantine", "fail", "pass", "mail.example.com",
                           "bounce.example.com", None)])
        self.assertEqual(self.sql("SELECT idx, domain, selector, result FROM dkim_results ORDER BY idx"),
                         [(0, "example.com", "sel1", "fail"), (1, "amazonses.com", "tok", "pass")])
        self.assertEqual(self.sql("SELECT domain, scope, result FROM spf_results"),
                         [("bounce.example.com", "mfrom", "pass")])
        self.assertEqual(self.sql("SELECT type, type_original, comment FROM override_reasons ORDER BY idx"),
                         [("forwarded", None, "via list"), ("other", "something_new", "hm")])
        self.assertEqual(self.sql("PRAGMA foreign_key_check"), [])
        self.assertEqual(self.sql("PRAGMA integrity_check"), [("ok",)])

    def test_schema_version_and_permissions(self):
        home = self.path("home")
        os.makedirs(home)
        env = {"HOME": home, "XDG_DATA_HOME": ""}
        proc = run([INGEST, self.write("r.xml", report_xml())], env=env)
        self.assertExit(proc, EX_OK)
        db = os.path.join(home, ".local/share/dmarcsift/dmarc.db")
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(db)).st_mode), 0o700)
        self.assertEqual(self.sql("PRAGMA user_version", db=db), [(4,)])  # 3: TLS/failure reports, 4: source_names
        self.assertEqual(self.sql("PRAGMA journal_mode", db=db), [("wal",)])
        # $DMARCSIFT_DB and $XDG_DATA_HOME
        other = self.path("env.db")
        self.assertExit(run([INGEST, self.path("r.xml")], env={"DMARCSIFT_DB": other}), EX_OK)
        self.assertEqual(self.count("reports", db=other), 1)
        xdg = self.path("xdg")
        self.assertExit(run([INGEST, self.path("r.xml")], env={"XDG_DATA_HOME": xdg, "HOME": home}), EX_OK)
        self.assertEqual(self.count("reports", db=os.path.join(xdg, "dmarcsift/dmarc.db")), 1)

    def test_newer_schema_refused(self):
        self.assertExit(self.ingest(self.write("r.xml", report_xml())), EX_OK)
        subprocess.run(["sqlite3", self.db, "PRAGMA user_version = 99"], check=True)
        proc = self.ingest(self.path("r.xml"))
        self.assertNotEqual(proc.returncode, EX_OK)
        self.assertIn("schema version 99", proc.stderr.decode())


class Output(Case):
    def test_verbose_line_and_summary(self):
        self.write("in/a.xml", report_xml(org="Org A", report_id="ida", records=[record(), record()]))
        self.write("in/bad.xml", b"<invalid/>")
        self.write("in/ws.xml", b"\n  " + report_xml(report_id="ws"))
        proc = self.ingest("-v", self.path("in"))
        self.assertExit(proc, EX_DATAERR)
        err = proc.stderr.decode()
        self.assertRegex(err, r"(?m)^stored    Org A ida example\.com 2023-11-15\.\.2023-11-15 2 records  .*a\.xml$")
        self.assertRegex(err, r"(?m)^salvaged  Example Receiver ws example\.com .* 1 record  .*ws\.xml$")
        self.assertRegex(err, r"(?m)^rejected  /\S*bad\.xml: root element <invalid> is not <feedback>")
        self.assertRegex(err, r"inputs 3, reports stored 2 \(salvaged 1\), duplicates 0, rejected 1, "
                              r"records stored 3")

    def test_quiet_prints_errors_only(self):
        self.write("in/ws.xml", b"\n  " + report_xml(report_id="ws"))
        proc = self.ingest("-q", self.path("in"))
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stderr, b"")  # the salvage warning is suppressed
        self.write("in2/bad.xml", b"<invalid/>")
        proc = self.ingest("-q", self.path("in2"))
        self.assertExit(proc, EX_DATAERR)
        self.assertIn(b"rejected", proc.stderr)

    def test_salvage_warning_by_default(self):
        proc = self.ingest(self.write("ws.xml", b"\n  " + report_xml(report_id="ws")))
        self.assertExit(proc, EX_OK)
        self.assertIn("stored as salvaged: not well-formed XML at line", proc.stderr.decode())


class ExitStatus(Case):
    def test_usage(self):
        # no PATH means "fetch from the configured mailbox": without one,
        # that is a configuration error (78), said plainly
        proc = run([INGEST], env={"HOME": self.tmp, "XDG_CONFIG_HOME": self.tmp})
        self.assertExit(proc, 78)
        self.assertIn("IMAP", proc.stderr.decode())
        self.assertExit(run([INGEST, "--no-such-option", "x"]), EX_USAGE)
        self.assertExit(run([INGEST, "--max-ratio", "abc", "x"]), EX_USAGE)
        self.assertExit(run([INGEST, "--max-input", "12Q", "x"]), EX_USAGE)
        proc = run([INGEST, "--help"])
        self.assertExit(proc, EX_OK)
        self.assertLessEqual(len(proc.stdout.decode().splitlines()), 40)  # fits a screen
        self.assertRegex(run([INGEST, "--version"]).stdout.decode(), r"^dmarc-ingest \(dmarcsift\) \d+\.\d+")

    def test_missing_path_is_66_but_others_are_read(self):
        good = self.write("r.xml", report_xml())
        proc = self.ingest(self.path("nope.xml"), good)
        self.assertExit(proc, EX_NOINPUT)
        self.assertIn("nope.xml", proc.stderr.decode())
        self.assertEqual(self.count("reports"), 1)

    def test_rejected_is_65_others_stored(self):
        proc = self.ingest(self.write("bad.xml", b"{\"policies\": []}"), self.write("r.xml", report_xml()))
        self.assertExit(proc, EX_DATAERR)
        self.assertEqual(self.count("reports"), 1)

    def test_lock_held_is_75(self):
        self.assertExit(self.ingest(self.write("r.xml", report_xml())), EX_OK)
        with open(self.db + ".lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            proc = self.ingest(self.path("r.xml"))
        self.assertExit(proc, EX_TEMPFAIL)
        self.assertEqual(len(proc.stderr.decode().strip().splitlines()), 1)
        self.assertIn("another dmarc-ingest is running", proc.stderr.decode())

    def test_database_not_creatable(self):
        proc = self.ingest(self.write("r.xml", report_xml()), db=self.path("no/such/dir/x.db"))
        self.assertIn(proc.returncode, (73, 74))
        self.assertIn("no/such/dir", proc.stderr.decode())


if __name__ == "__main__":
    import unittest
    unittest.main()
