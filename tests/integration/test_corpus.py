"""The shared corpus of real reports: every file must import to exactly the
numbers in ../shared/corpus/expected.tsv (read at run time, never copied).

One test per corpus row, each into a fresh database, plus whole-corpus runs
into a single database (duplicates across files, re-import).
"""
import csv
import datetime
import io
import os
import unittest

from dmarctest import CORPUS, EX_DATAERR, EX_OK, Case

EXPECTED = os.path.join(CORPUS, "expected.tsv")
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


def _make(row):
    def test(self):
        if row["expect"] in ("store", "salvage"):
            self.check_stored(row)
        elif row["expect"] == "reject":
            self.check_rejected(row)
        else:  # either: no crash
            proc = self.ingest(os.path.join(FILES, row["path"]))
            self.assertIn(proc.returncode, (EX_OK, EX_DATAERR))
    return test


ROWS = load_expected()
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
        self.assertRegex(out, r"reports stored 0 \(salvaged 0\), duplicates \d+, rejected 11")


if not ROWS:
    class NoCorpus(unittest.TestCase):
        def test_corpus_present(self):
            self.skipTest("the shared corpus is not at %s: corpus tests skipped" % CORPUS)


if __name__ == "__main__":
    unittest.main()
