"""Retention: `dmarc-report prune` and [store] keep.  After a prune every
summary must be what it would be had the pruned reports never been stored,
the traffic rollup must equal the records, and the file must shrink."""
import csv
import fcntl
import io
import json
import os
import time

import test_traffic as traffic
from dmarctest import EX_OK, EX_TEMPFAIL, EX_USAGE, EXAMPLES, Case, gz, record, report_xml
from rfcsamples import failure_message, tls_report

DAY = 86400
TODAY = int(time.time()) // DAY * DAY
SUMMARIES = (("sources",), ("ses",), ("policy",), ("records",), ("reports",), ("tls",), ("failures",))


def ses_records(n, seed):
    """Records in the shapes the summaries care about: SES traffic
    failing DKIM alignment, your own aligned mail, a quarantined spoof."""
    out = []
    for i in range(n):
        k = (i + seed) % 3
        if k == 0:
            out.append(record(ip="54.240.%d.%d" % (seed % 200, i % 250), count=i + 1, dkim="fail", spf="fail",
                              envelope_from="amazonses.com",
                              dkim_results=(("amazonses.com", "tok%d" % i, "pass"),),
                              spf_results=(("us-east-1.amazonses.com", "mfrom", "pass"),)))
        elif k == 1:
            out.append(record(ip="192.0.2.%d" % (i % 250), count=2 * i + 1))
        else:
            out.append(record(ip="203.0.113.%d" % (i % 250), count=3, disposition="quarantine", dkim="fail",
                              spf="fail", dkim_results=(), spf_results=(("spoof.example", "mfrom", "fail"),)))
    return out


class Prune(Case):
    def make(self):
        """old/ (500 and 450 days ago) and new/ (10 and 2 days ago), for two
        domains, with TLS and failure reports of both ages."""
        for age, tag in ((500, "old"), (450, "old"), (10, "new"), (2, "new")):
            begin = TODAY - age * DAY + 3600
            for dom in ("example.com", "example.net"):
                xml = report_xml(report_id="%s-%d-%s" % (tag, age, dom), domain=dom, begin=begin,
                                 end=begin + DAY - 1, records=ses_records(40 if tag == "new" else 400, age))
                self.write("%s/%d-%s.xml.gz" % (tag, age, dom), gz(xml))
            day = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(begin))
            self.write("%s/%d.json" % (tag, age), tls_report(report_id="tls-%d" % age, start=day, end=day))
            arrival = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(begin))
            msg = failure_message(source_ip="192.0.2.%d" % (age % 250)).replace(
                b"Thu, 8 Mar 2005 14:00:00 -0500", arrival.encode())
            self.write("%s/%d.eml" % (tag, age), msg)

    def summaries(self, db):
        out = {}
        for args in SUMMARIES:
            proc = self.report(*args, "--format", "json", db=db)
            self.assertExit(proc, EX_OK)
            out[args] = json.loads(proc.stdout)
        return out

    def test_summaries_agree_with_records_after_prune(self):
        self.make()
        self.assertExit(self.ingest(self.path("old"), self.path("new"), EXAMPLES), EX_OK)
        fresh = self.path("fresh.db")
        self.assertExit(self.ingest(self.path("new"), EXAMPLES, db=fresh), EX_OK)
        before = {t: self.count(t) for t in ("reports", "records", "traffic", "raw_payloads", "tls_reports",
                                             "failure_reports", "dkim_results")}

        dry = self.report("prune", "--older-than", "400d", "--dry-run", "--format", "json")
        self.assertExit(dry, EX_OK)
        (d,) = json.loads(dry.stdout)
        self.assertEqual((d["dry_run"], d["reports"], d["records"], d["tls_reports"], d["failure_reports"],
                          d["payloads"]), (True, 4, 1600, 2, 2, 6))
        self.assertEqual(d["messages"], self.sql("SELECT sum(count) FROM records r JOIN reports p ON "
                                                 "p.id = r.report WHERE p.report_id LIKE 'old-%'")[0][0])
        self.assertEqual({t: self.count(t) for t in before}, before, "a dry run changes nothing")

        size = os.path.getsize(self.db)
        proc = self.report("prune", "--older-than", "400d")
        self.assertExit(proc, EX_OK)
        out = proc.stdout.decode()
        self.assertIn("Removed reports that began before", out)
        self.assertIn("4 aggregate reports (1600 records", out)
        # nothing old is left, nothing new went
        self.assertEqual(self.sql("SELECT count(*) FROM reports WHERE report_id LIKE 'old-%'")[0][0], 0)
        self.assertEqual(self.count("reports"), self.count("reports", db=fresh))
        self.assertEqual(self.count("records"), self.count("records", db=fresh))
        self.assertEqual(self.count("tls_reports"), 2)
        self.assertEqual(self.count("failure_reports"), 2)
        for t in ("dkim_results", "spf_results", "tls_policies", "tls_failures"):
            self.assertEqual(self.count(t), self.count(t, db=fresh), t)
        # the rollup equals the records, and every summary is the one of a
        # database that never held the old reports
        self.assertEqual(self.sql(traffic.ROLLUP), self.sql(traffic.FROM_RECORDS))
        self.assertEqual(self.sql(traffic.ROLLUP), self.sql(traffic.ROLLUP, db=fresh))
        self.assertEqual(self.summaries(self.db), self.summaries(fresh))
        # no payload is left that no report uses
        self.assertEqual(self.sql("SELECT count(*) FROM raw_payloads WHERE id NOT IN (SELECT raw_payload FROM "
                                  "reports WHERE raw_payload IS NOT NULL) AND id NOT IN (SELECT raw_payload "
                                  "FROM tls_reports WHERE raw_payload IS NOT NULL)")[0][0], 0)
        self.assertEqual(self.count("raw_payloads"), self.count("raw_payloads", db=fresh))
        self.assertEqual(self.sql("SELECT count(*) FROM ingest_log WHERE report IS NOT NULL AND report NOT IN "
                                  "(SELECT id FROM reports)")[0][0], 0)
        # the file gave the space back
        self.assertLess(os.path.getsize(self.db), size)
        self.assertEqual(self.sql("PRAGMA auto_vacuum")[0][0], 2)
        # a second prune finds nothing
        again = self.report("prune", "--older-than", "400d", "--format", "csv")
        row, = csv.DictReader(io.StringIO(again.stdout.decode()))
        self.assertEqual((row["reports"], row["tls_reports"], row["failure_reports"]), ("0", "0", "0"))

    def test_domain_and_before(self):
        self.make()
        self.assertExit(self.ingest(self.path("old"), self.path("new")), EX_OK)
        cut = time.strftime("%Y-%m-%d", time.gmtime(TODAY - 5 * DAY))
        proc = self.report("prune", "--before", cut, "--domain", "example.net", "--format", "json")
        self.assertExit(proc, EX_OK)
        (r,) = json.loads(proc.stdout)
        # example.net's reports from 500, 450 and 10 days ago; the TLS
        # reports are for company-y.example, the failure reports (by their
        # Reported-Domain) for example.net
        self.assertEqual((r["reports"], r["tls_reports"], r["failure_reports"]), (3, 0, 3))
        self.assertEqual(sorted(x[0] for x in self.sql("SELECT report_id FROM reports")),
                         ["new-10-example.com", "new-2-example.com", "new-2-example.net", "old-450-example.com",
                          "old-500-example.com"])
        self.assertEqual(self.sql(traffic.ROLLUP), self.sql(traffic.FROM_RECORDS))
        self.assertEqual(self.count("failure_reports"), 1)
        proc = self.report("prune", "--before", cut, "--domain", "example.net", "--format", "json")
        self.assertEqual(json.loads(proc.stdout)[0]["reports"], 0)
        proc = self.report("prune", "--before", cut, "--domain", "company-y.example", "--format", "json")
        self.assertEqual(json.loads(proc.stdout)[0]["tls_reports"], 3)

    def test_part_of_a_day(self):
        # two reports on the same day and domain, one pruned by the cutoff's
        # day: the rollup row they shared is recomputed from the other
        base = TODAY - 30 * DAY
        a = report_xml(report_id="a", begin=base - 600, end=base + DAY, records=ses_records(9, 1))
        b = report_xml(report_id="b", begin=base + 60, end=base + DAY, records=ses_records(9, 1))
        self.assertExit(self.ingest(self.write("a.xml", a), self.write("b.xml", b)), EX_OK)
        cut = time.strftime("%Y-%m-%d", time.gmtime(base))
        self.assertExit(self.report("prune", "--before", cut), EX_OK)
        self.assertEqual([x[0] for x in self.sql("SELECT report_id FROM reports")], ["b"])
        self.assertEqual(self.sql(traffic.ROLLUP), self.sql(traffic.FROM_RECORDS))

    def test_usage_and_lock(self):
        self.assertExit(self.ingest(self.write("a.xml", report_xml())), EX_OK)
        for args in (("prune",), ("prune", "--older-than", "400"), ("prune", "--before", "400d"),
                     ("prune", "--older-than", "400d", "--since", "2020-01-01"),
                     ("sources", "--dry-run")):
            proc = self.report(*args)
            self.assertExit(proc, EX_USAGE)
        with open(self.db + ".lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            proc = self.report("prune", "--older-than", "1d")
            self.assertExit(proc, EX_TEMPFAIL)
            self.assertIn("try again later", proc.stderr.decode())
        self.assertEqual(self.count("reports"), 1)

    def test_store_keep_prunes_after_the_ingest(self):
        self.make()
        self.assertExit(self.ingest(self.path("old")), EX_OK)
        self.assertEqual(self.count("reports"), 4)
        cfg = self.write("config", "[store]\nkeep = 400d\n")
        os.chmod(cfg, 0o600)
        proc = self.ingest("--config", cfg, self.path("new"))
        self.assertExit(proc, EX_OK)
        self.assertEqual(proc.stderr, b"")  # quiet under cron
        self.assertEqual(sorted(x[0] for x in self.sql("SELECT report_id FROM reports")),
                         ["new-10-example.com", "new-10-example.net", "new-2-example.com", "new-2-example.net"])
        self.assertEqual((self.count("tls_reports"), self.count("failure_reports")), (2, 2))
        self.assertEqual(self.sql(traffic.ROLLUP), self.sql(traffic.FROM_RECORDS))
        bad = self.write("bad", "[store]\nkeep = forever\n")
        proc = self.ingest("--config", bad, self.path("new"))
        self.assertNotEqual(proc.returncode, EX_OK)
        self.assertIn("'forever' is not a number of days", proc.stderr.decode())
