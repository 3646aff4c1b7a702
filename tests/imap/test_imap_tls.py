"""TLS: the server's certificate is verified before any credential is
sent, for IMAPS and STARTTLS; clear text only to loopback."""
import os
import socket
import subprocess

import dmarctest as dt
from imapcase import (EX_CONFIG, EX_NOPERM, EX_UNAVAILABLE, Forwarder,
                      ImapCase, message_id, plain_message, report_message)


class TlsCase(ImapCase):

    def assertRefusedBeforeLogin(self, p, *words):
        self.assertExit(p, EX_NOPERM)
        err = p.stderr.decode()
        for w in words:
            self.assertIn(w, err)
        self.assertNotIn(self.d.password, err)
        # dovecot saw a connection that never tried to log in
        self.d.wait_for_log(r"no auth attempts")
        log = self.d.log()
        self.assertNotIn("user=<dmarc>", log)
        self.assertNotIn("auth failed", log)
        self.assertNotIn("Login:", log)
        # nothing fetched, nothing moved
        self.assertEqual(self.count("reports"), 0)
        self.assertEqual(self.messages_in("INBOX"), 1)
        self.assertIsNone(self.messages_in("DMARC/Processed"))

    def password_command_marker(self):
        """A password_command that leaves a file behind when it runs."""
        marker = self.path("password-command-ran")
        return marker, "touch %s; echo %s" % (marker, self.d.password)


class TestImaps(TlsCase):

    def test_without_ca_file_refused_and_no_login_attempt(self):
        self.seed([report_message("r-1")])
        marker, cmd = self.password_command_marker()
        self.write_config(ca_file=None, password=None, password_command=cmd)
        p = self.fetch()
        self.assertRefusedBeforeLogin(
            p, "certificate is refused",
            "issued by an authority this machine does not trust",
            "O=dmarcsift tests", "set ca_file")
        self.assertFalse(os.path.exists(marker),
                         "no password is fetched for a refused server")

    def test_host_not_in_certificate(self):
        self.seed([report_message("r-1")])
        fw = Forwarder("127.0.0.2", self.d.imaps_port)
        self.addCleanup(fw.close)
        self.write_config(host="127.0.0.2", port=fw.port)
        p = self.fetch()
        self.assertRefusedBeforeLogin(
            p, "it is for localhost, 127.0.0.1, not 127.0.0.2",
            "set host")

    def test_host_name_in_certificate(self):
        self.seed([report_message("r-1")])
        self.write_config(host="localhost")
        p = self.fetch()
        self.assertExit(p, 0)
        self.assertEqual(self.report_ids(), ["r-1"])
        self.assertEqual(self.imap_state()[0][0], "dmarc@localhost/INBOX")
        self.assertEqual(len(self.ids("DMARC/Processed")), 1)

    def test_expired_certificate(self):
        etc = os.path.join(self.d.root, "etc")
        db = os.path.join(etc, "ca-db")
        os.makedirs(os.path.join(db, "new"))
        open(os.path.join(db, "index.txt"), "w").close()
        cnf = os.path.join(etc, "expired.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = testca\n[testca]\n"
                    "dir = %s\ndatabase = $dir/index.txt\n"
                    "unique_subject = no\n"
                    "new_certs_dir = $dir/new\nserial = $dir/serial\n"
                    "default_md = sha256\npolicy = any\n"
                    "copy_extensions = none\nx509_extensions = ext\n"
                    "[any]\ncommonName = supplied\n"
                    "[ext]\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n"
                    "extendedKeyUsage = serverAuth\n" % db)
        with open(os.path.join(db, "serial"), "w") as f:
            f.write("1000\n")
        csr = os.path.join(etc, "server.csr")
        subprocess.run(["openssl", "ca", "-batch", "-config", cnf,
                        "-cert", self.d.ca_file,
                        "-keyfile", os.path.join(etc, "ca.key"),
                        "-in", csr, "-out", self.d.cert_file,
                        "-startdate", "20200101000000Z",
                        "-enddate", "20200201000000Z"],
                       check=True, capture_output=True)
        # the fixture's own readiness probe would refuse it at start():
        # have the running dovecot re-read its certificate instead
        self.d.doveadm("reload")
        self.d.wait_for_log(r"SIGHUP received - reloading configuration")
        self.seed([report_message("r-1")])
        self.write_config()
        p = self.fetch()
        self.assertRefusedBeforeLogin(p, "it expired on 2020-02-01",
                                      "renewed")

    def test_tls_to_a_plain_port(self):
        self.seed([report_message("r-1")])
        self.write_config(port=self.d.imap_port)
        p = self.fetch()
        self.assertExit(p, EX_UNAVAILABLE)
        self.assertIn(b"TLS handshake", p.stderr)
        self.assertEqual(len(self.ids("INBOX")), 1)

    def test_unreachable_server(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        self.write_config(port=port)
        p = self.fetch()
        self.assertExit(p, EX_UNAVAILABLE)
        self.assertIn(("cannot connect to 127.0.0.1:%d: connection refused"
                       % port).encode(), p.stderr)

    def test_unknown_host(self):
        self.write_config(host="no-such-host.invalid")
        p = self.fetch()
        self.assertExit(p, EX_UNAVAILABLE)
        self.assertIn(b"cannot resolve no-such-host.invalid", p.stderr)

    def test_ca_file_without_certificate_is_a_config_error(self):
        self.seed([report_message("r-1")])
        self.write(self.path("empty.pem"), "not a certificate\n")
        self.write_config(ca_file=self.path("empty.pem"))
        p = self.fetch()
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"holds no PEM certificate", p.stderr)
        self.assertNotIn("user=<dmarc>", self.d.log())


class TestStarttls(TlsCase):

    def test_same_results_as_imaps(self):
        good = [report_message("s-%d" % i) for i in range(3)]
        bad = plain_message("nope")
        uids = self.seed(good + [bad])
        self.write_config(tls="starttls", port=self.d.imap_port)
        p = self.fetch()
        self.assertExit(p, dt.EX_DATAERR)
        self.assertEqual(self.report_ids(), ["s-0", "s-1", "s-2"])
        self.assertEqual(self.ids("INBOX"), [])
        self.assertEqual(self.ids("DMARC/Processed"),
                         sorted(message_id(m) for m in good))
        self.assertEqual(self.ids("DMARC/Failed"), [message_id(bad)])
        self.assertEqual(sorted(self.quarantined()), [uids[3]])
        # the login happened inside TLS
        self.assertTrue(self.d.wait_for_log(r"Login: user=<dmarc>.*TLS"))
        # and a clean second run
        self.assertExit(self.fetch(), 0)

    def test_without_ca_file_refused_and_no_login_attempt(self):
        self.seed([report_message("r-1")])
        self.write_config(tls="starttls", port=self.d.imap_port,
                          ca_file=None)
        p = self.fetch()
        self.assertRefusedBeforeLogin(p, "issued by an authority this "
                                      "machine does not trust")

    def test_host_not_in_certificate(self):
        self.seed([report_message("r-1")])
        fw = Forwarder("127.0.0.2", self.d.imap_port)
        self.addCleanup(fw.close)
        self.write_config(tls="starttls", host="127.0.0.2", port=fw.port)
        p = self.fetch()
        self.assertRefusedBeforeLogin(p, "not 127.0.0.2")

    def test_default_port_is_143(self):
        self.write_config(tls="starttls", port=None, timeout=5)
        p = self.fetch()
        # nothing listens on 143 here, or something else does: either way
        # the message names the port
        self.assertIn(b"127.0.0.1:143", p.stderr)
        self.assertNotEqual(p.returncode, 0)


class TestNoTlsServer(TlsCase):
    DOVECOT = {"ssl": False}

    def test_starttls_not_offered_is_refused(self):
        self.seed([report_message("r-1")])
        self.write_config(tls="starttls", port=self.d.imap_port)
        p = self.fetch()
        self.assertRefusedBeforeLogin(p, "does not offer STARTTLS",
                                      "clear text")

    def test_tls_none_to_loopback_with_warning(self):
        self.seed([report_message("r-1"), report_message("r-2")])
        self.write_config(tls="none", port=self.d.imap_port, ca_file=None)
        p = self.fetch()
        self.assertExit(p, 0)
        self.assertIn(b"warning: tls = none", p.stderr)
        self.assertIn(b"clear text", p.stderr)
        self.assertEqual(self.report_ids(), ["r-1", "r-2"])
        self.assertEqual(len(self.ids("DMARC/Processed")), 2)

    def test_tls_none_to_localhost_name(self):
        self.seed([report_message("r-1")])
        self.write_config(tls="none", host="localhost",
                          port=self.d.imap_port, ca_file=None)
        p = self.fetch()
        self.assertExit(p, 0)
        self.assertEqual(self.report_ids(), ["r-1"])

    def test_tls_none_to_other_host_refused(self):
        self.seed([report_message("r-1")])
        self.write_config(tls="none", host="192.0.2.10",
                          port=self.d.imap_port, ca_file=None)
        p = self.fetch()
        self.assertExit(p, EX_CONFIG)
        self.assertIn(b"tls = none is only allowed to a loopback address",
                      p.stderr)
        self.assertEqual(len(self.ids("INBOX")), 1)
        self.assertEqual(self.count("reports"), 0)
