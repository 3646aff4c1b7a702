"""A record's DKIM and SPF results as arrays in its row of records on
PostgreSQL (store/pg-schema.c, step 4: auth_dkim, auth_spf, a row of the
array per result), dkim_results and spf_results the views that list them:

- values the array syntax gives a meaning to (quotes, backslashes, commas,
  braces, the word NULL) and values COPY escapes stay what the report
  says, in the report's order, missing ones NULL, on both write paths (a
  small report through staging, a big one COPYed straight into the
  tables): the rows SQLite stores, and what dmarc-report prints;
- step 4 moves the results of a store written before it into the arrays:
  the views then list exactly the rows its tables held, and dmarc-report
  prints what it printed.
"""
import unittest

from dmarctest import EX_OK, gz, report_xml
from test_postgres import PgCase

# each is a selector or a scope somewhere
TRICKY = ('quote"d', "back\\slash", "comma,brace{}", "NULL", "tab\tinside", "line\nbreak", "\\N",
          '""', "{}", "plain")


def result(tag, domain, key, value, res, human=None):
    """One <dkim> or <spf>: key "selector" or "scope"; None leaves the
    element out."""
    out = ["<%s><domain>%s</domain>" % (tag, domain)]
    if value is not None:
        out.append("<%s>%s</%s>" % (key, value.replace("&", "&amp;").replace("<", "&lt;"), key))
    out.append("<result>%s</result>" % res)
    if human is not None:
        out.append("<human_result>%s</human_result>" % human)
    out.append("</%s>" % tag)
    return "".join(out)


def tricky_record(i):
    """Record i: none to three DKIM results and one or two SPF results,
    with the values above, some missing, some with a human result."""
    dkim = [result("dkim", "d%d.example" % k, "selector", TRICKY[(i + k) % len(TRICKY)] if (i + k) % 4 else None,
                   ("pass", "fail", "none")[k], "why, \"%d\"" % k if (i + k) % 3 == 0 else None)
            for k in range(i % 4)]
    spf = [result("spf", "s%d.example" % k, "scope", TRICKY[(i * 3 + k) % len(TRICKY)] if i % 5 else None,
                  ("pass", "softfail")[k], "{%d}" % k if i % 2 else None)
           for k in range(1 + i % 2)]
    return ("<record><row><source_ip>192.0.2.%d</source_ip><count>%d</count><policy_evaluated>"
            "<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>"
            "<identifiers><header_from>example.com</header_from></identifiers><auth_results>%s%s"
            "</auth_results></record>" % (i % 250 + 1, i % 9 + 1, "".join(dkim), "".join(spf)))


def tricky_report(report_id, records):
    return report_xml(report_id=report_id, records=[tricky_record(i) for i in range(records)])


HEX = "coalesce(encode(convert_to(%s, 'UTF8'), 'hex'), 'null')"
PG_ROWS = ("SELECT rp.report_id, x.rec, x.idx, " + ", ".join(HEX % c for c in ("x.domain", "x.%s", "x.result",
                                                                              "x.human_result")) +
           " FROM %s x JOIN reports rp ON rp.id = x.report ORDER BY 1, 2, 3")
LITE_ROWS = ("SELECT rp.report_id, r.rec, x.idx, " + ", ".join(
    "CASE WHEN {0} IS NULL THEN 'null' ELSE lower(hex({0})) END".format(c)
    for c in ("x.domain", "x.{key}", "x.result", "x.human_result")) +
    " FROM {table} x JOIN (SELECT id, report, row_number() OVER (PARTITION BY report ORDER BY id) AS rec "
    "FROM records) r ON r.id = x.record JOIN reports rp ON rp.id = r.report ORDER BY 1, 2, 3")
KINDS = (("dkim_results", "selector"), ("spf_results", "scope"))
COMMANDS = (("records", "--format", "csv"), ("sources", "--format", "csv"), ("ses", "--format", "json"),
            ("reports", "--format", "csv"))


class ResultArrays(PgCase):
    def pg_rows(self, table, key):
        return self.psql(PG_ROWS % (key, table))

    def lite_rows(self, table, key):
        return [[str(v) for v in row] for row in self.sql(LITE_ROWS.format(key=key, table=table))]

    def outputs(self):
        out = {}
        for args in COMMANDS:
            res = self.pg_report(*args)
            self.assertExit(res, EX_OK)
            out[args] = res.stdout
        return out

    def test_values_array_syntax_reads_stay_as_the_report_has_them(self):
        # a small report goes through staging; past 2,000 records the
        # rest goes straight into the tables (PG_DIRECT_AFTER)
        small = self.write("small.xml", tricky_report("small", 40))
        big = self.write("big.xml.gz", gz(tricky_report("big", 6000)))
        for path in (small, big):
            self.assertExit(self.ingest(path), EX_OK)
            self.assertExit(self.pg_ingest(path), EX_OK)
        for table, key in KINDS:
            pg = self.pg_rows(table, key)
            self.assertEqual(pg, self.lite_rows(table, key), table)
            # the report's results, none lost: 0-3 DKIM, 1-2 SPF a record
            per = (lambda i: i % 4) if table == "dkim_results" else (lambda i: 1 + i % 2)
            self.assertEqual(len(pg), sum(per(i) for i in range(40)) + sum(per(i) for i in range(6000)),
                             table)
        values = {bytes.fromhex(r[4]).decode() for r in self.pg_rows("dkim_results", "selector")
                  if r[4] != "null"}
        self.assertEqual(values, set(TRICKY))
        nulls = self.sql("SELECT count(*) FROM dkim_results WHERE selector IS NULL")[0][0]
        self.assertGreater(nulls, 0)
        self.assertEqual(self.psql("SELECT count(*) FROM dkim_results WHERE selector IS NULL"), [[str(nulls)]])
        # a record without DKIM results has no array, not an empty one
        self.assertEqual(self.psql("SELECT count(*) FROM records WHERE auth_dkim IS NULL"),
                         [[str(1510)]])
        for args in COMMANDS:
            self.assertEqual(self.pg_report(*args).stdout, self.report(*args).stdout, args)

    def downgrade(self):
        """The store as schema step 3 left it: the results as rows of
        partitioned tables, the arrays not there."""
        self.psql(
            "CREATE TABLE old_dkim AS SELECT * FROM dkim_results; "
            "CREATE TABLE old_spf AS SELECT * FROM spf_results; "
            "DROP VIEW dkim_results, spf_results; "
            "CREATE TABLE dkim_results (LIKE old_dkim, PRIMARY KEY (report, rec, idx, begin_ts)) "
            "PARTITION BY RANGE (begin_ts); "
            "CREATE TABLE dkim_results_default PARTITION OF dkim_results DEFAULT; "
            "CREATE TABLE spf_results (LIKE old_spf, PRIMARY KEY (report, rec, idx, begin_ts)) "
            "PARTITION BY RANGE (begin_ts); "
            "CREATE TABLE spf_results_default PARTITION OF spf_results DEFAULT; "
            "INSERT INTO dkim_results SELECT * FROM old_dkim; "
            "INSERT INTO spf_results SELECT * FROM old_spf; "
            "ALTER TABLE records DROP COLUMN auth_dkim, DROP COLUMN auth_spf; "
            "UPDATE dmarcsift_schema SET version = 3")

    def test_step_4_moves_the_results_of_an_older_store_into_the_arrays(self):
        small = self.write("small.xml", tricky_report("small", 40))
        big = self.write("big.xml.gz", gz(tricky_report("big", 3000)))
        self.assertExit(self.pg_ingest(small, big), EX_OK)
        before = {t: self.pg_rows(t, k) for t, k in KINDS}
        printed = self.outputs()
        self.downgrade()
        self.assertEqual(self.psql("SELECT relkind FROM pg_class WHERE relname = 'dkim_results'"), [["p"]])
        self.assertEqual({t: self.pg_rows(t, k) for t, k in KINDS}, before)
        self.assertExit(self.pg_ingest("--migrate-only"), EX_OK)
        self.assertEqual(self.psql("SELECT version FROM dmarcsift_schema"), [["4"]])
        self.assertEqual(self.psql("SELECT relname, relkind FROM pg_class WHERE relname IN "
                                   "('dkim_results', 'spf_results', 'dkim_results_default') ORDER BY 1"),
                         [["dkim_results", "v"], ["spf_results", "v"]])
        self.assertEqual({t: self.pg_rows(t, k) for t, k in KINDS}, before)
        self.assertEqual(self.outputs(), printed)
        # the migrated store takes new reports as a new one does
        later = self.write("later.xml", tricky_report("later", 30))
        self.assertExit(self.pg_ingest(later), EX_OK)
        self.assertEqual(self.psql("SELECT count(*) FROM dkim_results x JOIN reports rp ON rp.id = x.report "
                                   "WHERE rp.report_id = 'later'"), [[str(sum(i % 4 for i in range(30)))]])


if __name__ == "__main__":
    unittest.main()
