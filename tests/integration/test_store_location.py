"""The store as a location (issues 11, 12 and 17): what --db may name, and a
reader who may read the database but not write its folder.

The read-only cases run dmarc-report as the unprivileged user `nobody`
(setpriv), over a database its owner (root, running the tests) keeps in a
folder nobody may not write: SQLite's WAL mode wants a -shm file beside the
database, even for reading.  They are skipped when the tests do not run as
root (no other user to become).
"""
import gzip
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import tempfile

from dmarctest import (Case, EXAMPLES, INGEST, REPORT, EX_OK, EX_USAGE, EX_NOINPUT,
                       message, record, report_xml, run, wrap)

EX_CANTCREAT, EX_IOERR = 73, 74


def as_nobody(cmd):
    return ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--"] + cmd


def nobody_can_run():
    """Whether the tests may switch to nobody, and nobody can reach the
    binaries (a build inside a private home directory could not)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return False
    proc = subprocess.run(as_nobody([REPORT, "--version"]), capture_output=True)
    return proc.returncode == 0


class ReadOnlyReader(Case):
    """A folder only its owner may write, a database every user may read."""

    def setUp(self):
        super().setUp()
        if not nobody_can_run():
            self.skipTest("needs root and setpriv, and the build readable by nobody")
        # mkdtemp makes the test folder 0700: nobody must reach into it
        os.chmod(self.tmp, 0o755)
        self.folder = self.path("shared")
        os.mkdir(self.folder, 0o755)
        self.db = os.path.join(self.folder, "dmarc.db")
        reports = sorted(os.path.join(EXAMPLES, n) for n in os.listdir(EXAMPLES))
        self.assertExit(self.ingest(*reports), EX_OK)
        os.chmod(self.db, 0o644)

    def nobody(self, *args):
        return run(as_nobody(wrap([REPORT, "--db", self.db] + list(args))))

    def test_reader_gets_the_owners_answer_and_a_note(self):
        owner = {cmd: self.report(cmd, "--format", "csv") for cmd in ("reports", "sources", "policy")}
        before = sorted(os.listdir(self.folder))
        for cmd, expected in owner.items():
            self.assertExit(expected, EX_OK)
            proc = self.nobody(cmd, "--format", "csv")
            self.assertExit(proc, EX_OK)
            self.assertEqual(proc.stdout, expected.stdout)
            err = proc.stderr.decode()
            self.assertIn("cannot write the folder %s" % self.folder, err)
            self.assertIn("read-only as an immutable snapshot", err)
        self.assertEqual(sorted(os.listdir(self.folder)), before)

    def hold_pending_change(self):
        """A writer that has committed into the WAL and not checkpointed
        (an import in progress): returns its connection."""
        con = sqlite3.connect(self.db, isolation_level=None)
        con.execute("PRAGMA wal_autocheckpoint = 0")
        con.execute("UPDATE reports SET org_name = 'Pending Org' WHERE id = 1")
        self.assertGreater(os.path.getsize(self.db + "-wal"), 0)
        return con

    def test_pending_changes_are_read_when_the_shm_is_readable(self):
        con = self.hold_pending_change()
        try:
            os.chmod(self.db + "-wal", 0o644)
            os.chmod(self.db + "-shm", 0o644)
            proc = self.nobody("reports", "--format", "csv")
            self.assertExit(proc, EX_OK)
            self.assertIn(b"Pending Org", proc.stdout)
            self.assertNotIn(b"immutable", proc.stderr)
        finally:
            con.close()

    def test_pending_changes_that_cannot_be_read_are_an_error_that_says_why(self):
        con = self.hold_pending_change()
        try:
            os.chmod(self.db + "-wal", 0o600)
            os.chmod(self.db + "-shm", 0o600)
            proc = self.nobody("reports")
            self.assertExit(proc, EX_IOERR)
            err = proc.stderr.decode()
            self.assertIn("%s-wal holds changes not yet in %s" % (self.db, self.db), err)
            self.assertIn("needs write access to its folder", err)
            self.assertEqual(proc.stdout, b"")
        finally:
            con.close()


class RawPayload(Case):
    """issue 15: a report that came as plain XML is kept compressed."""

    def test_plain_xml_is_kept_gzipped_and_gives_back_its_bytes(self):
        xml = report_xml(report_id="plain", records=[record(count=n + 1) for n in range(300)])
        self.assertExit(self.ingest(self.write("r.xml", xml)), EX_OK)
        (blob, fmt, size, name), = self.sql("SELECT data, format, size, name FROM raw_payloads")
        self.assertEqual(fmt, "gzip")
        self.assertEqual(size, len(blob))
        self.assertLess(len(blob), len(xml) // 4)
        self.assertEqual(gzip.decompress(blob), xml if isinstance(xml, bytes) else xml.encode())
        self.assertTrue(name.endswith("r.xml"))

    def test_plain_xml_in_a_message_is_kept_gzipped(self):
        xml = report_xml(report_id="attached", records=[record(count=n + 1) for n in range(50)])
        self.assertExit(self.ingest(self.write("m.eml", message([("report.xml", "text/xml", xml if isinstance(xml, bytes) else xml.encode())]))), EX_OK)
        (blob, fmt), = self.sql("SELECT data, format FROM raw_payloads")
        self.assertEqual(fmt, "gzip")
        self.assertIn(b"<report_id>attached</report_id>", gzip.decompress(blob))


class PageSize(Case):
    """issue 15: a new store has 16 KB pages (a system call per page when
    the cache spills and at the checkpoint); an existing one keeps its own."""

    def test_a_new_store_has_16_kb_pages(self):
        self.assertExit(self.ingest(self.write("r.xml", report_xml(report_id="new"))), EX_OK)
        self.assertEqual(self.sql("PRAGMA page_size"), [(16384,)])
        self.assertEqual(self.sql("SELECT count(*) FROM reports"), [(1,)])

    def test_an_existing_store_keeps_its_pages(self):
        con = sqlite3.connect(self.db)
        con.execute("PRAGMA page_size = 4096")
        con.execute("PRAGMA journal_mode = WAL")
        con.close()
        self.assertExit(self.ingest(self.write("r.xml", report_xml(report_id="old"))), EX_OK)
        self.assertEqual(self.sql("PRAGMA page_size"), [(4096,)])
        self.assertEqual(self.sql("SELECT report_id FROM reports"), [("old",)])


class DbOption(Case):
    def test_report_on_a_directory_says_it_is_one(self):
        proc = self.report("reports", db=self.tmp)
        self.assertExit(proc, EX_NOINPUT)
        err = proc.stderr.decode()
        self.assertIn("%s is a directory" % self.tmp, err)
        self.assertIn("--db %s/dmarc.db" % self.tmp, err)
        self.assertNotIn("disk I/O error", err)

    def test_ingest_on_a_directory_says_it_is_one_and_leaves_nothing(self):
        folder = self.path("reports")
        os.mkdir(folder)
        proc = self.ingest(os.path.join(EXAMPLES, os.listdir(EXAMPLES)[0]), db=folder)
        self.assertExit(proc, EX_CANTCREAT)
        self.assertIn("%s is a directory" % folder, proc.stderr.decode())
        self.assertEqual(sorted(os.listdir(self.tmp)), ["reports"])  # no reports.lock

    def test_empty_db_is_refused_not_the_default(self):
        home = self.path("home")
        os.mkdir(home)
        env = {"HOME": home, "XDG_DATA_HOME": ""}
        example = os.path.join(EXAMPLES, sorted(os.listdir(EXAMPLES))[0])
        proc = run([INGEST, "--db", "", example], env=env)
        self.assertExit(proc, EX_CANTCREAT)
        self.assertIn("database location is empty", proc.stderr.decode())
        self.assertEqual(os.listdir(home), [])  # not ~/.local/share/dmarcsift
        proc = run([REPORT, "--db", "", "reports"], env=env)
        self.assertExit(proc, EX_USAGE)
        self.assertIn("database location is empty", proc.stderr.decode())
        # without --db, the default is still the default
        self.assertExit(run([INGEST, example], env=env), EX_OK)
        self.assertTrue(os.path.exists(os.path.join(home, ".local/share/dmarcsift/dmarc.db")))

    def test_url_without_its_backend_is_not_taken_for_a_file(self):
        proc = self.report("reports", db="mysql://user@localhost/dmarc")
        self.assertExit(proc, EX_NOINPUT)
        self.assertIn("not a location this dmarcsift can open", proc.stderr.decode())
        self.assertEqual(os.listdir(self.tmp), [])
