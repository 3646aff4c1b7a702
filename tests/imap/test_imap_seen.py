"""Archived messages are marked \\Seen in the archive folder (issue 12
item 9), unless mark_seen = no; failed ones stay unread for a human to
look at.  And tls = starttls pointed at the IMAPS port fails fast, with
a hint."""
import time

from imapcase import ImapCase, plain_message, report_message


class TestSeenOnArchive(ImapCase):

    def flags(self, folder):
        return [flags for _, flags, _ in self.d.messages(folder)]

    def test_archived_messages_marked_seen(self):
        self.seed([report_message("s-1"), report_message("s-2"),
                   plain_message("junk")])
        self.write_config()
        p = self.fetch()
        self.assertEqual(p.returncode, 65, p.stderr)
        archived = self.flags("DMARC/Processed")
        self.assertEqual(len(archived), 2)
        for f in archived:
            self.assertIn("\\Seen", f)
        failed = self.flags("DMARC/Failed")
        self.assertEqual(len(failed), 1)
        self.assertNotIn("\\Seen", failed[0])

    def test_mark_seen_no_keeps_them_unread(self):
        self.seed([report_message("u-1"), report_message("u-2")])
        self.write_config(mark_seen="no")
        self.assertExit(self.fetch(), 0)
        archived = self.flags("DMARC/Processed")
        self.assertEqual(len(archived), 2)
        for f in archived:
            self.assertNotIn("\\Seen", f)

    def test_mark_seen_checked(self):
        self.write_config(mark_seen="maybe")
        p = self.fetch()
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(b"mark_seen: 'maybe' is not yes or no", p.stderr)


class TestStarttlsOnImapsPort(ImapCase):

    def test_fails_fast_with_a_hint(self):
        self.seed([report_message("f-1")])
        self.write_config(tls="starttls", port=self.d.imaps_port,
                          timeout=60)
        t0 = time.monotonic()
        p = self.fetch()
        took = time.monotonic() - t0
        self.assertEqual(p.returncode, 69, p.stderr)
        self.assertIn(b"speaks TLS from the first byte", p.stderr)
        self.assertIn(b"tls = imaps", p.stderr)
        self.assertLess(took, 20, "waited for the whole timeout")
        self.assertEqual(self.count("reports"), 0)
