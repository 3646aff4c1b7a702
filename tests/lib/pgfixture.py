"""A real PostgreSQL for the tests: initdb into a temporary directory, the
server on a loopback port, one fresh database per test.

    server = pgfixture.Server()      # skips the test (unittest.SkipTest)
    url = server.create_database()   # when the binaries are absent
    server.psql(url, "SELECT ...")   # rows as lists of strings
    server.stop()

The server runs as the user running the tests, or as `nobody` when that is
root (PostgreSQL refuses to run as root).  Nothing listens beyond
127.0.0.1; authentication is "trust" on loopback only.

DMARCSIFT_TEST_PG=postgresql://user@host:port/db names an existing server
instead (a role that may CREATE DATABASE); DMARCSIFT_PGBIN the directory
of initdb/postgres/psql (default: the newest /usr/lib/postgresql/*/bin).
"""
import fcntl
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse


def pg_bin():
    if os.environ.get("DMARCSIFT_PGBIN"):
        return os.environ["DMARCSIFT_PGBIN"]
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    return dirs[-1] if dirs else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, settings=None):
        # fsync off by default: the tests need no durability from the
        # server, and it is most of a commit's time (bench/pg-bench sets
        # it back on to compare with SQLite, which does fsync)
        self.settings = {"fsync": "off", "max_connections": "50"}
        self.settings.update(settings or {})
        self.proc = None
        self.tmp = None
        self.count = 0
        self.external = os.environ.get("DMARCSIFT_TEST_PG")
        self.bin = pg_bin()
        if self.bin is None or not os.path.exists(os.path.join(self.bin, "psql")):
            raise unittest.SkipTest("PostgreSQL binaries not found (install the Debian package "
                                    "postgresql, or set DMARCSIFT_PGBIN)")
        if self.external:
            self.admin = self.external
            return
        if not os.path.exists(os.path.join(self.bin, "initdb")):
            raise unittest.SkipTest("initdb not found in %s (install postgresql)" % self.bin)
        self.start()

    # -- the server ---------------------------------------------------------

    def as_server_user(self, cmd):
        if os.geteuid() != 0:
            return cmd
        return ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--"] + cmd

    def initdb(self, data):
        os.mkdir(data, 0o700)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(data, nobody.pw_uid, nobody.pw_gid)
        proc = subprocess.run(self.as_server_user([
            os.path.join(self.bin, "initdb"), "-D", data, "-U", "dmarc", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync"]), capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError("initdb failed: %s" % proc.stderr.decode(errors="replace"))

    def template(self):
        """An initdb'ed directory made once per build and copied for each
        server: initdb is most of a server's start-up time."""
        base = os.environ.get("DMARCSIFT_BUILD") or tempfile.gettempdir()
        tpl = os.path.join(os.path.abspath(base), "pg-template-%s" % os.path.basename(
            os.path.dirname(self.bin)))
        with open(tpl + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(os.path.join(tpl, "PG_VERSION")):
                shutil.rmtree(tpl, ignore_errors=True)
                os.makedirs(os.path.dirname(tpl), exist_ok=True)
                self.initdb(tpl + ".new")
                os.rename(tpl + ".new", tpl)
        return tpl

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="dmarcsift-pg-")
        os.chmod(self.tmp, 0o755)
        self.data = os.path.join(self.tmp, "data")
        subprocess.run(["cp", "-a", self.template(), self.data], check=True)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.tmp, nobody.pw_uid, nobody.pw_gid)
        self.port = free_port()
        self.log = open(os.path.join(self.tmp, "server.log"), "wb")
        self.proc = subprocess.Popen(self.as_server_user([
            os.path.join(self.bin, "postgres"), "-D", self.data, "-p", str(self.port),
            "-k", self.tmp, "-c", "listen_addresses=127.0.0.1"]
            + [a for k, v in self.settings.items() for a in ("-c", "%s=%s" % (k, v))]),
            stdout=self.log, stderr=subprocess.STDOUT)
        self.admin = "postgresql://dmarc@127.0.0.1:%d/postgres" % self.port
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited: %s" % self.server_log())
            ok = subprocess.run([os.path.join(self.bin, "pg_isready"), "-q", "-d", self.admin])
            if ok.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not start: %s" % self.server_log())

    def server_log(self):
        try:
            with open(os.path.join(self.tmp, "server.log"), "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()  # smart shutdown would wait for clients
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    # -- databases ----------------------------------------------------------

    def url(self, dbname, base=None):
        parts = urllib.parse.urlsplit(base or self.admin)
        return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))

    def create_database(self):
        self.count += 1
        name = "dmarcsift_test_%d_%d" % (os.getpid(), self.count)
        self.psql(self.admin, "DROP DATABASE IF EXISTS %s" % name)
        self.psql(self.admin, "CREATE DATABASE %s" % name)
        return self.url(name)

    def psql(self, url, sql, check=True):
        proc = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t",
                               "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                              capture_output=True)
        if check and proc.returncode != 0:
            raise RuntimeError("psql: %s" % proc.stderr.decode(errors="replace"))
        out = proc.stdout.decode()
        return [line.split("\t") for line in out.splitlines() if line != ""]
