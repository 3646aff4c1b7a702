"""No re-copies without UIDPLUS (issue 14 item 8): against a server with
neither MOVE nor UIDPLUS the originals of archived messages stay in the
folder, read.  `--all` must not copy them into the archive again on every
run (seen on Cyrus): the messages up to the folder's last UID processed
under its UIDVALIDITY are left out unless they are unread."""
import collections

import dmarctest as dt
from imapcase import (CAPS_WITHOUT_MOVE_UIDPLUS, ImapCase, message_id,
                      plain_message, report_message)


class TestAllWithoutUidplus(ImapCase):
    DOVECOT = {"capabilities": CAPS_WITHOUT_MOVE_UIDPLUS}

    def assertOnce(self, folder, msgs):
        ids = self.ids(folder)
        dups = [k for k, v in collections.Counter(ids).items() if v > 1]
        self.assertEqual(dups, [], "copied more than once into %s" % folder)
        self.assertEqual(ids, sorted(message_id(m) for m in msgs))

    def test_all_never_copies_twice(self):
        good = [report_message("n-%d" % i) for i in range(3)]
        bad = plain_message("n-bad")
        self.seed(good + [bad])
        self.write_config()
        p = self.fetch("--all")
        self.assertExit(p, dt.EX_DATAERR)
        self.assertOnce("DMARC/Processed", good)
        self.assertOnce("DMARC/Failed", [bad])
        # a new report arrives: the next --all takes it, and only it
        new = report_message("n-new")
        self.seed([new])
        p = self.fetch("--all", "-v")
        self.assertExit(p, dt.EX_OK)
        self.assertIn(b"fetched 1, reports stored 1, duplicates 0", p.stderr)
        self.assertOnce("DMARC/Processed", good + [new])
        self.assertOnce("DMARC/Failed", [bad])
        p = self.fetch("--all", "-v")
        self.assertExit(p, dt.EX_OK)
        self.assertIn(b"fetched 0", p.stderr)
        self.assertOnce("DMARC/Processed", good + [new])
        # the originals stay, read
        self.assertEqual(len(self.d.messages("INBOX")), 5)

    def test_unread_again_is_taken_again(self):
        """A message someone marked unread is not known as archived: --all
        (like a run without it) takes it again; its reports are found
        stored."""
        msg = report_message("n-u")
        uid = self.seed([msg])[0]
        self.write_config()
        self.assertExit(self.fetch("--all"), dt.EX_OK)
        self.d.doveadm("flags", "remove", "-u", self.d.user, "\\Seen",
                       "mailbox", "INBOX", "uid", str(uid))
        p = self.fetch("--all", "-v")
        self.assertExit(p, dt.EX_OK)
        self.assertIn(b"fetched 1, reports stored 0, duplicates 1", p.stderr)
