"""All three kinds of report in one mailbox (aggregate, SMTP TLS, DMARC
failure): each stored as what it is, every message archived, the run quiet
with exit 0, twice; spam and bounces still go to the failed folder."""
import os
import sys

from imapcase import ImapCase, message_id, plain_message, report_message

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from rfcsamples import bounce_message, failure_message, tls_message  # noqa: E402


class TestOtherReports(ImapCase):

    def test_three_kinds_archived_twice_exit_zero(self):
        msgs = [report_message("agg-1"), tls_message(), failure_message()]
        self.seed(msgs)
        self.write_config()
        first = self.fetch()
        self.assertExit(first, 0)
        self.assertEqual(first.stderr, b"", "quiet when all is well (cron)")
        self.assertEqual([self.count(t) for t in ("reports", "tls_reports", "failure_reports")], [1, 1, 1])
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(self.ids("DMARC/Processed"), sorted(message_id(m) for m in msgs))
        self.assertNotIn("DMARC/Failed", self.folder_names())
        self.assertEqual(self.quarantined(), {})

        second = self.fetch()
        self.assertExit(second, 0)
        self.assertEqual(second.stderr, b"")
        self.assertEqual([self.count(t) for t in ("reports", "tls_reports", "failure_reports")], [1, 1, 1])
        self.assertEqual(len(self.ids("DMARC/Processed")), 3)

        # the same reports mailed again: duplicates, archived, exit 0
        self.seed(msgs)
        third = self.fetch("-v")
        self.assertExit(third, 0)
        self.assertIn("duplicates 3", third.stderr.decode())
        self.assertEqual([self.count(t) for t in ("reports", "tls_reports", "failure_reports")], [1, 1, 1])
        self.assertEqual(self.ids("INBOX"), [])

    def test_spam_and_bounces_still_fail(self):
        good = [tls_message(), failure_message()]
        bad = [plain_message("spam"), bounce_message(),
               failure_message(feedback_type="abuse", msgid="abuse-1@example.com")]
        self.seed(good + bad)
        self.write_config()
        p = self.fetch()
        self.assertExit(p, 65)
        self.assertEqual(self.ids("DMARC/Processed"), sorted(message_id(m) for m in good))
        self.assertEqual(self.ids("DMARC/Failed"), sorted(message_id(m) for m in bad))
        self.assertEqual(len(self.quarantined()), 3)
