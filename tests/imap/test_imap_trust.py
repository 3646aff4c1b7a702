"""A configuration that cannot be planted (issue 17 item 5): the
configuration, password_file and the program of password_command are
refused (exit 78, saying which file and why) when others than their owner
may write them, or when they belong to another user than the one running
(root's files excepted).  Run as root and, through setpriv, as nobody.
Also: a password_command printing more than a pipe buffer is read to the
end.  Against the scripted server of hostile_server.py (well-behaved)."""
import os
import pwd
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import dmarctest as dt  # noqa: E402
from hostile_server import HostileServer  # noqa: E402
from imapcase import report_message  # noqa: E402

EX_CONFIG = 78
IS_ROOT = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")


class TrustCase(dt.Case):

    def setUp(self):
        super().setUp()
        self.srv = HostileServer({1: report_message("t-1")})
        self.addCleanup(self.srv.close)
        self.pwned = self.path("PWNED")
        os.chmod(self.tmp, 0o755)  # nobody must reach its files

    def config(self, mode=0o600, owner=None, **kv):
        s = {"host": "127.0.0.1", "port": self.srv.port, "tls": "none",
             "user": "dmarc", "timeout": 5, "mark_seen": "no",
             "password_command": "touch %s; echo secret" % self.pwned}
        s.update(kv)
        text = "[imap]\n" + "".join("%s = %s\n" % (k, v)
                                    for k, v in s.items() if v is not None)
        p = self.write("conf/dmarcsift.conf", text)
        os.chmod(os.path.dirname(p), 0o755)
        os.chmod(p, mode)
        if owner is not None:
            pw = pwd.getpwnam(owner)
            os.chown(p, pw.pw_uid, pw.pw_gid)
        return p

    def run_as(self, user, conf):
        """dmarc-ingest as `user` (None: as we are), with a database the
        user can write."""
        dbdir = self.path("db-%s" % (user or "me"))
        os.makedirs(dbdir, exist_ok=True)
        if user is not None:
            pw = pwd.getpwnam(user)
            os.chown(dbdir, pw.pw_uid, pw.pw_gid)
        cmd = [dt.INGEST, "--db", os.path.join(dbdir, "dmarc.db"),
               "--config", conf]
        if user is not None:
            pw = pwd.getpwnam(user)
            cmd = [SETPRIV, "--reuid=%d" % pw.pw_uid,
                   "--regid=%d" % pw.pw_gid, "--clear-groups"] + dt.wrap(cmd)
            return dt._run_unwrapped(cmd, timeout=120)
        return dt.run(cmd, timeout=120)

    def assertRefused(self, p, *words):
        self.assertEqual(p.returncode, EX_CONFIG, p.stderr)
        for w in words:
            self.assertIn(w, p.stderr)
        self.assertFalse(os.path.exists(self.pwned),
                         "the password_command ran")


class TestConfigFile(TrustCase):

    def test_private_config_accepted(self):
        p = self.run_as(None, self.config())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(self.pwned))

    def test_world_writable_config_refused_before_anything_runs(self):
        conf = self.config(mode=0o666)
        p = self.run_as(None, conf)
        self.assertRefused(p, b"the configuration " + conf.encode(),
                           b"is writable by everyone", b"chmod go-w")

    def test_group_writable_config_refused(self):
        p = self.run_as(None, self.config(mode=0o620))
        self.assertRefused(p, b"is writable by its group")

    def test_config_of_another_user_refused_for_root(self):
        if not IS_ROOT:
            self.skipTest("needs root to chown")
        p = self.run_as(None, self.config(owner="nobody"))
        self.assertRefused(p, b"belongs to nobody",
                           b"not to the user running (uid 0)")


class TestAsUnprivilegedUser(TrustCase):

    def setUp(self):
        if not IS_ROOT or SETPRIV is None:
            self.skipTest("needs root and setpriv to run as nobody")
        super().setUp()

    def test_own_config_accepted(self):
        p = self.run_as("nobody", self.config(owner="nobody"))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_root_owned_config_accepted(self):
        # /etc/dmarcsift.conf: root's, readable by the user running
        p = self.run_as("nobody", self.config(mode=0o644))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_config_of_another_user_refused(self):
        p = self.run_as("nobody", self.config(mode=0o644, owner="daemon"))
        self.assertRefused(p, b"belongs to daemon",
                           b"not to the user running (uid 65534)")

    def test_world_writable_own_config_refused(self):
        p = self.run_as("nobody", self.config(mode=0o646, owner="nobody"))
        self.assertRefused(p, b"is writable by everyone")


class TestSecrets(TrustCase):

    def test_writable_password_file_refused(self):
        pf = self.write("pw", "secret\n")
        os.chmod(pf, 0o602)
        p = self.run_as(None, self.config(password_command=None,
                                          password_file=pf))
        self.assertRefused(p, b"the password_file " + pf.encode(),
                           b"is writable by everyone")
        self.assertEqual(self.srv.connections, 1)  # no LOGIN was sent
        os.chmod(pf, 0o600)
        p = self.run_as(None, self.config(password_command=None,
                                          password_file=pf))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_writable_program_of_password_command_refused(self):
        prog = self.write("bin/get-password",
                          "#!/bin/sh\ntouch %s\necho secret\n" % self.pwned)
        os.chmod(prog, 0o757)
        p = self.run_as(None, self.config(password_command=prog + " --x"))
        self.assertRefused(p, b"the program of password_command " +
                           prog.encode(), b"is writable by everyone")
        os.chmod(prog, 0o755)
        p = self.run_as(None, self.config(password_command=prog + " --x"))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_program_found_in_path_checked(self):
        bindir = self.path("pathbin")
        os.makedirs(bindir)
        prog = os.path.join(bindir, "dmarcsift-test-pw")
        with open(prog, "w") as f:
            f.write("#!/bin/sh\ntouch %s\necho secret\n" % self.pwned)
        os.chmod(prog, 0o777)
        conf = self.config(password_command="dmarcsift-test-pw")
        p = dt.run([dt.INGEST, "--db", self.db, "--config", conf],
                   env={"PATH": bindir + ":/usr/bin:/bin"})
        self.assertRefused(p, prog.encode(), b"is writable by everyone")

    def test_password_command_printing_more_than_a_pipe_buffer(self):
        # before: the pipe was closed at 16 KB and the command died of
        # SIGPIPE ("exit status 141")
        p = self.run_as(None, self.config(
            password_command="printf 'secret\\n'; head -c 1000000 "
                             "/dev/zero"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.count("reports", db=os.path.join(
            self.path("db-me"), "dmarc.db")), 1)


class TestWhichPassword(TrustCase):
    """A refused login says which password source was used (issue 12
    item 9), not the list of every possible one."""

    def setUp(self):
        super().setUp()
        self.srv.misbehave = "refuse_login"

    def test_password_file_named(self):
        pf = self.write("pw", "wrong\n")
        os.chmod(pf, 0o600)
        p = self.run_as(None, self.config(password_command=None,
                                          password_file=pf))
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertIn(b"sent: the password in password_file " +
                      pf.encode(), p.stderr)
        self.assertNotIn(b"DMARCSIFT_IMAP_PASSWORD", p.stderr)

    def test_password_command_named(self):
        p = self.run_as(None, self.config())
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertIn(b"sent: the password printed by password_command",
                      p.stderr)

    def test_environment_named(self):
        conf = self.config()
        p = dt.run([dt.INGEST, "--db", self.db, "--config", conf],
                   env={"DMARCSIFT_IMAP_PASSWORD": "wrong"})
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertIn(b"sent: the password from DMARCSIFT_IMAP_PASSWORD",
                      p.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
