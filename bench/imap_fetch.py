#!/usr/bin/env python3
"""How fast dmarc-ingest drains an IMAP mailbox (not a test).

Starts the test fixture's dovecot on loopback (tests/imap/fixture; needs
root and dovecot-imapd), seeds its inbox with N small report messages
(default 2,000, one gzipped report of a few records each), and times a
full `dmarc-ingest` run over IMAPS into a fresh database: connect, verify,
fetch in batches, import, commit, move.  Repeated --runs times (default
5), with the inbox seeded again each time; prints the median in
messages/s, and beside it, as the baseline measured in the same run, the
median of importing the very same messages from a local maildir, so that
the cost of IMAP shows as a ratio (absolute figures do not carry over
between machines).

    bench/imap_fetch.py [--build DIR] [--messages N] [--runs N] [--batch N]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "imap", "fixture"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import dmarctest as dt  # noqa: E402
from dovecot_fixture import Dovecot, skip_reason  # noqa: E402


def messages(n):
    out = []
    for i in range(n):
        recs = [dt.record(ip="203.0.113.%d" % (j + 1), count=j + 1)
                for j in range(3)]
        xml = dt.report_xml(org="Bench Receiver", report_id="bench-%05d" % i,
                            records=recs)
        raw = dt.message([("bench.xml.gz", "application/gzip", dt.gz(xml))],
                         subject="Report Domain: example.com #%d" % i)
        out.append(raw.replace(b"<test@receiver.example>",
                               b"<bench-%05d@receiver.example>" % i))
    return out


def seed(d, raws):
    """Writes the messages straight into the inbox maildir (doveadm save
    costs ~50 ms a message)."""
    for sub in ("", "cur", "new", "tmp"):
        p = os.path.join(d.maildir, sub)
        os.makedirs(p, exist_ok=True)
        os.chown(p, d.mail_uid, d.mail_gid)
    stamp = time.time_ns()
    for i, raw in enumerate(raws):
        name = "%d.M%dP%d.bench" % (stamp, i, os.getpid())
        tmp = os.path.join(d.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(raw)
        os.chown(tmp, d.mail_uid, d.mail_gid)
        os.rename(tmp, os.path.join(d.maildir, "new", name))


def timed(argv):
    t0 = time.perf_counter()
    res = subprocess.run(argv, capture_output=True)
    took = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit("%s failed (exit %d):\n%s" % (" ".join(argv), res.returncode,
                                                res.stderr.decode()))
    return took, res.stderr.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get(
        "DMARCSIFT_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=50)
    a = ap.parse_args()
    ingest = os.path.join(a.build, "dmarc-ingest")
    if not os.access(ingest, os.X_OK):
        sys.exit("no %s: build first (or give --build)" % ingest)
    reason = skip_reason()
    if reason:
        sys.exit("cannot run dovecot: " + reason)

    raws = messages(a.messages)
    tmp = tempfile.mkdtemp(prefix="dmarcsift-bench-imap-")
    imap_times, local_times = [], []
    try:
        with Dovecot(tmp) as d:
            conf = os.path.join(tmp, "bench.conf")
            with open(conf, "w") as f:
                f.write("[imap]\nhost = %s\nport = %d\nuser = %s\n"
                        "password = %s\nca_file = %s\nbatch = %d\n"
                        % (d.host, d.imaps_port, d.user, d.password,
                           d.ca_file, a.batch))
            os.chmod(conf, 0o600)
            local = os.path.join(tmp, "local-maildir")
            for run in range(a.runs):
                d.doveadm("mailbox", "delete", "-u", d.user, "-s",
                          "DMARC.Processed", check=False)
                seed(d, raws)
                db = os.path.join(tmp, "imap-%d.db" % run)
                took, err = timed([ingest, "--config", conf, "--db", db,
                                   "-v"])
                if ("fetched %d, reports stored %d" % (a.messages, a.messages)
                        not in err):
                    sys.exit("unexpected run:\n" + err[-2000:])
                imap_times.append(took)

                # the baseline: the same messages from a local maildir
                shutil.rmtree(local, ignore_errors=True)
                os.makedirs(os.path.join(local, "cur"))
                os.makedirs(os.path.join(local, "new"))
                for sub in ("new", "cur"):
                    src = os.path.join(d.maildir, ".DMARC.Processed", sub)
                    for name in os.listdir(src):
                        shutil.copy(os.path.join(src, name),
                                    os.path.join(local, "new"))
                db = os.path.join(tmp, "local-%d.db" % run)
                took, err = timed([ingest, "--db", db, "-v", local])
                if ("inputs %d, reports stored %d" % (a.messages, a.messages)
                        not in err):
                    sys.exit("unexpected local run:\n" + err[-2000:])
                local_times.append(took)
                print("run %d: IMAP %.2f s, local maildir %.2f s"
                      % (run + 1, imap_times[-1], local_times[-1]),
                      file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    imap = a.messages / statistics.median(imap_times)
    base = a.messages / statistics.median(local_times)
    print("imap-fetch: %d messages over IMAPS (batch %d), median of %d: "
          "%.0f messages/s; the same from a local maildir: %.0f messages/s "
          "(IMAP at %.2fx)" % (a.messages, a.batch, a.runs, imap, base,
                               imap / base))


if __name__ == "__main__":
    main()
