"""A local mbox that keeps up (issue 14 item 7): --mbox-handled move
([mbox] handled = move) runs an mbox PATH through the generic source
policy (ingest/source-mbox.c): the reports are committed, a handled
message is appended to <mbox>.Processed, one that cannot be used to
<mbox>.Failed, and both leave the mbox, all under the MDAs' locks (the
dotlock <mbox>.lock and an fcntl lock).  Without the option the mbox is
only read, as before.
"""
import fcntl
import os
import re
import signal
import subprocess
import threading
import time

import dmarctest as dt

STALE = 11 * 60  # older than the 10 minutes after which a dotlock is broken


def report_message(rid, body="This is a DMARC aggregate report."):
    xml = dt.report_xml(report_id=rid)
    raw = dt.message([("r.xml.gz", "application/gzip", dt.gz(xml))],
                     subject="Report-ID: %s" % rid, body=body)
    return raw.replace(b"<test@receiver.example>",
                       ("<%s@receiver.example>" % rid).encode())


def plain_message(tag):
    return dt.message([], body="Not a report at all.",
                      subject="hello %s" % tag)


def entry(raw, n=0):
    """raw as an mboxrd writer appends it: From_ line, ">From " quoting,
    a blank line after."""
    quoted = re.sub(rb"(?m)^(>*From )", rb">\1", raw)
    if not quoted.endswith(b"\n"):
        quoted += b"\n"
    return (b"From noreply-dmarc@receiver.example Tue Nov 24 10:%02d:%02d "
            b"2026\n" % (n // 60 % 60, n % 60)) + quoted + b"\n"


class MboxCase(dt.Case):

    def make_mbox(self, *entries, name="dmarc", mode=0o600):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(b"".join(entries))
        os.chmod(p, mode)
        return p

    def read(self, p):
        with open(p, "rb") as f:
            return f.read()

    def report_ids(self):
        return sorted(r[0] for r in self.sql("SELECT report_id FROM reports"))

    def popen(self, *args):
        p = subprocess.Popen(
            dt.wrap([dt.INGEST, "--db", self.db] + list(args)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.reap, p)
        return p

    @staticmethod
    def reap(p):
        if p.poll() is None:
            p.kill()
        p.communicate()


class TestMove(MboxCase):

    def test_handled_to_processed_failed_to_failed(self):
        # a body with "From " lines: quoted in the file, kept byte for byte
        r1 = entry(report_message("r1", body="From the receiver\n"
                                  ">From quoted once\n"), 0)
        bad = entry(plain_message("x"), 1)
        r2 = entry(report_message("r2"), 2)
        self.assertIn(b"\n>From the receiver\r\n>>From quoted once\r\n", r1)
        mbox = self.make_mbox(r1, bad, r2, mode=0o640)
        p = self.ingest("-v", "--mbox-handled", "move", mbox)
        self.assertExit(p, dt.EX_DATAERR)  # the plain message: rejected
        self.assertEqual(self.report_ids(), ["r1", "r2"])
        self.assertEqual(self.read(mbox + ".Processed"), r1 + r2)
        self.assertEqual(self.read(mbox + ".Failed"), bad)
        self.assertEqual(self.read(mbox), b"")
        self.assertEqual(os.stat(mbox).st_mode & 0o7777, 0o640)
        self.assertFalse(os.path.exists(mbox + ".lock"))
        self.assertFalse(os.path.exists(mbox + ".dmarcsift-tmp"))
        self.assertIn(b"goes to %s.Failed" % mbox.encode(), p.stderr)
        # the failed place keeps the message: nothing in quarantine/
        self.assertFalse(os.path.exists(self.path("quarantine")))
        # the cron job's next run: nothing read, nothing failed
        again = self.ingest("-v", "--mbox-handled", "move", mbox)
        self.assertExit(again, dt.EX_OK)
        self.assertIn(b"inputs 0,", again.stderr)
        self.assertEqual(self.read(mbox + ".Processed"), r1 + r2)
        self.assertEqual(self.count("reports"), 2)

    def test_appends_to_existing_places(self):
        old = entry(report_message("old"), 9)
        n1 = entry(report_message("n1"), 1)
        mbox = self.make_mbox(n1)
        with open(mbox + ".Processed", "wb") as f:
            f.write(old)
        self.assertExit(self.ingest("--mbox-handled", "move", mbox),
                        dt.EX_OK)
        self.assertEqual(self.read(mbox + ".Processed"), old + n1)

    def test_last_message_without_blank_line(self):
        """The mbox's last message lacks its blank line: one is added
        before the next From_ line in .Processed, or the two would read as
        one message."""
        a = entry(report_message("a1"), 1)
        b = entry(report_message("b1"), 2)[:-1]  # no blank line at the end
        mbox = self.make_mbox(b)
        self.assertExit(self.ingest("--mbox-handled", "move", mbox),
                        dt.EX_OK)
        self.make_mbox(a)
        self.assertExit(self.ingest("--mbox-handled", "move", mbox),
                        dt.EX_OK)
        self.assertEqual(self.read(mbox + ".Processed"), b + b"\n" + a)
        # .Processed reads back as two messages
        p = self.ingest("-v", "--db", self.path("other.db"),
                        mbox + ".Processed")
        self.assertExit(p, dt.EX_OK)
        self.assertIn(b"inputs 2,", p.stderr)

    def test_too_large_goes_to_failed(self):
        big = entry(dt.message([], body="x" * 200 + "\n" * 9000,
                               subject="big"), 1)
        small = entry(report_message("m1"), 2)
        mbox = self.make_mbox(big, small)
        p = self.ingest("--max-input", "8K", "--mbox-handled", "move", mbox)
        self.assertExit(p, dt.EX_DATAERR)
        self.assertIn(b"message larger than 8192 bytes (--max-input)",
                      p.stderr)
        self.assertEqual(self.read(mbox + ".Failed"), big)
        self.assertEqual(self.read(mbox + ".Processed"), small)
        self.assertEqual(self.read(mbox), b"")

    def test_from_the_configuration(self):
        bad = entry(plain_message("p"), 2)
        mbox = self.make_mbox(entry(report_message("k1"), 1), bad)
        conf = self.write("conf", "[mbox]\nhandled = move\n")
        os.chmod(conf, 0o600)
        p = self.ingest("--config", conf, mbox)
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.read(mbox), b"")
        self.assertEqual(self.read(mbox + ".Failed"), bad)


class TestLocks(MboxCase):

    def test_waits_for_the_dotlock_and_takes_what_came_meanwhile(self):
        """The MDA holds the dotlock and appends: the run waits, then
        moves both messages."""
        first = entry(report_message("w1"), 1)
        later = entry(report_message("w2"), 2)
        mbox = self.make_mbox(first)
        with open(mbox + ".lock", "wb") as f:
            f.write(b"4242\n")
        proc = self.popen("--mbox-handled", "move", mbox)
        time.sleep(2)
        self.assertIsNone(proc.poll(), "the run did not wait for the lock")
        self.assertFalse(os.path.exists(mbox + ".Processed"))
        with open(mbox, "ab") as f:  # the MDA delivers under its lock
            f.write(later)
        os.unlink(mbox + ".lock")
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(self.report_ids(), ["w1", "w2"])
        self.assertEqual(self.read(mbox + ".Processed"), first + later)
        self.assertEqual(self.read(mbox), b"")

    def test_lock_never_released_names_the_lock(self):
        raw = entry(report_message("h1"), 1)
        mbox = self.make_mbox(raw)
        with open(mbox + ".lock", "wb") as f:
            f.write(b"4242\n")
        p = self.ingest("--mbox-handled", "move", mbox)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"the lock %s.lock is held" % mbox.encode(), p.stderr)
        # nothing touched, the other program's lock left alone
        self.assertEqual(self.read(mbox), raw)
        self.assertFalse(os.path.exists(mbox + ".Processed"))
        self.assertTrue(os.path.exists(mbox + ".lock"))

    def test_stale_dotlock_is_broken(self):
        raw = entry(report_message("s1"), 1)
        mbox = self.make_mbox(raw)
        with open(mbox + ".lock", "wb") as f:
            f.write(b"4242\n")
        old = time.time() - STALE
        os.utime(mbox + ".lock", (old, old))
        p = self.ingest("--mbox-handled", "move", mbox)
        self.assertExit(p, dt.EX_OK)
        self.assertIn(b"removing a stale lock", p.stderr)
        self.assertEqual(self.read(mbox + ".Processed"), raw)
        self.assertFalse(os.path.exists(mbox + ".lock"))

    def test_waits_for_the_fcntl_lock(self):
        raw = entry(report_message("f1"), 1)
        mbox = self.make_mbox(raw)
        holder = open(mbox, "r+b")
        fcntl.lockf(holder, fcntl.LOCK_EX)
        proc = self.popen("--mbox-handled", "move", mbox)
        time.sleep(2)
        self.assertIsNone(proc.poll(), "the run did not wait for fcntl")
        self.assertEqual(self.read(mbox), raw)
        # the dotlock is ours while we wait for fcntl
        self.assertTrue(os.path.exists(mbox + ".lock"))
        fcntl.lockf(holder, fcntl.LOCK_UN)
        holder.close()
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(self.read(mbox + ".Processed"), raw)
        self.assertEqual(self.read(mbox), b"")


    def test_fcntl_lock_held_for_the_whole_run(self):
        """While the run works (its dotlock there, .Processed begun), the
        mbox stays fcntl-locked: another process cannot lock it."""
        n = 300
        mbox = self.make_mbox(*[entry(report_message("l%03d" % i), i)
                                for i in range(n)])
        ino = os.stat(mbox).st_ino  # the rewrite renames a new one over it
        proc = self.popen("--mbox-handled", "move", mbox)
        seen = 0
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if os.path.exists(mbox + ".Processed"):
                with open(mbox, "r+b") as f:
                    try:
                        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        seen += 1
                    else:
                        if (os.fstat(f.fileno()).st_ino == ino and
                                proc.poll() is None):
                            self.fail("the mbox was not locked mid-run")
            time.sleep(0.005)
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        if seen == 0:
            self.skipTest("the run ended before it could be watched")


class TestCrash(MboxCase):

    def test_in_both_places_is_not_appended_again(self):
        """A run died after appending to .Processed, before the rewrite:
        the message is only removed from the mbox."""
        r1 = entry(report_message("c1"), 1)
        r2 = entry(report_message("c2"), 2)
        mbox = self.make_mbox(r1, r2)
        self.assertExit(self.ingest(mbox), dt.EX_OK)  # stored, kept
        with open(mbox + ".Processed", "wb") as f:
            f.write(r1)
        # c2 is stored as well but not in .Processed: it is appended
        p = self.ingest("-v", "--mbox-handled", "move", mbox)
        self.assertExit(p, dt.EX_OK)
        self.assertIn(b"duplicates 2", p.stderr)
        self.assertEqual(self.read(mbox + ".Processed"), r1 + r2)
        self.assertEqual(self.read(mbox), b"")
        self.assertEqual(self.count("reports"), 2)

    def test_failed_in_both_places_is_not_appended_again(self):
        bad = entry(plain_message("b"), 1)
        mbox = self.make_mbox(bad)
        with open(mbox + ".Failed", "wb") as f:
            f.write(bad)
        p = self.ingest("--mbox-handled", "move", mbox)
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.read(mbox + ".Failed"), bad)
        self.assertEqual(self.read(mbox), b"")

    def test_kill_mid_run_loses_and_doubles_nothing(self):
        n = 400
        entries = [entry(report_message("k%03d" % i), i) for i in range(n)]
        mbox = self.make_mbox(*entries)
        proc = self.popen("--mbox-handled", "move", mbox)
        deadline = time.time() + 120
        while (time.time() < deadline and proc.poll() is None and
               not os.path.exists(mbox + ".Processed")):
            time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        if proc.returncode != -signal.SIGKILL:
            self.skipTest("the run ended before it could be killed")
        # every message is still in the mbox or in .Processed
        left = self.read(mbox)
        done = self.read(mbox + ".Processed")
        for e in entries:
            self.assertTrue(e in left or e in done)
        # the dead run's dotlock, once stale, is broken; the next run
        # finishes the job
        old = time.time() - STALE
        os.utime(mbox + ".lock", (old, old))
        p = self.ingest("--mbox-handled", "move", mbox)
        self.assertExit(p, dt.EX_OK)
        self.assertEqual(self.read(mbox), b"")
        self.assertEqual(self.read(mbox + ".Processed"), b"".join(entries))
        self.assertEqual(self.count("reports"), n)


class TestKeep(MboxCase):

    def test_default_only_reads(self):
        raw = entry(report_message("d1"), 1)
        mbox = self.make_mbox(raw)
        self.assertExit(self.ingest(mbox), dt.EX_OK)
        self.assertEqual(self.read(mbox), raw)
        self.assertFalse(os.path.exists(mbox + ".Processed"))
        self.assertFalse(os.path.exists(mbox + ".lock"))
        p = self.ingest("-v", mbox)
        self.assertIn(b"duplicates 1", p.stderr)

    def test_bad_value_names_the_option(self):
        mbox = self.make_mbox(entry(report_message("v1"), 1))
        p = self.ingest("--mbox-handled", "seen", mbox)
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(b"--mbox-handled: 'seen' is not one of keep, move",
                      p.stderr)
        conf = self.write("conf", "[mbox]\nhandled = yes\n")
        os.chmod(conf, 0o600)
        p = self.ingest("--config", conf, mbox)
        self.assertExit(p, 78)
        self.assertIn(b"conf:2: [mbox] handled: 'yes' is not one of",
                      p.stderr)

    def test_not_for_imap(self):
        p = self.ingest("--mbox-handled", "move")
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(b"--mbox-handled is for mbox PATHs", p.stderr)
