"""Several mailboxes (issue 14 item 5): [imap "name"] sections beside
[imap]; one run drains them all, each with its own state and its own lock,
so two runs can work on two mailboxes at once; --mailbox NAME picks one.
Against the real dovecot of the fixture, with two folders as the two
mailboxes."""
import os

import dmarctest as dt
from imapcase import (EX_CONFIG, ImapCase, message_id, plain_message,
                      report_message)


def many_reports(n, records=40):
    recs = [dt.record(ip="198.51.100.%d" % (i % 250 + 1), count=i + 1)
            for i in range(records)]
    return [report_message("bulk-%04d" % i, records=recs) for i in range(n)]


class MailboxesCase(ImapCase):

    def two_mailboxes(self, **work):
        """[imap] reads INBOX; [imap "work"] reads Work, with its own
        archive and failed folders."""
        base = "".join("%s = %s\n" % kv for kv in self.settings().items())
        w = {"folder": "Work", "archive_folder": "Work/Done",
             "failed_folder": "Work/Failed"}
        w.update(work)
        text = ("[imap]\n" + base + '\n[imap "work"]\n' + base +
                "".join("%s = %s\n" % kv for kv in w.items()))
        return self.write_config(text)

    def seed_both(self):
        self.d.create_folder("Work")
        self.seed([report_message("a1"), report_message("a2")])
        self.seed([report_message("w1"), plain_message("x")], folder="Work")


class TestTwoMailboxes(MailboxesCase):

    def test_one_run_drains_both(self):
        self.seed_both()
        self.two_mailboxes()
        p = self.fetch("-v")
        self.assertExit(p, dt.EX_DATAERR)  # the plain message in Work
        self.assertIn(b"fetched 4, reports stored 3, duplicates 0, "
                      b"failed 1, moved 4", p.stderr)
        self.assertEqual(self.report_ids(), ["a1", "a2", "w1"])
        self.assertEqual(self.messages_in("INBOX"), 0)
        self.assertEqual(self.messages_in("Work"), 0)
        self.assertEqual(self.messages_in("DMARC/Processed"), 2)
        self.assertEqual(self.messages_in("Work/Done"), 1)
        self.assertEqual(self.messages_in("Work/Failed"), 1)
        # each mailbox has its own state
        state = sorted(r[0] for r in self.imap_state())
        self.assertEqual(state, ["%s@%s/INBOX" % (self.d.user, self.d.host),
                                 "%s@%s/Work" % (self.d.user, self.d.host)])
        # the failed message is kept under the mailbox's name
        q = os.listdir(self.path("quarantine"))
        self.assertEqual(len(q), 1, q)
        self.assertRegex(q[0], r"^\d{8}-work-%d-\d+\.eml$"
                         % self.uidvalidity("Work"))
        # the next run finds nothing
        again = self.fetch("-v")
        self.assertExit(again, dt.EX_OK)
        self.assertIn(b"fetched 0, reports stored 0", again.stderr)

    def test_a_failing_mailbox_does_not_stop_the_others(self):
        self.seed_both()
        self.two_mailboxes(folder="Missing")
        # [imap "work"] now reads a folder that does not exist
        p = self.fetch("-v")
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"cannot open the folder Missing", p.stderr)
        self.assertEqual(self.report_ids(), ["a1", "a2"])
        self.assertEqual(self.messages_in("INBOX"), 0)

    def test_mailbox_picks_one(self):
        self.seed_both()
        self.two_mailboxes()
        p = self.fetch("--mailbox", "work")
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.report_ids(), ["w1"])
        self.assertEqual(self.messages_in("INBOX"), 2)
        p = self.fetch("--mailbox", "default")
        self.assertExit(p, dt.EX_OK)
        self.assertEqual(self.report_ids(), ["a1", "a2", "w1"])

    def test_option_goes_to_the_picked_mailbox(self):
        self.seed_both()
        self.d.create_folder("Elsewhere")
        self.two_mailboxes()
        p = self.fetch("--mailbox", "work", "--archive-folder", "Elsewhere")
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.messages_in("Elsewhere"), 1)
        self.assertEqual(self.messages_in("Work/Done"), None)

    def test_option_without_mailbox_is_ambiguous(self):
        self.two_mailboxes()
        p = self.fetch("--folder", "X")
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(b"has 2 mailboxes: say which one this setting is "
                      b"for with --mailbox NAME", p.stderr)


class TestTwoRunsAtOnce(MailboxesCase):

    def test_two_runs_on_two_mailboxes(self):
        msgs = many_reports(300)
        self.seed_fast(msgs)
        self.d.create_folder("Work")
        self.seed([report_message("w1"), report_message("w2")],
                  folder="Work")
        self.two_mailboxes()
        self.write_config(open(self.conf).read().replace(
            "[imap]\n", "[imap]\nbatch = 10\n", 1))
        a = self.start_fetch("--mailbox", "default")
        try:
            self.assertGreaterEqual(self.wait_for_reports(1, a), 1)
            # a second run on the other mailbox works meanwhile
            b = self.fetch("--mailbox", "work")
            # and one on the same mailbox is told to try again later
            c = self.fetch("--mailbox", "default")
            a_running = a.poll() is None
        finally:
            out, err = a.communicate(timeout=300)
        self.assertTrue(a_running, "the first run ended before the others "
                        "ran: nothing was raced")
        self.assertExit(b, dt.EX_OK)
        self.assertExit(c, dt.EX_TEMPFAIL)
        self.assertRegex(c.stderr.decode(),
                         r"^dmarc-ingest: error: another dmarc-ingest is "
                         r"running on .*; try again later\n$")
        self.assertEqual(a.returncode, dt.EX_OK, err.decode())
        self.assertEqual(self.count("reports"), 302)
        self.assertEqual(self.messages_in("Work/Done"), 2)
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted(message_id(m) for m in msgs))


class TestMailboxConfig(dt.Case):
    """No server needed: these runs stop at the configuration."""

    def conf(self, text):
        p = self.write("dmarcsift.conf", text)
        os.chmod(p, 0o600)
        return p

    def test_bad_name(self):
        c = self.conf('[imap "my box"]\nhost = h\n')
        p = self.ingest("--config", c)
        self.assertExit(p, EX_CONFIG)
        self.assertIn("%s:2: [imap \"my box\"]: 'my box' is not a mailbox "
                      "name" % c, p.stderr.decode())

    def test_unquoted_name(self):
        c = self.conf('[imap work]\nhost = h\n')
        p = self.ingest("--config", c)
        self.assertExit(p, EX_CONFIG)
        self.assertIn('write a named mailbox as [imap "name"]',
                      p.stderr.decode())

    def test_unknown_mailbox(self):
        c = self.conf('[imap]\nhost = h\n[imap "work"]\nhost = w\n')
        p = self.ingest("--config", c, "--mailbox", "play")
        self.assertExit(p, EX_CONFIG)
        self.assertIn("--mailbox play: %s has no [imap \"play\"]; its "
                      "mailboxes: default, work" % c, p.stderr.decode())
        self.assertFalse(os.path.exists(self.db))

    def test_each_mailbox_is_checked_by_its_section(self):
        c = self.conf('[imap]\nhost = h\nuser = u\npassword = p\n'
                      '[imap "work"]\nuser = w\npassword = p\n')
        p = self.ingest("--config", c)
        self.assertExit(p, EX_CONFIG)
        self.assertIn('no IMAP server: set host in the [imap "work"] '
                      'section of %s' % c, p.stderr.decode())

    def test_key_twice_in_a_named_section(self):
        c = self.conf('[imap "work"]\nhost = a\nhost = b\n')
        p = self.ingest("--config", c)
        self.assertExit(p, EX_CONFIG)
        self.assertIn('%s:3: [imap "work"] host: set twice (first on '
                      'line 2' % c, p.stderr.decode())

    def test_mailbox_is_for_imap(self):
        p = self.ingest("--mailbox", "work", self.path("x.xml"))
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(b"--mailbox is for fetching over IMAP", p.stderr)


