"""A local maildir that keeps up (issue 14 item 7): --maildir-handled
seen|move ([maildir] handled) runs a maildir PATH through the generic
source policy (ingest/source.c): the reports are committed, then a handled
message goes to cur/ with the S flag (seen) or to the sibling .Processed
folder (move), and a message that cannot be used goes to .Failed; the next
run reads nothing again.  Without the option the maildir is only read, as
before.
"""
import os

import dmarctest as dt


def report_message(rid):
    xml = dt.report_xml(report_id=rid)
    raw = dt.message([("r.xml.gz", "application/gzip", dt.gz(xml))],
                     subject="Report-ID: %s" % rid)
    return raw.replace(b"<test@receiver.example>",
                       ("<%s@receiver.example>" % rid).encode())


def plain_message(tag):
    return dt.message([], body="Not a report at all.",
                      subject="hello %s" % tag)


class MaildirCase(dt.Case):

    def make_maildir(self, name, new=(), cur=()):
        """A maildir with `new` messages in new/ and (name, raw) pairs in
        cur/; returns its path."""
        md = self.path(name)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        for i, raw in enumerate(new):
            with open(os.path.join(md, "new", "1700000000.M%dP1.host" % i),
                      "wb") as f:
                f.write(raw)
        for fname, raw in cur:
            with open(os.path.join(md, "cur", fname), "wb") as f:
                f.write(raw)
        return md

    def files(self, md, sub):
        p = os.path.join(md, sub)
        return sorted(os.listdir(p)) if os.path.isdir(p) else []

    def report_ids(self):
        return sorted(r[0] for r in self.sql("SELECT report_id FROM reports"))


class TestMove(MaildirCase):

    def test_handled_to_processed_failed_to_failed(self):
        md = self.make_maildir("Maildir", new=[report_message("r1"),
                                               plain_message("x"),
                                               report_message("r2")])
        p = self.ingest("-v", "--maildir-handled", "move", md)
        self.assertExit(p, dt.EX_DATAERR)  # the plain message: rejected
        self.assertEqual(self.report_ids(), ["r1", "r2"])
        # nothing left to read
        self.assertEqual(self.files(md, "new"), [])
        self.assertEqual(self.files(md, "cur"), [])
        processed = self.files(os.path.join(md, ".Processed"), "cur")
        failed = self.files(os.path.join(md, ".Failed"), "cur")
        self.assertEqual(processed, ["1700000000.M0P1.host:2,S",
                                     "1700000000.M2P1.host:2,S"])
        self.assertEqual(failed, ["1700000000.M1P1.host"])
        with open(os.path.join(md, ".Failed", "cur", failed[0]), "rb") as f:
            self.assertEqual(f.read(), plain_message("x"))
        self.assertTrue(os.path.exists(
            os.path.join(md, ".Processed", "maildirfolder")))
        self.assertIn(b"goes to %s/.Failed" % md.encode(), p.stderr)
        # nothing went to quarantine: the maildir keeps the message
        self.assertFalse(os.path.exists(self.path("quarantine")))
        # the cron job's next run: nothing read, nothing failed
        again = self.ingest("-v", "--maildir-handled", "move", md)
        self.assertExit(again, dt.EX_OK)
        self.assertIn(b"inputs 0,", again.stderr)

    def test_subfolder_siblings_are_maildirplusplus(self):
        root = self.make_maildir("Maildir")
        sub = self.make_maildir("Maildir/.dmarc", new=[report_message("s1")])
        p = self.ingest("--maildir-handled", "move", sub + "/")
        self.assertExit(p, dt.EX_OK)
        self.assertEqual(self.files(root + "/.dmarc.Processed", "cur"),
                         ["1700000000.M0P1.host:2,S"])
        self.assertFalse(os.path.exists(sub + "/.Processed"))

    def test_crash_between_link_and_unlink(self):
        """A message found both here and in .Processed (a run died after
        the copy): its reports are stored, and it is only removed here."""
        raw = report_message("c1")
        md = self.make_maildir("Maildir", new=[raw])
        self.assertExit(self.ingest(md), dt.EX_OK)  # stored, kept
        os.makedirs(md + "/.Processed/cur")
        os.makedirs(md + "/.Processed/new")
        os.makedirs(md + "/.Processed/tmp")
        with open(md + "/.Processed/cur/1700000000.M0P1.host:2,S", "wb") as f:
            f.write(raw)
        p = self.ingest("-v", "--maildir-handled", "move", md)
        self.assertExit(p, dt.EX_OK)
        self.assertIn(b"duplicates 1", p.stderr)
        self.assertEqual(self.files(md, "new"), [])
        self.assertEqual(self.files(md + "/.Processed", "cur"),
                         ["1700000000.M0P1.host:2,S"])
        self.assertEqual(self.count("reports"), 1)


class TestSeen(MaildirCase):

    def test_handled_flagged_and_skipped_next_time(self):
        md = self.make_maildir(
            "Maildir", new=[report_message("n1")],
            cur=[("1700000001.M9P1.host:2,F", report_message("c1")),
                 ("1700000002.M9P1.host:2,S", report_message("old"))])
        p = self.ingest("-v", "--maildir-handled", "seen", md)
        self.assertExit(p, dt.EX_OK)
        # the message already flagged S is not read
        self.assertEqual(self.report_ids(), ["c1", "n1"])
        self.assertEqual(self.files(md, "new"), [])
        self.assertEqual(self.files(md, "cur"), [
            "1700000000.M0P1.host:2,S", "1700000001.M9P1.host:2,FS",
            "1700000002.M9P1.host:2,S"])
        again = self.ingest("-v", "--maildir-handled", "seen", md)
        self.assertExit(again, dt.EX_OK)
        self.assertIn(b"inputs 0,", again.stderr)

    def test_from_the_configuration(self):
        md = self.make_maildir("Maildir", new=[report_message("k1"),
                                               plain_message("p")])
        conf = self.write("conf", "[maildir]\nhandled = seen\n")
        os.chmod(conf, 0o600)
        p = self.ingest("--config", conf, md)
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.files(md, "cur"), ["1700000000.M0P1.host:2,S"])
        self.assertEqual(self.files(md + "/.Failed", "cur"),
                         ["1700000000.M1P1.host"])


class TestKeep(MaildirCase):

    def test_default_only_reads(self):
        md = self.make_maildir("Maildir", new=[report_message("d1")])
        self.assertExit(self.ingest(md), dt.EX_OK)
        self.assertEqual(self.files(md, "new"), ["1700000000.M0P1.host"])
        self.assertFalse(os.path.exists(md + "/.Processed"))
        p = self.ingest("-v", md)
        self.assertIn(b"duplicates 1", p.stderr)

    def test_bad_value_names_the_option(self):
        md = self.make_maildir("Maildir")
        p = self.ingest("--maildir-handled", "delete", md)
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(b"--maildir-handled: 'delete' is not one of keep, "
                      b"seen, move", p.stderr)
        conf = self.write("conf", "[maildir]\nhandled = yes\n")
        os.chmod(conf, 0o600)
        p = self.ingest("--config", conf, md)
        self.assertExit(p, 78)
        self.assertIn(b"conf:2: [maildir] handled: 'yes' is not one of",
                      p.stderr)

    def test_not_for_imap(self):
        p = self.ingest("--maildir-handled", "move")
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(b"--maildir-handled is for maildir PATHs", p.stderr)
