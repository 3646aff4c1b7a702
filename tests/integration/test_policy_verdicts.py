"""dmarc-report policy's verdicts (issue 10, items 5-8 and 10): readiness
that counts unidentified sources, --tolerance, exit statuses 0/1/3 for cron
(ses and policy, fresh and 40-day-old data), percentages that never round to
100.0% or 0.0%, the configuration file's [store] db and [report] keys, and
sources grouped by policy domain."""
import csv
import io
import json
import os
import time

from dmarctest import EX_OK, EX_USAGE, REPORT, SOURCE, Case, record, report_xml, run

EX_CONFIG = 78
STALE = 3
RELAY = "198.51.100.25"


def now_day():
    """Midnight UTC of yesterday: a report that ended hours ago."""
    return (int(time.time()) // 86400 - 1) * 86400


def csv_rows(proc):
    return list(csv.DictReader(io.StringIO(proc.stdout.decode("utf-8"), newline="")))


def flat(proc):
    """The table's prose, unwrapped."""
    return " ".join(proc.stdout.decode("utf-8").split())


def ses_healthy(count, ip="69.169.224.5", domain="example.com"):
    """SES with a custom MAIL FROM and Easy DKIM: passes both ways."""
    return record(ip=ip, count=count, header_from=domain, envelope_from="mail." + domain,
                  dkim_results=((domain, "tok1", "pass"), ("amazonses.com", "sesselector", "pass")),
                  spf_results=(("mail." + domain, "mfrom", "pass"),))


def ses_broken(count, ip="69.169.224.5"):
    """The same SES source as ses_healthy() (same address, same MAIL FROM),
    its mail failing DMARC: a share of one source failing."""
    return record(ip=ip, count=count, dkim="fail", spf="fail", envelope_from="mail.example.com",
                  dkim_results=(("example.com", "tok1", "fail"), ("amazonses.com", "sesselector", "pass")),
                  spf_results=(("mail.example.com", "mfrom", "fail"),))


def ses_failing(count, ip="54.240.7.12"):
    """SES with the default MAIL FROM and no Easy DKIM: fails DMARC."""
    return record(ip=ip, count=count, dkim="fail", spf="fail", envelope_from="eu-west-1.amazonses.com",
                  dkim_results=(("amazonses.com", "sesselector", "pass"),),
                  spf_results=(("eu-west-1.amazonses.com", "mfrom", "pass"),))


def ses_dkim_only(count, ip="54.240.7.12"):
    """SES with the default MAIL FROM but Easy DKIM: passes DMARC through
    DKIM alone (a warning, not a failure, for ses)."""
    return record(ip=ip, count=count, dkim="pass", spf="fail", envelope_from="eu-west-1.amazonses.com",
                  dkim_results=(("example.com", "tok1", "pass"), ("amazonses.com", "sesselector", "pass")),
                  spf_results=(("eu-west-1.amazonses.com", "mfrom", "pass"),))


def unknown(ip, count, passing=False):
    """Mail from an address in no table."""
    if passing:
        return record(ip=ip, count=count)
    return record(ip=ip, count=count, dkim="fail", spf="fail", envelope_from="example.com",
                  dkim_results=(), spf_results=(("example.com", "mfrom", "fail"),))


class Verdicts(Case):
    def load(self, records, begin=None, domain="example.com", rid="r1", policy=None):
        begin = now_day() if begin is None else begin
        kw = {"policy": policy} if policy else {}
        self.write("in/%s.xml" % rid, report_xml(report_id=rid, domain=domain, begin=begin,
                                                  end=begin + 86399, records=records, **kw))
        self.assertExit(self.ingest(self.path("in/%s.xml" % rid)), EX_OK)

    def policy(self, *args, **kw):
        return csv_rows(self.report("policy", "--format", "csv", *args, **kw))

    # --- readiness -----------------------------------------------------------

    def test_unidentified_failing_relay_is_not_ready(self):
        # the operator's own Postfix relay, in no table, fails DMARC on 900
        # of the domain's 5,900 messages: it may be theirs, so not ready
        self.load([ses_healthy(5000), unknown(RELAY, 900)])
        rows = self.policy()
        self.assertEqual({r["ready"] for r in rows}, {"false"})
        self.assertEqual({r["verdict"] for r in rows}, {"not-ready"})
        reason = rows[0]["reason"]
        self.assertIn(RELAY + " (900 of 900 messages failing)", reason)
        self.assertIn("unidentified: is it yours? add it to the sources file", reason)
        self.assertIn("1 unidentified source fails", reason)
        # columns: the old ones first, in their order; the new ones appended
        header = self.report("policy", "--format", "csv").stdout.split(b"\r\n", 1)[0].decode()
        self.assertTrue(header.endswith(",quarantine_at_pct100,verdict,reason,"
                                        "source_name,source_name_confirmed"), header)
        text = flat(self.report("policy"))
        self.assertIn("Not ready to tighten", text)
        self.assertIn("unidentified: is it yours? add it to the sources file", text)
        self.assertNotIn("Ready to tighten", text)
        self.assertExit(self.report("policy", "--exit-code"), 1)
        # named in the sources file it becomes an identified source failing
        f = self.write("senders.csv", "%s,Postfix relay\n" % RELAY)
        rows = self.policy("--sources", f)
        self.assertEqual({r["verdict"] for r in rows}, {"not-ready"})
        self.assertIn("1 identified source fails DMARC beyond the 0.5% tolerance: Postfix relay "
                      "(900 of 900 messages failing)", rows[0]["reason"])
        self.assertNotIn("unidentified", rows[0]["reason"])

    def test_small_unidentified_volumes_stay_ready(self):
        # three spoofing addresses, each failing on 0.5% of the mail: what
        # enforcement is for
        self.load([ses_healthy(9850)] + [unknown("203.0.113.%d" % i, 50) for i in range(3)])
        rows = self.policy()
        self.assertEqual({(r["ready"], r["verdict"]) for r in rows}, {("true", "ready")})
        self.assertEqual(rows[0]["reason"],
                         "Ready to tighten: every identified source passes DMARC; p=quarantine "
                         "would only catch the 150 failing messages from unidentified sources.")
        self.assertExit(self.report("policy", "--exit-code"), EX_OK)

    def test_one_percent_is_the_line(self):
        # 100 of 10,000 is exactly 1%: not more than 1%, ready; 101 is not
        self.load([ses_healthy(9900), unknown("203.0.113.1", 100)])
        self.assertEqual(self.policy()[0]["verdict"], "ready")
        self.load([unknown("203.0.113.1", 1)], rid="r2")
        self.assertEqual(self.policy()[0]["verdict"], "not-ready")

    def test_no_failure_says_so(self):
        self.load([ses_healthy(1)])
        reason = self.policy()[0]["reason"]
        self.assertEqual(reason, "Ready to tighten: every identified source passes DMARC; no message "
                                 "fails DMARC.")
        self.assertNotIn(" 0 ", reason)
        text = flat(self.report("policy"))
        self.assertIn("1 message, 100.0% passing DMARC", text)  # not "1 messages"
        self.assertIn("1 report beginning on 1 day", text)

    def test_tolerance(self):
        # an identified source failing on 3 of 1,000 (0.3%): within the
        # default 0.5%, beyond --tolerance 0.2
        self.load([ses_healthy(997), ses_broken(3)])
        rows = self.policy()
        self.assertEqual(rows[0]["verdict"], "ready")
        self.assertIn("within the tolerance", rows[0]["reason"])
        self.assertIn("3 from identified sources", rows[0]["reason"])
        rows = self.policy("--tolerance", "0.2")
        self.assertEqual(rows[0]["verdict"], "not-ready")
        self.assertIn("beyond the 0.2% tolerance", rows[0]["reason"])
        self.assertEqual(self.policy("--tolerance", "0.3%")[0]["verdict"], "ready")
        self.assertEqual(self.policy("--tolerance", "0")[0]["verdict"], "not-ready")
        for bad in ("-1", "101", "abc", "0.5x", "nan", ""):
            proc = self.report("policy", "--tolerance", bad)
            self.assertExit(proc, EX_USAGE)
            self.assertIn("--tolerance", proc.stderr.decode())

    def test_identified_failing_under_enforcement_is_at_risk(self):
        self.load([ses_healthy(100), ses_failing(50)], policy="<p>quarantine</p><pct>100</pct>")
        rows = self.policy()
        self.assertEqual(rows[0]["verdict"], "not-ready")
        self.assertIn("under p=quarantine, mail that may be yours fails DMARC now", rows[0]["reason"])

    def test_table_lists_twenty_unidentified_sources(self):
        self.load([ses_healthy(100000)] + [unknown("203.0.113.%d" % i, 2) for i in range(1, 26)])
        text = self.report("policy").stdout.decode()
        shown = [l for l in text.splitlines() if l.startswith("203.0.113.")]
        self.assertEqual(len(shown), 20)
        self.assertIn("... and 5 more unidentified sources with 10 messages", text)
        self.assertEqual(len(self.policy()), 26)

    # --- honest percentages -------------------------------------------------

    def test_never_100_when_anything_failed(self):
        self.load([ses_healthy(9996), ses_broken(4)])
        text = self.report("sources").stdout.decode()
        self.assertNotIn("100.0%", text)
        self.assertRegex(text, r"Amazon SES +\S+ +1 +10000 +99\.9% +99\.9% +99\.9%")
        self.assertIn("10000 messages, 99.9% passing DMARC", flat(self.report("sources")))
        text = flat(self.report("policy"))
        self.assertIn("10000 messages, 99.9% passing DMARC", text)
        self.assertEqual(self.policy()[0]["domain_dmarc_pass_pct"], "99.9")

    def test_never_0_when_anything_passed(self):
        self.load([ses_broken(9999), ses_healthy(1)])
        self.assertIn("10000 messages, 0.1% passing DMARC", flat(self.report("sources")))
        self.assertEqual(self.policy()[0]["domain_dmarc_pass_pct"], "0.1")

    # --- exit statuses -------------------------------------------------------

    def test_exit_statuses_fresh(self):
        self.load([ses_healthy(100)])
        for cmd in ("ses", "policy"):
            with self.subTest(command=cmd):
                proc = self.report(cmd, "--exit-code")
                self.assertExit(proc, EX_OK)
                self.assertEqual(proc.stderr, b"")
        self.load([ses_failing(100)], rid="r2")
        for cmd in ("ses", "policy"):
            with self.subTest(command=cmd):
                self.assertExit(self.report(cmd, "--exit-code"), 1)
                self.assertExit(self.report(cmd, "--exit-code=warn"), 1)
                self.assertExit(self.report(cmd), EX_OK)  # no --exit-code

    def test_ses_warn_only(self):
        # SES passing DMARC through DKIM alone (default MAIL FROM): with
        # --exit-code=warn a finding; with --exit-code one only where ses
        # grades rows (issue 10 item 2: a warn row is not a fail row)
        self.load([ses_dkim_only(100)])
        self.assertEqual(csv_rows(self.report("policy", "--format", "csv"))[0]["verdict"], "ready")
        self.assertExit(self.report("policy", "--exit-code"), EX_OK)
        self.assertExit(self.report("ses", "--exit-code=warn"), 1)
        header = self.report("ses", "--format", "csv").stdout.split(b"\r\n", 1)[0].decode()
        if "severity" in header.split(","):
            rows = csv_rows(self.report("ses", "--format", "csv"))
            self.assertEqual({r["severity"] for r in rows}, {"warn"})
            self.assertExit(self.report("ses", "--exit-code"), EX_OK)

    def test_exit_code_takes_only_warn(self):
        proc = self.report("ses", "--exit-code=fail")
        self.assertExit(proc, EX_USAGE)
        self.assertIn("--exit-code", proc.stderr.decode())

    def test_exit_3_when_the_newest_report_is_old(self):
        old = now_day() - 40 * 86400
        self.load([ses_failing(100)], begin=old)
        for cmd in ("ses", "policy"):
            with self.subTest(command=cmd):
                proc = self.report(cmd, "--exit-code")
                self.assertExit(proc, STALE)
                err = proc.stderr.decode()
                self.assertIn("newest report", err)
                self.assertIn("--max-age 3 days", err)
                self.assertIn("is dmarc-ingest running?", err)
                # the findings are still shown
                self.assertNotEqual(proc.stdout, b"")
                # a longer --max-age accepts them: the findings decide
                self.assertExit(self.report(cmd, "--exit-code", "--max-age", "50"), 1)
                self.assertExit(self.report(cmd, "--exit-code", "--max-age", "50d"), 1)
                self.assertExit(self.report(cmd, "--exit-code", "--max-age", "39"), STALE)
                # without --exit-code nothing changes
                self.assertExit(self.report(cmd), EX_OK)
        for bad in ("0", "-3", "x", "36501"):
            proc = self.report("ses", "--exit-code", "--max-age", bad)
            self.assertExit(proc, EX_USAGE)
            self.assertIn("--max-age", proc.stderr.decode())

    def test_exit_3_when_the_selection_is_empty(self):
        self.load([ses_healthy(100)], begin=now_day() - 10 * 86400)
        for cmd in ("ses", "policy"):
            with self.subTest(command=cmd):
                proc = self.report(cmd, "--since", "2d", "--exit-code")
                self.assertExit(proc, STALE)
                self.assertIn("no report in the selection", proc.stderr.decode())
                # a --domain the database has no report for is a usage
                # error naming the stored ones (report/selection.c)
                proc = self.report(cmd, "--domain", "other.example", "--exit-code", "--max-age", "100")
                self.assertExit(proc, 64)

    def test_exit_3_in_an_empty_database(self):
        self.assertExit(self.ingest(self.write("x.xml", report_xml(records=[ses_healthy(1)],
                                                                   domain="a.example"))), EX_OK)
        # b.example has no report: a usage error that names a.example
        proc = self.report("policy", "--domain", "b.example", "--exit-code", "--format", "json")
        self.assertExit(proc, 64)
        self.assertIn("a.example", proc.stderr.decode())

    def test_alert_line_of_the_readme(self):
        # the README's cron line, run as written (dmarc-report and mail are
        # shell functions here): it must mail for status 1 and 3, with the
        # findings and the reason in the body, and stay quiet for 0
        readme = open(os.path.join(SOURCE, "README.md")).read()
        line = next(l for l in readme.splitlines() if l.startswith("out=$(/usr/bin/dmarc-report ses --exit-code"))
        line = line.replace("/usr/bin/dmarc-report", "dmarc-report")  # the function below
        mailed = self.path("mailed")
        prelude = ('dmarc-report() { "$REPORT" --db "$DB" "$@"; }\n'
                   'mail() { cat > "$MAILED"; }\n')

        def cron():
            if os.path.exists(mailed):
                os.unlink(mailed)
            proc = run(["bash", "-c", prelude + line],
                       env={"REPORT": REPORT, "DB": self.db, "MAILED": mailed})
            self.assertExit(proc, EX_OK)
            return open(mailed).read() if os.path.exists(mailed) else None

        self.load([ses_healthy(10)], rid="fresh")
        self.assertIsNone(cron())  # nothing to act on: no mail
        self.load([ses_failing(100)], rid="failing")
        self.assertIn("eu-west-1", cron())  # status 1: the findings
        os.unlink(self.db)
        self.load([ses_healthy(10)], begin=now_day() - 40 * 86400, rid="old")
        body = cron()  # status 3: why, on standard error, mailed too
        self.assertIn("is dmarc-ingest running?", body)

    # --- one configuration --------------------------------------------------

    def test_config_file_store_db_and_report_keys(self):
        self.load([ses_healthy(997), ses_broken(3), unknown(RELAY, 200)])
        f = self.write("senders.csv", "%s,Postfix relay\n" % RELAY)
        conf = self.write("conf/config", "[store]\ndb = %s\n\n[report]\nsources = ../senders.csv\n"
                                         "tolerance = 0.2\nmax_age = 60\n" % self.db)
        os.chmod(conf, 0o600)
        # no --db: the file's [store] db; its sources name the relay
        proc = run([REPORT, "--config", conf, "policy", "--format", "csv"])
        self.assertExit(proc, EX_OK)
        rows = csv_rows(proc)
        self.assertIn(("Postfix relay", "true"), {(r["source"], r["known_source"]) for r in rows})
        # tolerance 0.2 from the file: 3 of 1,000 is beyond it
        self.assertIn("beyond the 0.2% tolerance", rows[0]["reason"])
        # the command line wins over the file
        rows = csv_rows(run([REPORT, "--config", conf, "--tolerance", "0.5", "policy", "--format", "csv"]))
        self.assertNotIn("Amazon SES", rows[0]["reason"])
        self.assertIn("Postfix relay", rows[0]["reason"])
        # $DMARCSIFT_CONFIG finds the file as --config does
        proc = run([REPORT, "policy", "--format", "csv"], env={"DMARCSIFT_CONFIG": conf})
        self.assertExit(proc, EX_OK)
        self.assertIn("Postfix relay", proc.stdout.decode())
        # the environment wins over the file, --db over both
        other = os.path.join(self.tmp, "other.db")
        proc = run([REPORT, "--config", conf, "policy"], env={"DMARCSIFT_DB": other})
        self.assertExit(proc, 66)
        self.assertIn(other, proc.stderr.decode())
        proc = run([REPORT, "--config", conf, "--db", other, "policy"])
        self.assertIn(other, proc.stderr.decode())
        # $DMARCSIFT_SOURCES over [report] sources, --sources over both
        empty = self.write("empty.csv", "# nothing\n")
        rows = csv_rows(run([REPORT, "--config", conf, "policy", "--format", "csv"],
                            env={"DMARCSIFT_SOURCES": empty}))
        self.assertNotIn("Postfix relay", {r["source"] for r in rows})
        rows = csv_rows(run([REPORT, "--config", conf, "--sources", f, "policy", "--format", "csv"],
                            env={"DMARCSIFT_SOURCES": empty}))
        self.assertIn("Postfix relay", {r["source"] for r in rows})

    def test_config_max_age(self):
        self.load([ses_healthy(10)], begin=now_day() - 40 * 86400)
        conf = self.write("config", "[report]\nmax_age = 60\n")
        os.chmod(conf, 0o600)
        self.assertExit(self.report("policy", "--exit-code", "--config", conf), EX_OK)
        self.assertExit(self.report("policy", "--exit-code", "--config", conf, "--max-age", "3"), STALE)

    def test_config_errors_name_the_file_and_key(self):
        for text, words in (("[report]\ntolerance = 200\n", ("config:2", "[report] tolerance")),
                            ("[report]\nmax_age = soon\n", ("config:2", "[report] max_age")),
                            ("[report]\ncolour = 1\n", ("config:2", "unknown key 'colour'")),
                            ("[reports]\nsources = x\n", ("config:2", "[report]"))):
            with self.subTest(text=text):
                conf = self.write("config", text)
                os.chmod(conf, 0o600)
                proc = self.report("policy", "--config", conf)
                self.assertExit(proc, EX_CONFIG)
                for w in words:
                    self.assertIn(w, proc.stderr.decode())
        proc = self.report("policy", "--config", self.path("missing"))
        self.assertExit(proc, EX_CONFIG)
        self.assertIn("missing", proc.stderr.decode())

    def test_ingest_accepts_the_report_section(self):
        conf = self.write("config", "[report]\ntolerance = 1\nmax_age = 7\nsources = s.csv\n")
        os.chmod(conf, 0o600)
        self.write("a.xml", report_xml(records=[ses_healthy(1)]))
        self.assertExit(self.ingest("--config", conf, self.path("a.xml")), EX_OK)

    # --- several domains ----------------------------------------------------

    def test_sources_group_by_domain(self):
        self.load([ses_healthy(30), unknown(RELAY, 5)], domain="b.example", rid="b")
        self.load([ses_healthy(70, domain="a.example")], domain="a.example", rid="a")
        rows = csv_rows(self.report("sources", "--format", "csv"))
        self.assertEqual([(r["domain"], r["source"], r["messages"]) for r in rows],
                         [("a.example", "Amazon SES", "70"), ("b.example", "Amazon SES", "30"),
                          ("b.example", RELAY, "5")])
        data = json.loads(self.report("sources", "--format", "json").stdout)
        self.assertEqual([d["domain"] for d in data], ["a.example", "b.example", "b.example"])
        lines = self.report("sources").stdout.decode().splitlines()
        self.assertEqual(lines[0], "a.example:")
        self.assertTrue(lines[1].startswith("SOURCE"))
        b = lines.index("b.example:")
        self.assertEqual(lines[b - 1], "")
        self.assertIn("1 source, 70 messages, 100.0% passing DMARC.", lines)
        self.assertIn("2 sources, 35 messages, 85.7% passing DMARC.", lines)
        self.assertEqual(lines[-1], "All 2 domains: 105 messages, 95.2% passing DMARC.")
        # one domain: no heading, as before
        lines = self.report("sources", "--domain", "a.example").stdout.decode().splitlines()
        self.assertTrue(lines[0].startswith("SOURCE"))
