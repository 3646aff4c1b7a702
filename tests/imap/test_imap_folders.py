"""Folder names written with "/" in UTF-8 become the server's names: its
delimiter, its personal namespace prefix, modified UTF-7."""
import dmarctest as dt
from imapcase import (EX_CONFIG, ImapCase, message_id, plain_message,
                      report_message)

ARCHIVE = "DMARC/Traités"
FAILED = "DMARC/Échecs & co"


class FolderTests:
    """The same tests for every layout; EXPECTED is the server's name for
    ARCHIVE there.  (Not a TestCase itself, so it is not run alone.)"""
    EXPECTED = None

    def test_translated_names(self):
        d = self.d
        good = [report_message("t-1"), report_message("t-2")]
        bad = plain_message("t-bad")
        src = "Rapports/Août"
        self.seed(good + [bad], folder=src)
        self.write_config(folder=src, archive_folder=ARCHIVE,
                          failed_folder='"%s"' % FAILED)
        p = self.fetch()
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.report_ids(), ["t-1", "t-2"])

        by_name = {f.name: f for f in d.folders()}
        self.assertIn(ARCHIVE, by_name)
        self.assertEqual(by_name[ARCHIVE].imap_name, self.EXPECTED)
        self.assertEqual(by_name[ARCHIVE].delimiter, d.delimiter)
        self.assertIn(FAILED, by_name)
        self.assertIn("&-", by_name[FAILED].imap_name)
        # no folder named with the wrong delimiter or without the prefix
        for f in by_name.values():
            self.assertNotIn("/" if d.delimiter == "." else ".",
                             f.imap_name.replace(d.prefix, "", 1)
                             if f.imap_name.startswith(d.prefix)
                             else f.imap_name)
        self.assertEqual(self.ids(src), [])
        self.assertEqual(self.ids(ARCHIVE),
                         sorted(message_id(m) for m in good))
        self.assertEqual(self.ids(FAILED), [message_id(bad)])
        self.assertEqual(self.imap_state()[0][0],
                         "dmarc@127.0.0.1/" + src)

    def test_second_run_in_same_folders(self):
        self.seed([report_message("r-1")])
        self.write_config(archive_folder=ARCHIVE)
        self.assertExit(self.fetch(), 0)
        self.seed([report_message("r-2")])
        p = self.fetch("-v")
        self.assertExit(p, 0)
        self.assertNotIn(b"created the folder", p.stderr)
        self.assertEqual(len(self.ids(ARCHIVE)), 2)
        names = [f.name for f in self.d.folders()]
        self.assertEqual(names.count(ARCHIVE), 1)


class TestMaildirLayout(FolderTests, ImapCase):
    EXPECTED = "DMARC.Trait&AOk-s"

    def test_level_with_the_delimiter_is_refused(self):
        self.seed([report_message("r-1")])
        self.write_config(archive_folder="Reports.2026")
        p = self.fetch()
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"the server uses '.' between levels", p.stderr)
        self.assertEqual(len(self.ids("INBOX")), 1)
        self.assertEqual(self.count("reports"), 0)


class TestFsLayout(FolderTests, ImapCase):
    DOVECOT = {"layout": "fs"}
    EXPECTED = "DMARC/Trait&AOk-s"

    def test_dots_are_fine_here(self):
        self.seed([report_message("r-1")])
        self.write_config(archive_folder="Reports.2026/DMARC")
        self.assertExit(self.fetch(), 0)
        self.assertEqual(len(self.ids("Reports.2026/DMARC")), 1)


class TestInboxPrefix(FolderTests, ImapCase):
    DOVECOT = {"prefix": "INBOX."}
    EXPECTED = "INBOX.DMARC.Trait&AOk-s"

    def test_prefix_written_in_the_config_is_not_doubled(self):
        self.seed([report_message("r-1")])
        self.write_config(archive_folder="INBOX/Processed")
        self.assertExit(self.fetch(), 0)
        by_name = {f.imap_name: f for f in self.d.folders()}
        self.assertIn("INBOX.Processed", by_name)
        self.assertNotIn("INBOX.INBOX.Processed", by_name)
        self.assertEqual(len(self.ids("Processed")), 1)


class TestFsInboxPrefix(FolderTests, ImapCase):
    DOVECOT = {"layout": "fs", "prefix": "INBOX/"}
    EXPECTED = "INBOX/DMARC/Trait&AOk-s"
