"""What the IMAP tests share: a real dovecot per test, a configuration
file, report messages, and looks at the database and the mailbox.

Every test runs the real dmarc-ingest against a real dovecot (started on
loopback by fixture/dovecot_fixture.py) and asserts on both sides: the
SQLite database and the folders, flags and messages on the server.
"""
import email
import os
import re
import select
import socket
import sqlite3
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fixture"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import dmarctest as dt  # noqa: E402
from dovecot_fixture import (CAPS_WITHOUT_MOVE,  # noqa: E402,F401
                             CAPS_WITHOUT_MOVE_UIDPLUS, Dovecot,
                             skip_reason)

SKIP = skip_reason()

EX_UNAVAILABLE, EX_IOERR, EX_NOPERM, EX_CONFIG = 69, 74, 77, 78
EXAMPLES = (os.path.join(dt.EXAMPLES, "reports")
            if os.path.isdir(os.path.join(dt.EXAMPLES, "reports"))
            else dt.EXAMPLES)


def report_message(rid, domain="example.com", container="gz", records=None,
                   org="Receiver Example"):
    """A report e-mail whose report_id, Subject and Message-ID all carry
    `rid`, with the report gzipped, zipped or as plain XML."""
    xml = dt.report_xml(org=org, report_id=rid, domain=domain,
                        records=records)
    name = "%s!%s!1700006400!1700092799" % (org.replace(" ", ""), domain)
    if container == "gz":
        att = (name + ".xml.gz", "application/gzip", dt.gz(xml))
    elif container == "zip":
        att = (name + ".zip", "application/zip",
               dt.zipped([(name + ".xml", xml)]))
    else:
        att = (name + ".xml", "text/xml", xml)
    raw = dt.message([att], subject="Report Domain: %s Report-ID: %s"
                     % (domain, rid))
    return raw.replace(b"<test@receiver.example>",
                       ("<%s@receiver.example>" % rid).encode())


def plain_message(tag, body="Hello, this is not a DMARC report."):
    """A message without any report (a bounce, spam...)."""
    raw = dt.message([], body=body, subject="Not a report %s" % tag)
    return raw.replace(b"<test@receiver.example>",
                       ("<%s@elsewhere.example>" % tag).encode())


def message_id(raw):
    return email.message_from_bytes(raw)["Message-ID"]


def example_messages():
    out = []
    for name in sorted(os.listdir(EXAMPLES)):
        if name.endswith(".eml"):
            with open(os.path.join(EXAMPLES, name), "rb") as f:
                out.append(f.read())
    return out


class Forwarder:
    """A plain TCP relay from listen_host to 127.0.0.1:port, so that the
    server can be reached under an address its certificate does not
    name (dovecot itself listens on 127.0.0.1 only)."""

    def __init__(self, listen_host, port):
        self.target = ("127.0.0.1", port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((listen_host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        self.paused = threading.Event()  # set: hold every byte
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,),
                             daemon=True).start()

    def _pipe(self, client):
        try:
            server = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        socks = [client, server]
        try:
            while not self.closed:
                ready, _, _ = select.select(socks, [], [], 0.2)
                if self.paused.is_set():
                    continue
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (server if s is client else client).sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            server.close()

    def pause(self):
        """Stop relaying: both ends see a silent peer."""
        self.paused.set()

    def close(self):
        self.closed = True
        self.sock.close()
        self.thread.join(5)


class ImapCase(dt.Case):
    """A test with its own dovecot, started before the test and stopped
    after it.  DOVECOT holds the fixture's options."""

    DOVECOT = {}

    def setUp(self):
        if SKIP:
            self.skipTest(SKIP)
        super().setUp()
        self.d = Dovecot(self.tmp, **self.DOVECOT)
        try:
            self.d.start()
        except BaseException:
            self.d.close()
            raise
        self.conf = self.path("dmarcsift.conf")

    def tearDown(self):
        try:
            self.d.close()
        finally:
            super().tearDown()

    # -- configuration -----------------------------------------------------

    def settings(self, **kv):
        """The [imap] settings of a working IMAPS setup, changed by kv
        (None removes a key)."""
        d = self.d
        s = {"host": d.host, "port": d.imaps_port or d.imap_port,
             "tls": "imaps" if d.ssl else "none", "user": d.user,
             "password": d.password, "ca_file": d.ca_file}
        s.update(kv)
        return {k: v for k, v in s.items() if v is not None}

    def write_config(self, text=None, mode=0o600, **kv):
        """Writes the configuration file (text as given, or [imap] with
        settings(**kv)) and returns its path."""
        if text is None:
            text = "[imap]\n" + "".join(
                "%s = %s\n" % (k, v) for k, v in self.settings(**kv).items())
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, mode)
        return self.conf

    def fetch(self, *args, env=None, config=True):
        """Runs dmarc-ingest without PATH (the IMAP mode)."""
        argv = ["--config", self.conf] if config else []
        return self.ingest(*(argv + list(args)), env=env)

    def start_fetch(self, *args):
        """Starts dmarc-ingest in the background (a subprocess.Popen)."""
        env = dict(os.environ)
        env.pop("DMARCSIFT_DB", None)
        env.pop("DMARCSIFT_CONFIG", None)
        import subprocess
        return subprocess.Popen([dt.INGEST, "--db", self.db, "--config",
                                 self.conf] + list(args), env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    # -- the mailbox ---------------------------------------------------------

    def seed(self, raws, folder="INBOX"):
        """Adds messages with doveadm; returns their UIDs."""
        return [self.d.add_message(folder, raw) for raw in raws]

    def seed_fast(self, raws):
        """Adds many messages to the inbox by writing them into the
        maildir directly (doveadm is ~50 ms per message)."""
        d = self.d
        for sub in ("", "cur", "new", "tmp"):
            p = os.path.join(d.maildir, sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, d.mail_uid, d.mail_gid)
            os.chmod(p, 0o700)
        base = int(time.time())
        for i, raw in enumerate(raws):
            name = "%d.M%dP%d.dmarcsift-test" % (base, i, os.getpid())
            tmp = os.path.join(d.maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(raw)
            os.chown(tmp, d.mail_uid, d.mail_gid)
            os.rename(tmp, os.path.join(d.maildir, "new", name))

    def ids(self, folder):
        """Message-IDs in a folder, as a sorted list (duplicates kept)."""
        return sorted(message_id(raw) for _, _, raw in
                      self.d.messages(folder))

    def folder_names(self):
        return sorted(f.name for f in self.d.folders())

    def messages_in(self, folder):
        """How many messages a folder holds, asked with doveadm (no IMAP
        login, so it works whatever the server's certificate)."""
        res = self.d.doveadm("mailbox", "status", "-u", self.d.user,
                             "messages", self.d._vname(folder), check=False)
        if res.returncode != 0 or b"=" not in res.stdout:
            return None
        return int(res.stdout.split(b"=")[1])

    def uidvalidity(self, folder="INBOX"):
        res = self.d.doveadm("mailbox", "status", "-u", self.d.user,
                             "uidvalidity", self.d._vname(folder))
        return int(res.stdout.split(b"=")[1])

    # -- the database ------------------------------------------------------

    def report_ids(self):
        return sorted(r[0] for r in self.sql("SELECT report_id FROM reports"))

    def quarantined(self):
        """{uid: bytes} of the quarantine directory; checks the names and
        the modes on the way."""
        qdir = self.path("quarantine")
        if not os.path.isdir(qdir):
            return {}
        self.assertEqual(os.stat(qdir).st_mode & 0o777, 0o700)
        out = {}
        for name in os.listdir(qdir):
            m = re.fullmatch(r"(\d{8})-(\d+)-(\d+)\.eml", name)
            self.assertIsNotNone(m, "unexpected file %s" % name)
            self.assertEqual(time.strftime("%Y%m%d", time.gmtime()),
                             m.group(1))
            p = os.path.join(qdir, name)
            self.assertEqual(os.stat(p).st_mode & 0o777, 0o600)
            with open(p, "rb") as f:
                out[int(m.group(3))] = (int(m.group(2)), f.read())
        return out

    def imap_state(self):
        return self.sql("SELECT mailbox, uidvalidity, last_uid "
                        "FROM imap_state")

    def wait_for_reports(self, n, proc, timeout=60):
        """Waits until the database holds at least n reports (committed)
        while proc runs; returns the count seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True,
                                      timeout=1)
                try:
                    got = con.execute("SELECT count(*) FROM reports"
                                      ).fetchone()[0]
                finally:
                    con.close()
                if got >= n:
                    return got
            except sqlite3.Error:
                pass
            time.sleep(0.005)
        return -1
