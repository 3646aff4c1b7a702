"""Logging in: LOGIN with a password from the file, password_file,
password_command or DMARCSIFT_IMAP_PASSWORD; XOAUTH2 with a token from
oauth2_token_command; refusals exit 77 and touch nothing."""
import os
import shlex

import dmarctest as dt
from imapcase import (EX_CONFIG, EX_NOPERM, ImapCase, message_id,
                      report_message)


class AuthCase(ImapCase):

    def assertNothingTouched(self, msgs):
        self.assertEqual(self.count("reports"), 0)
        inbox = self.d.messages("INBOX")
        self.assertEqual(sorted(message_id(r) for _, _, r in inbox),
                         sorted(message_id(m) for m in msgs))
        for _, flags, _ in inbox:
            self.assertNotIn("\\Seen", flags)
            self.assertNotIn("\\Deleted", flags)
        self.assertNotIn("DMARC/Processed", self.folder_names())
        self.assertEqual(self.quarantined(), {})

    def assertFetchedWith(self, p, msgs):
        self.assertExit(p, 0)
        self.assertEqual(self.count("reports"), len(msgs))
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted(message_id(m) for m in msgs))


class TestPassword(AuthCase):

    def test_wrong_password_refused_nothing_moved(self):
        msgs = [report_message("w-1"), report_message("w-2")]
        self.seed(msgs)
        self.write_config(password="Not-The-Password")
        p = self.fetch("-v", "-v")
        self.assertExit(p, EX_NOPERM)
        self.assertIn(b"refused the password of dmarc", p.stderr)
        self.assertNotIn(b"Not-The-Password", p.stderr)
        self.assertNotIn(b"Not-The-Password", p.stdout)
        self.d.wait_for_log(r"auth failed|Authentication failed|"
                            r"Password mismatch")
        self.assertNothingTouched(msgs)

    def test_password_from_file(self):
        msgs = [report_message("f-1")]
        self.seed(msgs)
        pw = self.write(self.path("imap-password"), self.d.password + "\n")
        os.chmod(pw, 0o600)
        self.write_config(password=None, password_file=pw)
        p = self.fetch()
        self.assertFetchedWith(p, msgs)
        self.assertEqual(p.stderr, b"")

    def test_password_file_relative_to_config(self):
        msgs = [report_message("f-1")]
        self.seed(msgs)
        pw = self.write(self.path("imap-password"), self.d.password)
        os.chmod(pw, 0o600)
        self.write_config(password=None, password_file="imap-password")
        # the working directory (tests/) is not the configuration's
        self.assertNotEqual(os.getcwd(), self.tmp)
        self.assertFetchedWith(self.fetch(), msgs)

    def test_password_file_readable_by_others_is_warned(self):
        msgs = [report_message("f-1")]
        self.seed(msgs)
        pw = self.write(self.path("imap-password"), self.d.password + "\n")
        os.chmod(pw, 0o644)
        self.write_config(password=None, password_file=pw)
        p = self.fetch()
        self.assertFetchedWith(p, msgs)
        self.assertIn(b"warning: the password file %s is readable by group "
                      b"or others" % pw.encode(), p.stderr)

    def test_missing_password_file(self):
        self.seed([report_message("f-1")])
        self.write_config(password=None,
                          password_file=self.path("no-such-file"))
        p = self.fetch()
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"cannot read the password_file", p.stderr)
        self.assertEqual(self.count("reports"), 0)

    def test_password_from_command(self):
        msgs = [report_message("c-1"), report_message("c-2")]
        self.seed(msgs)
        self.write_config(password=None, password_command="printf '%s\\n' "
                          + shlex.quote(self.d.password))
        p = self.fetch()
        self.assertFetchedWith(p, msgs)
        self.assertEqual(p.stderr, b"")

    def test_password_command_inherits_no_descriptors(self):
        msgs = [report_message("c-1")]
        self.seed(msgs)
        probe = ("import os, sys; print('fds:', *[f for f in range(3, 1024) "
                 "if os.path.exists('/proc/self/fd/%d' % f)], "
                 "file=sys.stderr)")
        self.write_config(password=None, password_command=(
            "python3 -c %s; printf '%%s\\n' %s"
            % (shlex.quote(probe), shlex.quote(self.d.password))))
        p = self.fetch()
        # the IMAP socket, the database and the lock stay ours
        self.assertIn(b"fds:\n", p.stderr)
        self.assertFetchedWith(p, msgs)

    def test_password_command_failing(self):
        msgs = [report_message("c-1")]
        self.seed(msgs)
        self.write_config(password=None,
                          password_command="echo locked >&2; exit 3")
        p = self.fetch()
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"password_command failed (exit status 3)", p.stderr)
        self.assertIn(b"locked", p.stderr)  # its own stderr comes through
        self.assertNothingTouched(msgs)

    def test_password_command_printing_nothing(self):
        self.seed([report_message("c-1")])
        self.write_config(password=None, password_command="true")
        p = self.fetch()
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"password_command printed nothing", p.stderr)

    def test_password_from_environment(self):
        msgs = [report_message("e-1")]
        self.seed(msgs)
        self.write_config(password=None)
        p = self.fetch(env={"DMARCSIFT_IMAP_PASSWORD": self.d.password})
        self.assertFetchedWith(p, msgs)

    def test_environment_overrides_the_file(self):
        msgs = [report_message("e-1")]
        self.seed(msgs)
        self.write_config(password="Stale-Password")
        p = self.fetch(env={"DMARCSIFT_IMAP_PASSWORD": self.d.password})
        self.assertFetchedWith(p, msgs)

    def test_no_password_anywhere(self):
        self.write_config(password=None)
        p = self.fetch()
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"no password for dmarc", p.stderr)
        self.assertIn(b"DMARCSIFT_IMAP_PASSWORD", p.stderr)
        self.assertNotIn("user=<dmarc>", self.d.log())

    def test_password_never_on_the_command_line(self):
        self.write_config(password=None)
        p = self.fetch("--password", self.d.password)
        self.assertExit(p, dt.EX_USAGE)
        self.assertFalse(os.path.exists(self.db))

    def test_password_never_printed_in_debug_output(self):
        self.seed([report_message("d-1")])
        self.write_config()
        p = self.fetch("-v", "-v")
        self.assertExit(p, 0)
        self.assertNotIn(self.d.password.encode(), p.stderr)
        self.assertNotIn(self.d.password.encode(), p.stdout)


class TestXoauth2(AuthCase):
    DOVECOT = {"oauth2": True}

    def token_config(self, token, **kv):
        self.write_config(password=None, auth="xoauth2",
                          oauth2_token_command="printf '%s\\n' "
                          + shlex.quote(token), **kv)

    def test_token_accepted(self):
        msgs = [report_message("x-1"), report_message("x-2")]
        self.seed(msgs)
        self.token_config(self.d.oauth_token)
        p = self.fetch()
        self.assertFetchedWith(p, msgs)
        # (dovecot's log process writes a moment after the client's answer)
        self.assertTrue(self.d.wait_for_log(r"Login: user=<dmarc>, method=XOAUTH2"))

    def test_wrong_token_refused(self):
        msgs = [report_message("x-1")]
        self.seed(msgs)
        self.token_config("tok-not-valid")
        p = self.fetch()
        self.assertExit(p, EX_NOPERM)
        self.assertIn(b"refused the XOAUTH2 token of dmarc", p.stderr)
        self.assertNotIn(b"tok-not-valid", p.stderr)
        self.assertNothingTouched(msgs)

    def test_token_command_failing(self):
        msgs = [report_message("x-1")]
        self.seed(msgs)
        self.write_config(password=None, auth="xoauth2",
                          oauth2_token_command="exit 1")
        p = self.fetch()
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"oauth2_token_command failed", p.stderr)
        self.assertNothingTouched(msgs)

    def test_password_still_works_beside_oauth2(self):
        msgs = [report_message("x-1")]
        self.seed(msgs)
        self.write_config()
        self.assertFetchedWith(self.fetch(), msgs)


class TestXoauth2NotOffered(AuthCase):

    def test_refused_when_server_lacks_xoauth2(self):
        msgs = [report_message("x-1")]
        self.seed(msgs)
        self.write_config(password=None, auth="xoauth2",
                          oauth2_token_command="echo tok")
        p = self.fetch()
        self.assertExit(p, EX_NOPERM)
        self.assertIn(b"does not offer XOAUTH2", p.stderr)
        self.assertNothingTouched(msgs)
