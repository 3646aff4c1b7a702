"""The shared corpus of real reports: every file must import to exactly the
numbers in ../shared/corpus/expected.tsv (read at run time, never copied).
The SMTP TLS and DMARC failure reports that expected.tsv marks `reject` (as
*aggregate* reports) take their outcome from other-reports.tsv instead.

One test per corpus row, each into a fresh database, plus whole-corpus runs
into a single database (duplicates across files, re-import).
"""
import csv
import datetime
import io
import os
import re
import unittest

from dmarctest import CORPUS, EX_DATAERR, EX_OK, Case

EXPECTED = os.path.join(CORPUS, "expected.tsv")
OTHER = os.path.join(CORPUS, "other-reports.tsv")
FILES = os.path.join(CORPUS, "files")


def load_expected():
    if not os.path.exists(EXPECTED):
        return []
    rows = []
    with open(EXPECTED, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            fields = line.rstrip("\n").split("\t")
            rows.append(dict(zip(header, fields)))
    return rows


def load_other():
    """other-reports.tsv by path: kind tlsrpt, failure or failure-or-reject."""
    if not os.path.exists(OTHER):
        return {}
    with open(OTHER, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]
    return {r["path"]: r for r in rows}


def rfc3339(s):
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp())


def stamp(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unescape(s):
    return s.replace("\\t", "\t").replace('\\"', '"').replace("\\\\", "\\")


# What a rejection message must say, by the corpus's note on the file.
REASONS = [
    ("ARF", "failure"),
    ("SMTP TLS", "TLS report"),
    ("empty file", "empty"),
    ("root element", "is not <feedback>"),
    ("multipart/report without", "without an aggregate report"),
]


class CorpusFile(Case):
    """Filled with one test method per row of expected.tsv below."""

    def listing(self):
        proc = self.report("reports", "--format", "csv")
        self.assertExit(proc, EX_OK)
        return list(csv.DictReader(io.StringIO(proc.stdout.decode("utf-8"))))

    def check_stored(self, row):
        path = os.path.join(FILES, row["path"])
        proc = self.ingest("-v", path)
        self.assertExit(proc, EX_OK)
        listed = [r for r in self.listing() if r["report_id"] == unescape(row["report_id"])]
        self.assertEqual(len(listed), 1, "report %s not listed once" % row["report_id"])
        got = listed[0]
        if row["org_name"]:
            self.assertEqual(got["org_name"], unescape(row["org_name"]))
        else:
            self.assertNotEqual(got["org_name"], "", "org_name must be derived")
        self.assertEqual(got["domain"], row["domain"])
        self.assertEqual(got["begin"], stamp(row["begin"]))
        self.assertEqual(got["end"], stamp(row["end"]))
        self.assertEqual(int(got["records"]), int(row["records"]))
        self.assertEqual(int(got["messages"]), int(row["messages"]))
        # the listing's totals are the rows actually stored
        (rid, salvaged, nrec, nmsg), = self.sql(
            "SELECT id, salvaged, record_count, message_count FROM reports WHERE report_id = ?",
            unescape(row["report_id"]))
        stored = self.sql("SELECT count(*), coalesce(sum(count), 0) FROM records WHERE report = ?", rid)[0]
        self.assertEqual(stored, (nrec, nmsg))
        self.assertEqual(salvaged, 1 if row["expect"] == "salvage" else 0)
        if row["expect"] == "salvage":
            self.assertIn("salvaged", proc.stderr.decode())
        # the raw bytes are kept
        self.assertEqual(self.sql("SELECT count(*) FROM reports r JOIN raw_payloads p "
                                  "ON p.id = r.raw_payload WHERE r.id = ? AND p.size > 0", rid)[0][0], 1)

    def check_rejected(self, row):
        path = os.path.join(FILES, row["path"])
        proc = self.ingest(path)
        self.assertExit(proc, EX_DATAERR)
        err = proc.stderr.decode()
        self.assertIn("rejected: ", err)
        self.assertIn(os.path.basename(path), err)
        for note, words in REASONS:
            if note in row["notes"]:
                self.assertIn(words, err)
        self.assertEqual(self.count("reports"), 0)
        self.assertEqual(self.count("records"), 0)
        self.assertEqual(self.sql("SELECT count(*) FROM ingest_log WHERE outcome = 'rejected'")[0][0], 1)


    def check_tlsrpt(self, other):
        proc = self.ingest("-v", os.path.join(FILES, other["path"]))
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.count("reports"), 0)  # not an aggregate report
        (tid, begin, end, raw), = self.sql(
            "SELECT id, begin_ts, end_ts, raw_payload FROM tls_reports WHERE organization = ? AND report_id = ?",
            other["org_or_reporter"], other["report_id"])
        self.assertEqual((begin, end), (rfc3339(other["begin"]), rfc3339(other["end"])))
        domains, ok, failed = self.sql("SELECT group_concat(DISTINCT policy_domain), sum(successful), sum(failed) "
                                       "FROM tls_policies WHERE report = ?", tid)[0]
        self.assertEqual(domains, other["policy_domain"])
        self.assertEqual((ok, failed), (int(other["sessions_ok"]), int(other["sessions_failed"])))
        details = self.sql("SELECT count(*) FROM tls_failures f JOIN tls_policies p ON f.policy = p.id "
                           "WHERE p.report = ?", tid)[0][0]
        self.assertEqual(details, int(other["failure_details"]))
        self.assertEqual(self.sql("SELECT count(*) FROM raw_payloads WHERE id = ? AND size > 0", raw)[0][0], 1)
        # and `dmarc-report tls` shows the same sessions
        out = self.report("tls", "--format", "csv")
        self.assertExit(out, EX_OK)
        days = {}
        for r in csv.DictReader(io.StringIO(out.stdout.decode("utf-8"))):
            days[(r["domain"], r["day"])] = (int(r["successful"]), int(r["failed"]))
        self.assertEqual(sum(v[0] for v in days.values()), int(other["sessions_ok"]))
        self.assertEqual(sum(v[1] for v in days.values()), int(other["sessions_failed"]))

    def check_failure(self, other):
        proc = self.ingest("-v", os.path.join(FILES, other["path"]))
        if other["kind"] == "failure-or-reject" and proc.returncode == EX_DATAERR:
            self.assertIn("rejected", proc.stderr.decode())
            self.assertEqual(self.count("failure_reports"), 0)
            return
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.count("reports"), 0)
        rows = self.sql("SELECT reported_domain, source_ip, auth_failure, arrival_date, original_body "
                        "FROM failure_reports")
        self.assertEqual(len(rows), 1)
        domain, ip, auth, arrival, body = rows[0]
        self.assertEqual(domain or "", other["policy_domain"])
        self.assertEqual(ip or "", other["source_ip"])
        self.assertEqual(auth or "", other["auth_failure"])
        self.assertEqual(arrival or "", other["arrival_date"])
        self.assertIsNone(body)  # the original's body is not kept by default
        out = self.report("failures", "--format", "csv")
        listed = list(csv.DictReader(io.StringIO(out.stdout.decode("utf-8"))))
        self.assertEqual([(r["reported_domain"], r["source_ip"]) for r in listed],
                         [(other["policy_domain"], other["source_ip"])])


def _make(row):
    def test(self):
        other = OTHER_ROWS.get(row["path"])
        if row["expect"] == "reject" and other is not None:
            if other["kind"] == "tlsrpt":
                self.check_tlsrpt(other)
            else:
                self.check_failure(other)
        elif row["expect"] in ("store", "salvage"):
            self.check_stored(row)
        elif row["expect"] == "reject":
            self.check_rejected(row)
        else:  # either: no crash
            proc = self.ingest(os.path.join(FILES, row["path"]))
            self.assertIn(proc.returncode, (EX_OK, EX_DATAERR))
    return test


ROWS = load_expected()
OTHER_ROWS = load_other()
for _i, _row in enumerate(ROWS):
    _name = "test_%02d_%s" % (_i + 2, "".join(c if c.isalnum() else "_" for c in os.path.basename(_row["path"]))[:60])
    setattr(CorpusFile, _name, _make(_row))


class WholeCorpus(Case):
    def setUp(self):
        super().setUp()
        if not ROWS:
            self.skipTest("no corpus at %s" % CORPUS)

    def test_one_database_and_reimport(self):
        first = self.ingest(FILES)
        self.assertExit(first, EX_DATAERR)  # the corpus has rejects
        # the TLS and failure reports are stored as what they are
        tls = [o for o in OTHER_ROWS.values() if o["kind"] == "tlsrpt"]
        self.assertEqual(self.count("tls_reports"), len(tls))
        failures = {(o["policy_domain"], o["source_ip"], o["arrival_date"])
                    for o in OTHER_ROWS.values() if o["kind"] == "failure"}
        self.assertEqual(set(self.sql("SELECT reported_domain, source_ip, arrival_date FROM failure_reports")),
                         failures)
        proc = self.report("reports", "--format", "csv")
        listed = list(csv.DictReader(io.StringIO(proc.stdout.decode("utf-8"))))
        by_key = {}
        for r in listed:
            by_key.setdefault((r["report_id"], r["domain"], r["begin"], r["end"]), []).append(r)
        keys = {}
        for row in ROWS:
            if row["expect"] in ("store", "salvage"):
                key = (unescape(row["report_id"]), row["domain"], stamp(row["begin"]), stamp(row["end"]))
                keys.setdefault(key, set()).add((row["records"], row["messages"]))
        for key, numbers in keys.items():
            self.assertIn(key, by_key, "report %s missing from the listing" % (key,))
            if len(numbers) == 1:
                # every file with this key holds the same report
                (records, messages), = numbers
                self.assertTrue(any(int(r["records"]) == int(records) and
                                    int(r["messages"]) == int(messages) for r in by_key[key]), key)
        self.assertEqual(self.count("reports"), len(listed))
        # reports that share a key with different content were warned about
        self.assertIn("different records", first.stderr.decode())

        before = self.count("reports")
        second = self.ingest("-v", FILES)
        self.assertExit(second, EX_DATAERR)
        self.assertEqual(self.count("reports"), before)
        out = second.stderr.decode()
        self.assertNotIn("\nstored ", "\n" + out)
        self.assertIn("duplicate ", out)
        # rejected: the reject rows but the TLS and failure reports (a
        # failure-or-reject file may go either way)
        rejects = sum(1 for r in ROWS if r["expect"] == "reject")
        sure = sum(1 for o in OTHER_ROWS.values() if o["kind"] in ("tlsrpt", "failure"))
        maybe = sum(1 for o in OTHER_ROWS.values() if o["kind"] == "failure-or-reject")
        m = re.search(r"reports stored 0 \(salvaged 0\), duplicates \d+, rejected (\d+)", out)
        self.assertIsNotNone(m, out[-500:])
        self.assertTrue(rejects - sure - maybe <= int(m.group(1)) <= rejects - sure, m.group(0))


if not ROWS:
    class NoCorpus(unittest.TestCase):
        def test_corpus_present(self):
            self.skipTest("the shared corpus is not at %s: corpus tests skipped" % CORPUS)


if __name__ == "__main__":
    unittest.main()
