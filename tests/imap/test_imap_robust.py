"""Nothing lost, nothing stored twice: concurrent runs, a killed ingest, a
vanished server, servers without MOVE or UIDPLUS."""
import collections
import signal
import socket
import time

import dmarctest as dt
from imapcase import (CAPS_WITHOUT_MOVE, CAPS_WITHOUT_MOVE_UIDPLUS,
                      EX_UNAVAILABLE, Forwarder, ImapCase, message_id,
                      plain_message, report_message)


def many_reports(n, records=1):
    """n report messages, each with `records` records (more records make
    each message slower to import, so that a run can be caught in the
    middle)."""
    recs = [dt.record(ip="198.51.100.%d" % (i % 250 + 1), count=i + 1)
            for i in range(records)]
    return [report_message("bulk-%04d" % i, records=recs) for i in range(n)]


class TestConcurrency(ImapCase):

    def test_two_runs_at_once(self):
        msgs = many_reports(300)
        self.seed_fast(msgs)
        self.write_config()
        a = self.start_fetch()
        b = self.start_fetch()
        out = {}
        for p in (a, b):
            stdout, stderr = p.communicate(timeout=300)
            out[p.returncode] = stderr
        self.assertEqual(sorted(out), [0, dt.EX_TEMPFAIL], out)
        self.assertRegex(out[dt.EX_TEMPFAIL].decode(),
                         r"^dmarc-ingest: error: another dmarc-ingest is "
                         r"running on .*; try again later\n$")
        self.assertEqual(self.count("reports"), 300)
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted(message_id(m) for m in msgs))


class TestInterruptions(ImapCase):
    N = 500

    def assertAllOnce(self, msgs):
        """Every report stored once, every message moved once."""
        self.assertEqual(self.count("reports"), len(msgs))
        self.assertEqual(self.report_ids(),
                         sorted("bulk-%04d" % i for i in range(len(msgs))))
        self.assertEqual(self.ids("INBOX"), [])
        moved = self.ids("DMARC/Processed")
        dups = [k for k, v in collections.Counter(moved).items() if v > 1]
        self.assertEqual(dups, [], "moved more than once")
        self.assertEqual(moved, sorted(message_id(m) for m in msgs))

    def test_kill_9_in_the_middle_then_rerun(self):
        msgs = many_reports(self.N, records=40)
        self.seed_fast(msgs)
        self.write_config(batch=20)
        p = self.start_fetch()
        seen = self.wait_for_reports(100, p)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        self.assertEqual(p.returncode, -signal.SIGKILL)
        self.assertGreaterEqual(seen, 100, "the run ended before the kill")
        stored = self.count("reports")
        left = len(self.ids("INBOX"))
        self.assertLess(stored, self.N, "killed in the middle")
        self.assertGreater(left, 0)
        # a message leaves the inbox only once its reports are committed
        self.assertGreaterEqual(stored, self.N - left)

        p = self.fetch("-v")
        self.assertExit(p, 0)
        self.assertAllOnce(msgs)

    def test_server_killed_in_the_middle_then_rerun(self):
        msgs = many_reports(self.N, records=40)
        self.seed_fast(msgs)
        self.write_config(batch=20, timeout=10)
        p = self.start_fetch()
        self.wait_for_reports(100, p)
        self.d.kill()
        stdout, stderr = p.communicate(timeout=120)
        self.assertEqual(p.returncode, dt.EX_TEMPFAIL, stderr)
        self.assertIn(b"was lost or timed out", stderr)
        stored = self.count("reports")
        self.assertGreaterEqual(stored, 100, "what was finished is kept")
        self.assertLess(stored, self.N)

        self.d.start()
        # A server killed mid-session can leave its mailbox locks behind,
        # and the restarted one may take a while to clear them (seconds
        # under a loaded CI machine): the first run may then time out and
        # exit 75, which the documented contract allows (the next run goes
        # on).  So: the default timeout, and at most three runs, each 0 or
        # 75, the last 0.
        self.write_config(batch=20)
        for attempt in range(3):
            p = self.fetch("-v")
            if p.returncode != dt.EX_TEMPFAIL:
                break
        self.assertExit(p, 0)
        # the killed server may have moved a message without telling:
        # stored once is a must, moved at least once is all it allows
        self.assertEqual(self.count("reports"), self.N)
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(sorted(set(self.ids("DMARC/Processed"))),
                         sorted(message_id(m) for m in msgs))
        self.assertExit(self.fetch(), 0)


class TestTimeouts(ImapCase):

    def test_server_that_never_greets(self):
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        self.addCleanup(silent.close)
        self.write_config(port=silent.getsockname()[1], timeout=2)
        t0 = time.monotonic()
        p = self.fetch()
        self.assertLess(time.monotonic() - t0, 30)
        self.assertExit(p, EX_UNAVAILABLE)
        self.assertIn(b"within 2 s", p.stderr)

    def test_server_that_stops_answering_mid_run(self):
        msgs = many_reports(300, records=20)
        self.seed_fast(msgs)
        fw = Forwarder("127.0.0.1", self.d.imaps_port)
        self.addCleanup(fw.close)
        self.write_config(port=fw.port, batch=10, timeout=2)
        p = self.start_fetch()
        self.wait_for_reports(30, p)
        fw.pause()
        t0 = time.monotonic()
        stdout, stderr = p.communicate(timeout=120)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual(p.returncode, dt.EX_TEMPFAIL, stderr)
        self.assertIn(b"was lost or timed out (timeout 2 s)", stderr)
        stored = self.count("reports")
        self.assertGreaterEqual(stored, 30)
        self.assertLess(stored, 300)
        # straight to the server this time: the rest, nothing twice
        self.write_config(batch=10)
        self.assertExit(self.fetch(), 0)
        self.assertEqual(self.count("reports"), 300)
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(sorted(set(self.ids("DMARC/Processed"))),
                         sorted(message_id(m) for m in msgs))


class TestWithoutMove(ImapCase):
    DOVECOT = {"capabilities": CAPS_WITHOUT_MOVE}

    def test_copy_store_uid_expunge(self):
        good = [report_message("m-%d" % i) for i in range(5)]
        bad = plain_message("m-bad")
        self.seed(good + [bad])
        # someone else's message marked for deletion: must survive
        other = self.d.add_message("INBOX", plain_message("other"),
                                   flags=("\\Deleted", "\\Seen"))
        self.write_config(batch=2)
        p = self.fetch()
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.count("reports"), 5)
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted(message_id(m) for m in good))
        self.assertEqual(self.ids("DMARC/Failed"), [message_id(bad)])
        inbox = self.d.messages("INBOX")
        self.assertEqual([uid for uid, _, _ in inbox], [other])
        for folder in ("DMARC/Processed", "DMARC/Failed"):
            for _, flags, _ in self.d.messages(folder):
                self.assertNotIn("\\Deleted", flags)
        self.assertExit(self.fetch(), 0)


class TestWithoutMoveUidplus(ImapCase):
    DOVECOT = {"capabilities": CAPS_WITHOUT_MOVE_UIDPLUS}

    def test_copy_and_mark_seen_never_expunge(self):
        good = [report_message("u-%d" % i) for i in range(3)]
        bad = plain_message("u-bad")
        self.seed(good + [bad])
        other = self.d.add_message("INBOX", plain_message("other"),
                                   flags=("\\Deleted",))
        self.write_config()
        p = self.fetch()
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.count("reports"), 3)
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted(message_id(m) for m in good))
        self.assertEqual(self.ids("DMARC/Failed"), [message_id(bad)])
        # the originals stay, read; the \Deleted one of someone else too
        inbox = {uid: flags for uid, flags, _ in self.d.messages("INBOX")}
        self.assertEqual(len(inbox), 5)
        self.assertIn("\\Deleted", inbox[other])
        for uid, flags in inbox.items():
            if uid != other:
                self.assertIn("\\Seen", flags)
                self.assertNotIn("\\Deleted", flags)
        # and the next run copies nothing again
        p = self.fetch("-v")
        self.assertExit(p, 0)
        self.assertIn(b"fetched 0", p.stderr)
        self.assertEqual(len(self.ids("DMARC/Processed")), 3)
