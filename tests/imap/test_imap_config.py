"""The configuration: where it is found, what overrides what, and errors
that name the file, the line and the key (exit 78)."""
import os

import dmarctest as dt
from imapcase import EX_CONFIG, ImapCase, report_message


class ConfigCase(dt.Case):
    """No server needed: these runs stop at the configuration."""

    def conf(self, text, name="dmarcsift.conf", mode=0o600):
        p = self.write(name, text)
        os.chmod(p, mode)
        return p

    def fetch(self, *args, env=None):
        return self.ingest(*args, env=env)

    def assertConfigError(self, p, *words):
        self.assertExit(p, EX_CONFIG)
        err = p.stderr.decode()
        for w in words:
            self.assertIn(w, err)
        self.assertEqual(err.count("\n"), 1, "one line: %r" % err)
        self.assertFalse(os.path.exists(self.db),
                         "nothing is opened for a bad configuration")


class TestConfigErrors(ConfigCase):

    def test_unknown_key_names_file_line_key(self):
        c = self.conf("[imap]\nhost = mail.example.com\nhots = x\n")
        p = self.fetch("--config", c)
        self.assertConfigError(p, "%s:3: unknown key 'hots' in [imap]" % c)

    def test_bad_port(self):
        c = self.conf("[imap]\n# the server\nhost = h\nport = 99999\n")
        p = self.fetch("--config", c)
        self.assertConfigError(p, "%s:4: [imap] port: '99999' is not a "
                               "port number" % c)

    def test_bad_enumerations(self):
        for key, value, words in (
                ("tls", "ssl", "not one of imaps, starttls, none"),
                ("auth", "plain", "not one of login, xoauth2"),
                ("timeout", "0", "seconds between 1 and 3600"),
                ("batch", "5000", "between 1 and 1000"),
                ("folder", "DMARC//x", "empty component"),
                ("folder", b"Bad\xff", "not valid UTF-8"),
                ("host", "mail example", "not a host name")):
            with self.subTest(key=key):
                if isinstance(value, str):
                    value = value.encode()
                c = self.conf(b"[imap]\nuser = u\n%s = %s\n"
                              % (key.encode(), value))
                p = self.fetch("--config", c)
                self.assertConfigError(p, "%s:3: [imap] %s: " % (c, key),
                                       words)

    def test_unknown_section(self):
        c = self.conf("[imap]\nhost = h\n[imapp]\nuser = u\n")
        p = self.fetch("--config", c)
        self.assertConfigError(p, "%s:4: unknown section [imapp]" % c)

    def test_key_outside_any_section(self):
        c = self.conf("host = h\n")
        p = self.fetch("--config", c)
        self.assertConfigError(p, "%s:1: 'host' is outside any section" % c)

    def test_key_set_twice(self):
        c = self.conf("[imap]\nhost = a\nuser = u\nhost = b\n")
        p = self.fetch("--config", c)
        self.assertConfigError(p, "%s:4: [imap] host: set twice (first on "
                               "line 2" % c)

    def test_line_without_equals(self):
        c = self.conf("[imap]\nhost = h\njust words\n")
        p = self.fetch("--config", c)
        self.assertConfigError(p, "%s:3:" % c)

    def test_line_too_long(self):
        c = self.conf("[imap]\nhost = h\nfolder = %s\n" % ("x" * 300))
        p = self.fetch("--config", c)
        self.assertConfigError(p, "%s:3: line longer than" % c)

    def test_missing_config_given(self):
        p = self.fetch("--config", self.path("nope.conf"))
        self.assertConfigError(p, "cannot read the configuration %s"
                               % self.path("nope.conf"))

    def test_missing_config_from_environment(self):
        p = self.fetch(env={"DMARCSIFT_CONFIG": self.path("env.conf")})
        self.assertConfigError(p, self.path("env.conf"))

    def test_no_host(self):
        c = self.conf("[imap]\nuser = u\npassword = p\n")
        p = self.fetch("--config", c)
        self.assertConfigError(p, "no IMAP server", "host")

    def test_no_configuration_at_all(self):
        home = self.path("home")
        os.makedirs(home)
        p = self.fetch(env={"HOME": home, "XDG_CONFIG_HOME": ""})
        if os.path.exists("/etc/dmarcsift/config"):
            self.skipTest("/etc/dmarcsift/config exists on this machine")
        self.assertConfigError(p, "no IMAP server", "--host")

    def test_cross_checks(self):
        for text, words in (
                ("auth = xoauth2\n", "needs oauth2_token_command"),
                ("password = a\npassword_command = b\n",
                 "set only one of password, password_file"),
                ("password = a\noauth2_token_command = t\n",
                 "only used with auth = xoauth2"),
                ("password = a\narchive_folder = INBOX\n",
                 "archive folder cannot be the folder read"),
                ("password = a\nfolder = R\nfailed_folder = R\n",
                 "failed folder cannot be the folder read")):
            with self.subTest(text=text):
                c = self.conf("[imap]\nhost = h\nuser = u\n" + text)
                self.assertConfigError(self.fetch("--config", c), words)

    def test_bad_option_value_is_a_usage_error(self):
        c = self.conf("[imap]\nhost = h\nuser = u\npassword = p\n")
        p = self.fetch("--config", c, "--port", "http")
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(b"--port: 'http' is not a port number", p.stderr)

    def test_imap_options_with_a_path_are_a_usage_error(self):
        p = self.fetch("--host", "h", os.path.join(dt.EXAMPLES))
        self.assertExit(p, dt.EX_USAGE)
        self.assertIn(b"IMAP", p.stderr)

    def test_readable_config_is_warned(self):
        c = self.conf("[imap]\nuser = u\n", mode=0o644)
        p = self.fetch("--config", c)
        self.assertExit(p, EX_CONFIG)
        self.assertIn(("warning: %s is readable by group or others"
                       % c).encode(), p.stderr)
        c = self.conf("[imap]\nuser = u\n", mode=0o600)
        p = self.fetch("--config", c)
        self.assertNotIn(b"warning", p.stderr)


class TestConfigLocation(ConfigCase):
    """Which file is read, seen through [store] db in a local import."""

    def run_local(self, env, *args):
        full = {"HOME": self.path("home"), "XDG_CONFIG_HOME": ""}
        full.update(env)
        return dt.run([dt.INGEST] + list(args) + [
            os.path.join(dt.EXAMPLES, "google-zip.eml")], env=full)

    def db_conf(self, name, db):
        return self.conf("[store]\ndb = %s\n" % db, name=name)

    def test_store_db_from_the_file(self):
        c = self.db_conf("a.conf", self.path("from-file.db"))
        p = self.run_local({}, "--config", c)
        self.assertExit(p, 0)
        self.assertEqual(self.count("reports", db=self.path("from-file.db")),
                         1)

    def test_relative_db_is_relative_to_the_file(self):
        os.makedirs(self.path("etc"))
        c = self.db_conf("etc/b.conf", "rel.db")
        p = self.run_local({}, "--config", c)
        self.assertExit(p, 0)
        self.assertTrue(os.path.exists(self.path("etc/rel.db")))

    def test_precedence(self):
        env_conf = self.db_conf("env.conf", self.path("env.db"))
        opt_conf = self.db_conf("opt.conf", self.path("opt.db"))
        xdg = self.path("xdg")
        os.makedirs(os.path.join(xdg, "dmarcsift"))
        self.db_conf("xdg/dmarcsift/config", self.path("xdg.db"))
        home_conf = self.path("home/.config/dmarcsift/config")
        os.makedirs(os.path.dirname(home_conf))
        self.db_conf(home_conf, self.path("home.db"))

        # ~/.config/dmarcsift/config
        self.assertExit(self.run_local({}), 0)
        self.assertTrue(os.path.exists(self.path("home.db")))
        # $XDG_CONFIG_HOME/dmarcsift/config over ~/.config
        self.assertExit(self.run_local({"XDG_CONFIG_HOME": xdg}), 0)
        self.assertTrue(os.path.exists(self.path("xdg.db")))
        # $DMARCSIFT_CONFIG over both
        self.assertExit(self.run_local({"XDG_CONFIG_HOME": xdg,
                                        "DMARCSIFT_CONFIG": env_conf}), 0)
        self.assertTrue(os.path.exists(self.path("env.db")))
        # --config over the environment
        self.assertExit(self.run_local({"DMARCSIFT_CONFIG": env_conf},
                                       "--config", opt_conf), 0)
        self.assertTrue(os.path.exists(self.path("opt.db")))
        # $DMARCSIFT_DB over [store] db, --db over both
        self.assertExit(self.run_local({"DMARCSIFT_DB": self.path("e.db")},
                                       "--config", opt_conf), 0)
        self.assertTrue(os.path.exists(self.path("e.db")))
        self.assertExit(self.run_local({"DMARCSIFT_DB": self.path("e.db")},
                                       "--config", opt_conf,
                                       "--db", self.path("o.db")), 0)
        self.assertTrue(os.path.exists(self.path("o.db")))
        self.assertEqual(self.count("reports", db=self.path("e.db")), 1)


class TestOptionsOverFile(ImapCase):

    def test_options_override_the_file(self):
        self.seed([report_message("o-1")])
        self.write_config(folder="Nowhere", port=1, ca_file="/nonexistent",
                          archive_folder='"Done"')
        p = self.fetch("--folder", "INBOX", "--port", str(self.d.imaps_port),
                       "--ca-file", self.d.ca_file,
                       "--archive-folder", "Archive/DMARC")
        self.assertExit(p, 0)
        self.assertEqual(self.report_ids(), ["o-1"])
        self.assertEqual(len(self.ids("Archive/DMARC")), 1)
        self.assertNotIn("Done", self.folder_names())

    def test_quoted_values(self):
        self.seed([report_message("q-1")])
        self.write_config(archive_folder='"Old Reports/DMARC 2026"')
        self.assertExit(self.fetch(), 0)
        self.assertEqual(len(self.ids("Old Reports/DMARC 2026")), 1)

