"""Helpers shared by dmarcsift's integration tests.

The tests run the real dmarc-ingest and dmarc-report binaries from the build
directory against real SQLite databases, real gzip/zip files and real
messages; this module only makes that short to write.
"""
import datetime
import email.message
import email.policy
import gzip
import io
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest
import zipfile

BUILD = os.environ.get("DMARCSIFT_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE = os.environ.get("DMARCSIFT_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.environ.get("DMARCSIFT_CORPUS", os.path.join(SOURCE, "..", "shared", "corpus"))
INGEST = os.path.join(BUILD, "dmarc-ingest")
REPORT = os.path.join(BUILD, "dmarc-report")
EXAMPLES = os.path.join(SOURCE, "examples", "reports")

# No test looks names up on the system's resolver: dmarc-ingest resolves the
# senders' addresses after a run unless offline.  The DNS tests (test_dns*.py)
# clear this and point the programs at their own server on loopback.
os.environ.setdefault("DMARCSIFT_OFFLINE", "1")

EX_OK, EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_TEMPFAIL = 0, 64, 65, 66, 75


def run(cmd, input=None, env=None, timeout=300):
    full_env = dict(os.environ)
    full_env.pop("DMARCSIFT_DB", None)
    full_env.pop("DMARCSIFT_CONFIG", None)
    if env:
        full_env.update(env)
    return subprocess.run(cmd, input=input, capture_output=True, env=full_env, timeout=timeout)


class Case(unittest.TestCase):
    """A test with its own temporary directory and database path."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dmarcsift-test-")
        self.db = os.path.join(self.tmp, "dmarc.db")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def ingest(self, *args, input=None, env=None, db=None):
        return run([INGEST, "--db", db or self.db] + list(args), input=input, env=env)

    def report(self, *args, env=None, db=None):
        return run([REPORT, "--db", db or self.db] + list(args), env=env)

    def sql(self, query, *params, db=None):
        con = sqlite3.connect("file:%s?mode=ro" % (db or self.db), uri=True)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def count(self, table, db=None):
        return self.sql("SELECT count(*) FROM %s" % table, db=db)[0][0]

    def assertExit(self, proc, status):
        self.assertEqual(proc.returncode, status,
                         "exit %d, expected %d\nstdout: %s\nstderr: %s" % (
                             proc.returncode, status, proc.stdout.decode(errors="replace"),
                             proc.stderr.decode(errors="replace")))


# --- building reports -------------------------------------------------------

def record(ip="192.0.2.1", count=1, disposition="none", dkim="pass", spf="pass",
           header_from="example.com", envelope_from=None, dkim_results=(("example.com", "s1", "pass"),),
           spf_results=(("example.com", "mfrom", "pass"),), reasons=()):
    out = ["<record><row><source_ip>%s</source_ip><count>%s</count><policy_evaluated>"
           "<disposition>%s</disposition><dkim>%s</dkim><spf>%s</spf>" % (ip, count, disposition, dkim, spf)]
    for t, c in reasons:
        out.append("<reason><type>%s</type><comment>%s</comment></reason>" % (t, c))
    out.append("</policy_evaluated></row><identifiers><header_from>%s</header_from>" % header_from)
    if envelope_from is not None:
        out.append("<envelope_from>%s</envelope_from>" % envelope_from)
    out.append("</identifiers><auth_results>")
    for d, s, r in dkim_results:
        out.append("<dkim><domain>%s</domain><selector>%s</selector><result>%s</result></dkim>" % (d, s, r))
    for d, sc, r in spf_results:
        out.append("<spf><domain>%s</domain><scope>%s</scope><result>%s</result></spf>" % (d, sc, r))
    out.append("</auth_results></record>")
    return "".join(out)


def report_xml(org="Example Receiver", report_id="rid-1", domain="example.com",
               begin=1700006400, end=1700092799, records=None, email_addr="dmarc@receiver.example",
               namespace=None, policy="<p>none</p><sp>none</sp><pct>100</pct>"):
    if records is None:
        records = [record()]
    ns = ' xmlns="%s"' % namespace if namespace else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feedback%s>\n<version>1.0</version>\n'
            "<report_metadata><org_name>%s</org_name><email>%s</email><report_id>%s</report_id>"
            "<date_range><begin>%d</begin><end>%d</end></date_range></report_metadata>\n"
            "<policy_published><domain>%s</domain><adkim>r</adkim><aspf>r</aspf>%s</policy_published>\n"
            "%s\n</feedback>\n" % (ns, org, email_addr, report_id, begin, end, domain, policy,
                                  "\n".join(records))).encode()


def gz(data, mtime=0):
    return gzip.compress(data, mtime=mtime)


def zipped(members):
    """members: list of (name, bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def message(attachments=(), body="This is a DMARC aggregate report.", subject="Report Domain: example.com",
            html=None):
    """attachments: list of (filename, content_type, bytes)."""
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = "noreply-dmarc@receiver.example"
    m["To"] = "dmarc@example.com"
    m["Subject"] = subject
    m["Date"] = "Tue, 24 Nov 2026 10:00:00 +0000"
    m["Message-ID"] = "<test@receiver.example>"
    m.set_content(body)
    if html:
        m.add_alternative(html, subtype="html")
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/", 1)
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def utc(y, mo, d, h=0, mi=0, s=0):
    return int(datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc).timestamp())


# --- wrappers and measured runs (tests/integration/test_hostile.py & co.) ---
#
# DMARCSIFT_WRAPPER, when set, is a command line put in front of every
# dmarc-ingest and dmarc-report the tests start (scripts/valgrind-tests sets
# it to valgrind).  Tests that depend on timing, signals or memory use skip
# under a wrapper (WRAPPED).

import shlex  # noqa: E402
import time  # noqa: E402

WRAPPER = shlex.split(os.environ.get("DMARCSIFT_WRAPPER", ""))
WRAPPED = bool(WRAPPER)


def wrap(cmd):
    """cmd with the wrapper in front when it starts one of our programs."""
    cmd = list(cmd)
    if WRAPPER and cmd and os.path.realpath(cmd[0]) in (os.path.realpath(INGEST), os.path.realpath(REPORT)):
        return WRAPPER + cmd
    return cmd


_run_unwrapped = run


def run(cmd, input=None, env=None, timeout=300):  # noqa: F811 (wraps the one above)
    return _run_unwrapped(wrap(cmd), input=input, env=env, timeout=timeout * (20 if WRAPPED else 1))


def sanitized():
    """True when the programs are built with AddressSanitizer (scripts/test --sanitize)."""
    with open(INGEST, "rb") as f:
        return b"__asan_init" in f.read()


GNU_TIME = "/usr/bin/time"


def run_measured(cmd, env=None, timeout=300):
    """Runs cmd and returns (CompletedProcess, peak RSS of cmd in KiB).

    The peak comes from GNU time (package "time"), which forks the command
    itself: a child forked or vforked by this Python process inherits its
    memory high-water mark (Linux carries it over exec), so os.wait4 here
    would report Python's size, not the program's."""
    if not os.access(GNU_TIME, os.X_OK):
        raise AssertionError("%s is missing: scripts/install-deps --test installs it" % GNU_TIME)
    with tempfile.NamedTemporaryFile(prefix="dmarcsift-rss-") as rss:
        proc = run([GNU_TIME, "-q", "-f", "%M", "-o", rss.name] + wrap(cmd), env=env, timeout=timeout)
        proc.args = cmd
        with open(rss.name) as f:
            lines = f.read().split()
    return proc, int(lines[-1]) if lines else -1
