"""Fetching over IMAPS: what is stored, what is moved where, what is kept
in quarantine, and the exit status."""
import os
import re

import dmarctest as dt
from imapcase import (ImapCase, example_messages, message_id, plain_message,
                      report_message)


class TestImapsFetch(ImapCase):

    def test_reports_stored_and_moved_to_created_archive(self):
        msgs = [report_message("rid-%d" % i, container=c)
                for i, c in enumerate(("gz", "zip", "xml"))]
        msgs += example_messages()
        self.seed(msgs)
        self.write_config()
        self.assertNotIn("DMARC/Processed", self.folder_names())

        p = self.fetch()
        self.assertExit(p, 0)
        self.assertEqual(p.stderr, b"", "quiet when all is well (cron)")
        # the three examples hold one report each
        self.assertEqual(self.count("reports"), 6)
        self.assertLessEqual({"rid-0", "rid-1", "rid-2"},
                             set(self.report_ids()))
        sources = [r[0] for r in self.sql("SELECT source FROM ingest_log")]
        self.assertEqual(len(sources), 6)
        for s in sources:
            self.assertRegex(s, r"^imap://dmarc@127\.0\.0\.1/INBOX;UID=\d+")
        self.assertIn("DMARC/Processed", self.folder_names())
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted(message_id(m) for m in msgs))
        self.assertNotIn("DMARC/Failed", self.folder_names())
        self.assertEqual(self.quarantined(), {})
        # the moved messages are the very bytes that were sent
        moved = {message_id(raw): raw
                 for _, _, raw in self.d.messages("DMARC/Processed")}
        for m in msgs:
            self.assertEqual(moved[message_id(m)].replace(b"\r\n", b"\n"),
                             m.replace(b"\r\n", b"\n"))
        state = self.imap_state()
        self.assertEqual(len(state), 1)
        self.assertEqual(state[0][0], "dmarc@127.0.0.1/INBOX")
        self.assertEqual(state[0][1], self.uidvalidity())
        self.assertEqual(state[0][2], len(msgs))

    def test_bad_messages_quarantined_and_moved_to_failed(self):
        good = [report_message("good-%d" % i) for i in range(3)]
        truncated = dt.gz(dt.report_xml(report_id="broken"))[:60]
        broken = dt.message([("r.xml.gz", "application/gzip", truncated)],
                            subject="Report Domain: example.com broken")
        broken = broken.replace(b"<test@receiver.example>",
                                b"<broken@receiver.example>")
        bad = [plain_message("spam"), broken]
        uids = self.seed(good[:2] + bad[:1] + good[2:] + bad[1:])
        bad_uids = [uids[2], uids[4]]
        self.write_config()

        p = self.fetch()
        self.assertExit(p, dt.EX_DATAERR)
        err = p.stderr.decode()
        for uid in bad_uids:
            self.assertIn("imap://dmarc@127.0.0.1/INBOX;UID=%d: rejected"
                          % uid, err)
        self.assertEqual(self.report_ids(), ["good-0", "good-1", "good-2"])
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted(message_id(m) for m in good))
        self.assertEqual(self.ids("DMARC/Failed"),
                         sorted(message_id(m) for m in bad))
        q = self.quarantined()
        self.assertEqual(sorted(q), bad_uids)
        validity = self.uidvalidity()
        for uid, raw in zip(bad_uids, bad):
            self.assertEqual(q[uid][0], validity)
            self.assertEqual(q[uid][1].replace(b"\r\n", b"\n"),
                             raw.replace(b"\r\n", b"\n"))
            self.assertIn("quarantine/%s" % os.path.basename(
                [n for n in os.listdir(self.path("quarantine"))
                 if n.endswith("-%d.eml" % uid)][0]), err)
        rejected = self.sql("SELECT source FROM ingest_log "
                            "WHERE outcome = 'rejected' ORDER BY source")
        self.assertEqual(len(rejected), 2)
        # kept whole in the failed folder
        for _, flags, _ in self.d.messages("DMARC/Failed"):
            self.assertNotIn("\\Deleted", flags)

    def test_second_run_fetches_nothing(self):
        self.seed([report_message("once-%d" % i) for i in range(4)])
        self.write_config()
        self.assertExit(self.fetch(), 0)
        log_rows = self.count("ingest_log")
        p = self.fetch("-v")
        self.assertExit(p, 0)
        self.assertIn(b"fetched 0, reports stored 0, duplicates 0, "
                      b"failed 0, moved 0", p.stderr)
        self.assertEqual(self.count("reports"), 4)
        self.assertEqual(self.count("ingest_log"), log_rows)
        self.assertEqual(len(self.ids("DMARC/Processed")), 4)

    def test_verbose_summary_line(self):
        self.seed([report_message("v-1"), report_message("v-2"),
                   report_message("v-1"), plain_message("x")])
        self.write_config()
        p = self.fetch("-v")
        self.assertExit(p, dt.EX_DATAERR)
        self.assertIn(b"fetched 4, reports stored 2, duplicates 1, "
                      b"failed 1, moved 4", p.stderr)
        self.assertEqual(len(self.ids("DMARC/Processed")), 3)
        self.assertEqual(len(self.ids("DMARC/Failed")), 1)

    def test_seen_messages_left_alone_unless_all(self):
        self.d.add_message("INBOX", report_message("read-1"),
                           flags=("\\Seen",))
        self.seed([report_message("unread-1")])
        self.write_config()
        self.assertExit(self.fetch(), 0)
        self.assertEqual(self.report_ids(), ["unread-1"])
        inbox = self.d.messages("INBOX")
        self.assertEqual([message_id(r) for _, _, r in inbox],
                         ["<read-1@receiver.example>"])
        self.assertIn("\\Seen", inbox[0][1])

        self.assertExit(self.fetch("--all"), 0)
        self.assertEqual(self.report_ids(), ["read-1", "unread-1"])
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(len(self.ids("DMARC/Processed")), 2)

    def test_deleted_messages_are_not_fetched(self):
        self.d.add_message("INBOX", report_message("gone"),
                           flags=("\\Deleted",))
        self.seed([report_message("here")])
        self.write_config()
        self.assertExit(self.fetch(), 0)
        self.assertEqual(self.report_ids(), ["here"])
        inbox = self.d.messages("INBOX")
        self.assertEqual(len(inbox), 1)
        self.assertIn("\\Deleted", inbox[0][1])

    def test_duplicate_already_stored_is_archived(self):
        raw = report_message("dup-1")
        self.write(self.path("dup.eml"), raw)
        self.assertExit(self.ingest(self.path("dup.eml")), 0)
        self.seed([raw])
        self.write_config()
        p = self.fetch("-v")
        self.assertExit(p, 0)
        self.assertIn(b"duplicates 1", p.stderr)
        self.assertEqual(self.count("reports"), 1)
        self.assertEqual(len(self.ids("DMARC/Processed")), 1)

    def test_many_batches_drain_the_folder(self):
        msgs = [report_message("b-%03d" % i) for i in range(23)]
        self.seed_fast(msgs)
        self.write_config(batch=5)
        p = self.fetch("-v", "-v")
        self.assertExit(p, 0)
        self.assertIn(b"fetched 23, reports stored 23", p.stderr)
        self.assertEqual(self.count("reports"), 23)
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(len(self.ids("DMARC/Processed")), 23)
        # 5 per UID FETCH: 5 body fetches, not 23
        fetches = re.findall(rb"UID FETCH BODY.PEEK\[\] of (\d+) messages",
                             p.stderr)
        self.assertEqual(fetches, [b"5", b"5", b"5", b"5", b"3"])

    def test_message_over_max_input_not_downloaded(self):
        big = plain_message("big", body=os.urandom(8000).hex())
        self.seed([report_message("small"), big])
        self.write_config()
        p = self.fetch("--max-input", "4K")
        self.assertExit(p, dt.EX_DATAERR)
        self.assertIn(b"larger than --max-input", p.stderr)
        self.assertEqual(self.report_ids(), ["small"])
        self.assertEqual(self.ids("DMARC/Failed"), [message_id(big)])
        self.assertEqual(len(self.ids("DMARC/Processed")), 1)
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(self.quarantined(), {},
                         "a message too large is not copied locally")

    def test_archive_folder_empty_only_marks_seen(self):
        self.seed([report_message("s-1"), plain_message("p")])
        self.write_config(archive_folder='""', failed_folder='""')
        p = self.fetch()
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.report_ids(), ["s-1"])
        inbox = self.d.messages("INBOX")
        self.assertEqual(len(inbox), 2)
        for _, flags, _ in inbox:
            self.assertIn("\\Seen", flags)
            self.assertNotIn("\\Deleted", flags)
        self.assertNotIn("DMARC/Processed", self.folder_names())
        self.assertEqual(len(self.quarantined()), 1)
        # and the next run leaves them alone
        p = self.fetch("-v")
        self.assertExit(p, 0)
        self.assertIn(b"fetched 0", p.stderr)

    def test_progress_only_on_a_terminal(self):
        self.seed([report_message("t-%d" % i) for i in range(3)])
        self.write_config()
        p = self.fetch()  # stderr is a pipe here
        self.assertExit(p, 0)
        self.assertNotIn(b"\r", p.stderr)
        self.assertEqual(p.stderr, b"")

    def test_progress_line_on_a_terminal(self):
        import pty
        import subprocess
        self.seed_fast([report_message("pt-%02d" % i) for i in range(25)])
        self.write_config(batch=5)
        master, slave = pty.openpty()
        env = dict(os.environ)
        env.pop("DMARCSIFT_DB", None)
        p = subprocess.Popen([dt.INGEST, "--db", self.db, "--config",
                              self.conf], stdout=subprocess.PIPE,
                             stderr=slave, env=env)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        self.assertEqual(p.wait(timeout=60), 0, out)
        self.assertIn(b"\r10/25 messages, 10 reports stored", out)
        self.assertIn(b"\r25/25 messages, 25 reports stored", out)
        self.assertTrue(out.endswith(b"\r\033[K"), out[-40:])
        self.assertEqual(self.count("reports"), 25)

    def test_source_folder_other_than_inbox(self):
        self.seed([report_message("f-1"), report_message("f-2")],
                  folder="Reports/DMARC")
        self.seed([report_message("inbox-1")])
        self.write_config(folder="Reports/DMARC")
        self.assertExit(self.fetch(), 0)
        self.assertEqual(self.report_ids(), ["f-1", "f-2"])
        self.assertEqual(self.ids("Reports/DMARC"), [])
        self.assertEqual(len(self.ids("INBOX")), 1)
        self.assertEqual(self.imap_state()[0][0],
                         "dmarc@127.0.0.1/Reports/DMARC")

    def test_missing_source_folder_is_a_config_error(self):
        self.write_config(folder="Nowhere")
        p = self.fetch()
        self.assertExit(p, 78)
        self.assertIn(b"Nowhere", p.stderr)
        self.assertEqual(self.count("reports"), 0)

    def test_empty_mailbox(self):
        self.write_config()
        p = self.fetch("-v")
        self.assertExit(p, 0)
        self.assertIn(b"fetched 0, reports stored 0", p.stderr)
        self.assertNotIn("DMARC/Processed", self.folder_names())
        self.assertTrue(self.d.wait_for_log(r"Login: user=<dmarc>"))

    def test_uidvalidity_change_is_noted(self):
        self.seed([report_message("v-1")], folder="Reports")
        self.write_config(folder="Reports")
        self.assertExit(self.fetch(), 0)
        first = self.imap_state()[0]
        self.d.doveadm("mailbox", "delete", "-u", self.d.user, "Reports")
        self.seed([report_message("v-2")], folder="Reports")
        self.assertNotEqual(self.uidvalidity("Reports"), first[1])
        p = self.fetch("-v")
        self.assertExit(p, 0)
        self.assertIn(b"UIDVALIDITY changed from %d to %d"
                      % (first[1], self.uidvalidity("Reports")), p.stderr)
        self.assertEqual(self.report_ids(), ["v-1", "v-2"])
        state = self.imap_state()
        self.assertEqual(len(state), 1)
        self.assertEqual(state[0][1], self.uidvalidity("Reports"))
