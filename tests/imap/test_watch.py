"""Watch mode (issue 14 item 6): `dmarc-ingest --watch` drains the mailbox
on start, then stores every message as it arrives (IDLE, or NOOP polling
when the server hides IDLE), survives a dovecot restart (back-off,
reconnect, full drain), and stops on SIGTERM or SIGINT with exit 0 and
its lock released.

The intervals are shortened with DMARCSIFT_WATCH_TICK_MS (the test
suite's knob: the length of watch mode's "second").  Arrivals are waited
for by polling the database, with a bounded wait."""
import os
import signal
import subprocess
import tempfile
import time

import dmarctest as dt
from imapcase import (EX_NOPERM, ImapCase, message_id, plain_message,
                      report_message)
from dovecot_fixture import capabilities_without  # noqa: E402 (imapcase's path)

WAIT = 60  # seconds: the bound on every wait for a result


class WatchCase(ImapCase):

    def setUp(self):
        if dt.WRAPPED:
            self.skipTest("timing and signals: not under a wrapper")
        super().setUp()
        self.procs = []
        self.addCleanup(self.kill_all)

    def kill_all(self):
        for p, err in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            err.close()

    def watch(self, *args, tick=10):
        """Starts dmarc-ingest --watch; stderr goes to a file (read by
        stop())."""
        env = dict(os.environ)
        env.pop("DMARCSIFT_DB", None)
        env.pop("DMARCSIFT_CONFIG", None)
        env["DMARCSIFT_WATCH_TICK_MS"] = str(tick)
        err = tempfile.TemporaryFile(dir=self.tmp)
        p = subprocess.Popen([dt.INGEST, "--db", self.db, "--config",
                              self.conf, "--watch"] + list(args), env=env,
                             stdout=subprocess.DEVNULL, stderr=err)
        self.procs.append((p, err))
        return p

    def stderr_of(self, p):
        for q, err in self.procs:
            if q is p:
                err.seek(0)
                return err.read()
        return b""

    def stop(self, p, sig=signal.SIGTERM):
        """Sends sig; returns (exit status, stderr)."""
        p.send_signal(sig)
        try:
            rc = p.wait(WAIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.fail("--watch did not stop on %s; stderr: %s"
                      % (sig, self.stderr_of(p)))
        return rc, self.stderr_of(p)

    def deliver(self, raw):
        """Delivers a message into INBOX with doveadm save, as mail
        arrives (seed() would look for its UID, which the watcher may
        already have moved away)."""
        self.d.doveadm("save", "-u", self.d.user, "-m", "INBOX", input=raw)

    def wait_stored(self, n, p):
        got = self.wait_for_reports(n, p, timeout=WAIT)
        self.assertEqual(got, n, "not stored in %d s (exit %s); stderr: %s"
                         % (WAIT, p.poll(), self.stderr_of(p)))

    def wait_gone(self, folder, p):
        """Waits until folder is empty (its messages were archived)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and p.poll() is None:
            if self.messages_in(folder) == 0:
                return
            time.sleep(0.05)
        self.fail("%s not emptied; stderr: %s" % (folder, self.stderr_of(p)))


class TestWatchIdle(WatchCase):

    def test_drains_on_start_then_stores_what_arrives(self):
        first = report_message("w-first")
        self.seed([first])
        self.write_config()
        p = self.watch("-v")
        self.wait_stored(1, p)  # the full drain on start
        new = report_message("w-new")
        self.deliver(new)
        self.wait_stored(2, p)  # the new message, as it arrives
        self.wait_gone("INBOX", p)
        self.assertEqual(self.report_ids(), ["w-first", "w-new"])
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted([message_id(first), message_id(new)]))
        rc, err = self.stop(p)
        self.assertEqual(rc, 0, err)
        self.assertIn(b"SIGTERM; stopping", err)
        # one summary line per drain, as a normal -v run prints
        self.assertIn(b"fetched 1, reports stored 1", err)
        # the lock is released: a normal run works, and finds nothing
        q = self.fetch("-v")
        self.assertExit(q, 0)
        self.assertIn(b"fetched 0", q.stderr)

    def test_a_failed_message_is_quarantined_and_watching_goes_on(self):
        self.write_config()
        p = self.watch()
        bad = plain_message("w-bad")
        self.deliver(bad)
        self.wait_gone("INBOX", p)
        self.assertEqual(self.ids("DMARC/Failed"), [message_id(bad)])
        self.assertEqual(len(self.quarantined()), 1)
        self.assertIsNone(p.poll(), "a bad message must not end watching")
        self.deliver(report_message("w-after-bad"))
        self.wait_stored(1, p)
        rc, err = self.stop(p)
        self.assertEqual(rc, 0, err)

    def seed_bulk(self, prefix, n):
        """n reports of 40 records each already in the folder, taken in
        batches of 10: a drain long enough to act during."""
        recs = [dt.record(ip="198.51.100.%d" % (i % 250 + 1), count=i + 1)
                for i in range(40)]
        msgs = [report_message("%s-%04d" % (prefix, i), records=recs)
                for i in range(n)]
        self.seed_fast(msgs)
        self.write_config(batch=10)
        return msgs

    def test_mail_that_arrives_during_a_drain(self):
        """A message delivered while a long drain runs (after its search)
        is announced when the watcher's IDLE starts, among the EXPUNGEs of
        the drained ones (the folder has fewer messages than before): it
        is drained next."""
        msgs = self.seed_bulk("d", 60)
        p = self.watch("-v")
        self.wait_for_reports(1, p, timeout=WAIT)
        self.deliver(report_message("d-late"))
        self.wait_stored(len(msgs) + 1, p)
        self.assertIn("d-late", self.report_ids())
        rc, err = self.stop(p)
        self.assertEqual(rc, 0, err)

    def test_idle_is_renewed(self):
        """IDLE ends and starts again every 1500 ticks (25 min by
        default, before the server's 29): after a renewal, new mail is
        still seen."""
        self.write_config()
        p = self.watch("-vv", tick=1)  # renewal every 1.5 s
        # the renewal is a timer: wait for two to pass (not for a result)
        time.sleep(4)
        self.deliver(report_message("w-renewed"))
        self.wait_stored(1, p)
        rc, err = self.stop(p, signal.SIGINT)
        self.assertEqual(rc, 0, err)
        self.assertIn(b"IDLE again", err)
        self.assertIn(b"SIGINT; stopping", err)

    def test_survives_a_dovecot_restart(self):
        self.write_config(timeout=5)
        p = self.watch("-v", tick=20)
        self.deliver(report_message("w-before"))
        self.wait_stored(1, p)
        self.d.stop()
        self.d.start()
        self.deliver(report_message("w-after"))
        self.wait_stored(2, p)
        self.assertIsNone(p.poll())
        rc, err = self.stop(p)
        self.assertEqual(rc, 0, err)
        self.assertIn(b"connecting again", err)
        self.assertEqual(self.report_ids(), ["w-after", "w-before"])

    def test_sigterm_in_a_drain_finishes_the_batch(self):
        """A signal during a long drain: the batch in progress is
        committed and archived, then the watch exits 0; what is left is
        taken by the next run."""
        msgs = self.seed_bulk("bulk", 300)
        p = self.watch()
        self.wait_for_reports(10, p, timeout=WAIT)
        rc, err = self.stop(p)
        self.assertEqual(rc, 0, err)
        stored = self.count("reports")
        left = self.messages_in("INBOX")
        # nothing half-done: every message that left was committed, and
        # every committed batch left
        self.assertEqual(stored + left, len(msgs), err)
        self.assertEqual(stored % 10, 0, "a batch was cut: %d" % stored)
        self.assertGreater(left, 0, "the drain was over before the signal")
        q = self.fetch()
        self.assertExit(q, 0)
        self.assertEqual(self.count("reports"), len(msgs))


class TestWatchWithoutIdle(WatchCase):
    DOVECOT = {"capabilities": capabilities_without("IDLE")}

    def test_noop_polling(self):
        self.write_config()
        p = self.watch("-vv", tick=5)  # NOOP every 300 ms
        self.deliver(report_message("w-noop"))
        self.wait_stored(1, p)
        self.wait_gone("INBOX", p)
        rc, err = self.stop(p)
        self.assertEqual(rc, 0, err)
        self.assertIn(b"by NOOP (no IDLE)", err)
        self.assertEqual(self.report_ids(), ["w-noop"])


class TestWatchUsage(ImapCase):

    def assertUsage(self, p, words):
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(words, p.stderr)

    def test_paths_and_other_modes(self):
        self.write_config()
        msg = self.path("r.eml")
        with open(msg, "wb") as f:
            f.write(report_message("u"))
        for args in ([msg], ["--migrate-only"], ["--from-store", self.db]):
            self.assertUsage(self.fetch("--watch", *args),
                             b"--watch watches an IMAP mailbox")
        self.assertFalse(os.path.exists(self.db), "nothing was opened")

    def test_several_mailboxes_want_one(self):
        base = "".join("%s = %s\n" % kv for kv in self.settings().items())
        self.write_config("[imap]\n" + base + '\n[imap "work"]\n' + base +
                          "folder = Work\n")
        self.assertUsage(self.fetch("--watch"), b"--mailbox NAME")

    def test_bad_tick(self):
        self.write_config()
        p = self.fetch("--watch", env={"DMARCSIFT_WATCH_TICK_MS": "0"})
        self.assertUsage(p, b"DMARCSIFT_WATCH_TICK_MS")

    def test_refused_login_is_not_retried(self):
        """A refused password does not heal by waiting: exit 77 at once
        (the service manager's RestartPreventExitStatus)."""
        self.write_config(password="wrong")
        t0 = time.monotonic()
        p = self.fetch("--watch")
        self.assertExit(p, EX_NOPERM)
        self.assertLess(time.monotonic() - t0, WAIT)
