"""The traffic rollup (store/migrations.c step 2): the daily summary that
dmarc-report's sources, ses and policy read instead of every record.  It
must always equal what the records say, however the records arrived."""
import subprocess

from dmarctest import EX_OK, EXAMPLES, Case, gz, record, report_xml, utc

ROLLUP = ("SELECT day, domain, adkim, aspf, source_ip, header_from, envelope_from, dkim, spf, records, "
          "messages, dkim_aligned, spf_aligned, dmarc_pass, quarantined, rejected FROM traffic ORDER BY 1, 2, 3, "
          "4, 5, 6, 7, 8, 9")

# The rollup recomputed from the records, the slow way.
FROM_RECORDS = """
SELECT rp.begin_ts / 86400, rp.domain, ifnull(rp.adkim, ''), ifnull(rp.aspf, ''), ifnull(r.source_ip, ''),
       ifnull(r.header_from, ''), ifnull(r.envelope_from, ''),
       ifnull((SELECT group_concat(x, char(30)) FROM (SELECT ifnull(domain, '') || char(31) ||
               ifnull(selector, '') || char(31) || ifnull(result, '') AS x FROM dkim_results
               WHERE record = r.id ORDER BY idx)), '') AS dk,
       ifnull((SELECT group_concat(x, char(30)) FROM (SELECT ifnull(domain, '') || char(31) ||
               ifnull(scope, '') || char(31) || ifnull(result, '') AS x FROM spf_results
               WHERE record = r.id ORDER BY idx)), '') AS sp,
       count(*), sum(r.count),
       sum(iif(r.dkim = 'pass', r.count, 0)), sum(iif(r.spf = 'pass', r.count, 0)),
       sum(iif(r.dkim = 'pass' OR r.spf = 'pass', r.count, 0)),
       sum(iif(r.disposition = 'quarantine', r.count, 0)), sum(iif(r.disposition = 'reject', r.count, 0))
FROM reports rp JOIN records r ON r.report = rp.id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""

# 35,000 groups: more than the 3 MB of sums in memory hold (store/traffic.h),
# so they are written out several times during the report; keys seen again
# after a write-out add up in the table.
BIG_RECORDS, BIG_DISTINCT = 50000, 35000


def big_report():
    """A gzipped report of BIG_RECORDS records in BIG_DISTINCT groups."""
    recs = []
    for i in range(BIG_RECORDS):
        k = i % BIG_DISTINCT
        ip = "10.%d.%d.%d" % (k >> 16, (k >> 8) & 255, k & 255) if k % 3 else "2001:db8::%x" % k
        recs.append(record(ip=ip, count=i % 5 + 1, dkim="fail" if k % 7 == 0 else "pass",
                           disposition="reject" if k % 11 == 0 else "none",
                           header_from="example.com" if k % 2 else "shop.example.com",
                           dkim_results=(("example.com", "s%d" % (k % 13), "pass"),)))
    return gz(report_xml(report_id="big", records=recs))


class Traffic(Case):
    def test_equals_the_records(self):
        self.assertExit(self.ingest(EXAMPLES), EX_OK)
        rows = self.sql(ROLLUP)
        self.assertGreater(len(rows), 10)
        self.assertEqual(rows, self.sql(FROM_RECORDS))
        # the same source reported by several receivers is one row a day
        self.assertLess(len(rows), self.count("records"))

    def test_records_before_header_land_on_the_same_rows(self):
        recs = [record(ip="192.0.2.%d" % i, count=i, dkim="fail" if i % 2 else "pass",
                       disposition="quarantine" if i == 3 else "none",
                       dkim_results=(("example.com", "s%d" % i, "pass"), ("amazonses.com", "tok", "pass")),
                       spf_results=(("amazonses.com", "mfrom", "pass"),) if i % 3 else ())
                for i in range(1, 6)]
        normal = report_xml(report_id="n1", records=recs)
        # the same records, before report_metadata and policy_published
        body = "".join(recs)
        head_end = normal.index(b"<record>")
        late = (b'<?xml version="1.0"?>\n<feedback>' + body.encode() + normal[normal.index(b"<report_metadata>"):head_end]
                + b"</feedback>\n").replace(b"<report_id>n1</report_id>", b"<report_id>n2</report_id>")
        self.assertExit(self.ingest(self.write("a.xml", normal)), EX_OK)
        first = self.sql(ROLLUP)
        self.assertExit(self.ingest(self.write("b.xml.gz", gz(late))), EX_OK)
        # every row now counts the same records twice
        self.assertEqual(self.sql(ROLLUP), [r[:9] + tuple(2 * v for v in r[9:]) for r in first])
        self.assertEqual(self.sql(ROLLUP), self.sql(FROM_RECORDS))

    def test_a_report_larger_than_the_sums_in_memory(self):
        path = self.write("big.xml.gz", big_report())
        self.assertExit(self.ingest(path), EX_OK)
        rows = self.sql(ROLLUP)
        self.assertEqual(len(rows), BIG_DISTINCT)
        self.assertEqual(sum(r[9] for r in rows), BIG_RECORDS)
        self.assertEqual(rows, self.sql(FROM_RECORDS))

    def test_rejected_and_duplicate_reports_leave_no_trace(self):
        self.assertExit(self.ingest(self.write("a.xml", report_xml(records=[record(count=5)]))), EX_OK)
        before = self.sql(ROLLUP)
        self.ingest(self.write("dup.xml", report_xml(records=[record(count=5)])))
        self.ingest(self.write("other.xml", report_xml(records=[record(count=99)])))  # same key
        truncated = report_xml(report_id="t", records=[record(count=7)] * 3)
        self.ingest(self.write("t.xml", truncated[:-40]))
        self.assertEqual(self.sql(ROLLUP), before)

    def test_days_and_domains(self):
        d1, d2 = utc(2026, 11, 23), utc(2026, 11, 24)
        self.ingest(self.write("a.xml", report_xml(report_id="a", begin=d1, end=d1 + 86399,
                                                   records=[record(count=2)])))
        self.ingest(self.write("b.xml", report_xml(report_id="b", begin=d2, end=d2 + 86399,
                                                   records=[record(count=3)])))
        self.ingest(self.write("c.xml", report_xml(report_id="c", begin=d2, end=d2 + 86399, domain="example.net",
                                                   records=[record(count=4)])))
        self.assertEqual(self.sql("SELECT day * 86400, domain, messages FROM traffic ORDER BY 1, 2"),
                         [(d1, "example.com", 2), (d2, "example.com", 3), (d2, "example.net", 4)])

    def test_migration_from_schema_1_fills_it(self):
        self.assertExit(self.ingest(EXAMPLES), EX_OK)
        expected = self.sql(ROLLUP)
        subprocess.run(["sqlite3", self.db, "DROP TABLE traffic; PRAGMA user_version = 1;"], check=True)
        # the next run migrates, and has nothing new to add
        proc = self.ingest("-v", EXAMPLES)
        self.assertExit(proc, EX_OK)
        self.assertEqual(self.sql("PRAGMA user_version"), [(4,)])
        self.assertEqual(self.sql(ROLLUP), expected)
