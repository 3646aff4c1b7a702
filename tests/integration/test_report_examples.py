"""dmarc-report sources, ses, records and policy on the sample reports in
examples/reports, imported with the real dmarc-ingest.

The expected numbers are read at run time from the tables of
examples/README.md ("Expected findings"), so the tests and the documented
findings cannot drift apart: every SES scenario must come out with exactly
the region, source IPs, messages, aligned counts and cause codes listed
there, the healthy one not at all, and no other sender ever.
"""
import collections
import csv
import io
import json
import os
import re

from dmarctest import EX_OK, EXAMPLES, SOURCE, Case

README = os.path.join(SOURCE, "examples", "README.md")

SES_HEADER = "| scenario | region | source IP(s) | header_from | messages | SPF-aligned | DKIM-aligned | causes |"
OTHER_HEADER = "| scenario | source IP(s) | header_from | messages | SPF-aligned | DKIM-aligned |"


def readme_table(header):
    """The rows of the README table whose header line starts with header."""
    with open(README, encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(header))
    names = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append(dict(zip(names, cells)))
    return rows


def ips(cell):
    return set(x.strip() for x in cell.split(","))


SES = {r["scenario"]: r for r in readme_table(SES_HEADER)}
OTHER = {r["scenario"]: r for r in readme_table(OTHER_HEADER)}


class Examples(Case):
    def setUp(self):
        super().setUp()
        self.assertEqual(sorted(SES), list("ABCDEFR"), "README's SES table changed shape")
        self.assertEqual(sorted(OTHER), list("GHSW"), "README's other-sources table changed shape")
        self.assertExit(self.ingest(EXAMPLES), EX_OK)

    def csv(self, command, *args):
        proc = self.report(command, "--format", "csv", *args)
        self.assertIn(proc.returncode, (0, 1), proc.stderr.decode())
        text = proc.stdout.decode("utf-8")
        return list(csv.DictReader(io.StringIO(text, newline="")))

    # --- ses -----------------------------------------------------------

    def test_ses_csv_header_exact(self):
        proc = self.report("ses", "--format", "csv")
        self.assertExit(proc, EX_OK)
        self.assertTrue(proc.stdout.startswith(
            b"region,source_ip,header_from,messages,spf_aligned,dkim_aligned,"
            b"envelope_from,dkim_domains,cause,fix,severity,region_evidence,notes,evidence\r\n"))

    def test_each_ses_scenario_exactly(self):
        rows = self.csv("ses")
        by_key = collections.defaultdict(list)
        for r in rows:
            by_key[(r["region"], r["header_from"], r["cause"])].append(r)
        flagged = [s for s in SES.values() if s["causes"] != "(none)"]
        self.assertEqual(len(flagged), 6)
        for s in flagged:
            with self.subTest(scenario=s["scenario"]):
                got = by_key.pop((s["region"], s["header_from"], s["causes"]), [])
                self.assertEqual({r["source_ip"] for r in got}, ips(s["source IP(s)"]))
                self.assertEqual(sum(int(r["messages"]) for r in got), int(s["messages"]))
                self.assertEqual(sum(int(r["spf_aligned"]) for r in got), int(s["SPF-aligned"]))
                self.assertEqual(sum(int(r["dkim_aligned"]) for r in got), int(s["DKIM-aligned"]))
                for r in got:
                    self.assertTrue(r["fix"])
                    self.assertEqual(r["severity"], s["severity"])
                    self.assertEqual(r["region_evidence"], s["region evidence"])
        # nothing else: no row for the healthy source, no other sender
        self.assertEqual(dict(by_key), {})

    def test_one_row_per_region_ip_from(self):
        rows = self.csv("ses")
        keys = [(r["region"], r["source_ip"], r["header_from"]) for r in rows]
        self.assertEqual(len(keys), len(set(keys)))
        self.assertEqual(len(rows), sum(len(ips(s["source IP(s)"])) for s in SES.values()
                                        if s["causes"] != "(none)"))

    def test_healthy_and_other_senders_never_shown(self):
        shown = {r["source_ip"] for r in self.csv("ses")}
        self.assertFalse(shown & ips(SES["C"]["source IP(s)"]), "the healthy SES source is flagged")
        for s in OTHER.values():
            self.assertFalse(shown & ips(s["source IP(s)"]), "scenario %s shown" % s["scenario"])

    def test_fix_names_setting_record_and_region(self):
        rows = {(r["region"], r["cause"]): r for r in self.csv("ses")}
        fix = rows[("eu-west-1", "default-mail-from;no-easy-dkim;region-gap")]["fix"]
        self.assertIn("eu-west-1", fix)
        self.assertIn("MAIL FROM", fix)
        # one MX serves every region: the MAIL FROM domain working elsewhere is named, its MX
        # kept, never a second one asked for
        self.assertIn("set the MAIL FROM attribute of the identity example.com to mail.example.com, "
                      "the MAIL FROM domain already working in eu-central-1", fix)
        self.assertNotIn("feedback-smtp.eu-west-1", fix)
        self.assertIn("Easy DKIM", fix)
        self.assertIn("CNAME", fix)
        fix = rows[("us-west-2", "default-mail-from;dkim-fail;region-gap;dkim-records-changed")]["fix"]
        self.assertNotIn("is Pending or Failed, so", fix)
        self.assertIn("wq5bn3ezk7dtcj2mxh6pyvlfogr4asiu._domainkey.example.com", fix)
        fix = rows[("us-east-2", "mail-from-spf-fail")]["fix"]
        self.assertIn("bounce.example.com", fix)
        self.assertIn("one MX record, 10 feedback-smtp.us-east-2.amazonses.com", fix)
        fix = rows[("us-east-1", "strict-alignment")]["fix"]
        self.assertIn("aspf=r", fix)
        self.assertIn("_dmarc.example.net", fix)
        env = {r["region"]: r["envelope_from"] for r in self.csv("ses")}
        self.assertEqual(env["eu-west-1"], "eu-west-1.amazonses.com")  # from SPF where absent

    def test_exit_code(self):
        self.assertExit(self.report("ses"), EX_OK)
        # the examples are older than --max-age's default (that is exit 3,
        # tests/integration/test_policy_verdicts.py)
        old = ("--max-age", "36500")
        self.assertExit(self.report("ses", "--exit-code", *old), 1)
        self.assertExit(self.report("ses", "--exit-code", "--format", "csv", *old), 1)
        self.assertExit(self.report("ses", "--exit-code", "--format", "json", *old), 1)
        # other commands show no problems
        self.assertExit(self.report("sources", "--exit-code"), EX_OK)

    def test_table(self):
        proc = self.report("ses", env={"COLUMNS": "100"})
        self.assertExit(proc, EX_OK)
        text = proc.stdout.decode("utf-8")
        self.assertNotIn("\033[", text)
        for line in text.splitlines():
            self.assertLessEqual(len(line), 100, line)
        for s in SES.values():
            for ip in ips(s["source IP(s)"]):
                if s["causes"] == "(none)":
                    self.assertNotIn(ip + " ", text)
                else:
                    self.assertRegex(text, r"(?m)^%s +%s +%s " % (re.escape(ip), s["region evidence"], r"\d+"))
        self.assertEqual(text.count("\nFix: ") + text.startswith("Fix: "), 6)
        self.assertTrue(text.startswith("FAIL  eu-west-1  example.com  default-mail-from;no-easy-dkim;region-gap\n"))
        # fail blocks before warn blocks
        heads = [l.split()[0] for l in text.splitlines() if l.startswith(("FAIL  ", "WARN  "))]
        self.assertEqual(heads, ["FAIL"] * 2 + ["WARN"] * 4)
        self.assertIn("\n31 messages were forwarded or modified in transit; no SES setting changes that.\n",
                      text)

    def test_json(self):
        proc = self.report("ses", "--format", "json")
        data = json.loads(proc.stdout)
        self.assertEqual(len(data), 11)
        self.assertEqual(list(data[0].keys()),
                         ["region", "source_ip", "header_from", "messages", "spf_aligned",
                          "dkim_aligned", "envelope_from", "dkim_domains", "cause", "fix",
                          "severity", "region_evidence", "notes", "evidence"])
        self.assertTrue(all(isinstance(r["messages"], int) for r in data))

    def test_domain_filter(self):
        rows = self.csv("ses", "--domain", "example.net")
        self.assertEqual({r["cause"] for r in rows}, {"strict-alignment"})
        self.assertEqual({r["source_ip"] for r in rows}, ips(SES["F"]["source IP(s)"]))

    # --- sources -------------------------------------------------------

    def test_sources_csv_header_exact(self):
        proc = self.report("sources", "--format", "csv")
        self.assertExit(proc, EX_OK)
        self.assertTrue(proc.stdout.startswith(
            b"source,region,ips,messages,dmarc_pass,spf_aligned,dkim_aligned,quarantined,"
            b"rejected,region_evidence,domain,source_name,source_name_confirmed,name_evidence\r\n"))

    def test_sources(self):
        rows = self.csv("sources")
        # one row per policy domain and source: sum the domains
        by = {}
        for r in rows:
            key = (r["source"], r["region"])
            if key in by:
                for n in ("ips", "messages", "spf_aligned", "dkim_aligned"):
                    by[key][n] = str(int(by[key][n]) + int(r[n]))
            else:
                by[key] = dict(r)

        def check(key, scenarios):
            r = by.pop(key)
            want = [SES.get(s) or OTHER[s] for s in scenarios]
            self.assertEqual(int(r["ips"]), sum(len(ips(w["source IP(s)"])) for w in want))
            self.assertEqual(int(r["messages"]), sum(int(w["messages"]) for w in want))
            self.assertEqual(int(r["spf_aligned"]), sum(int(w["SPF-aligned"]) for w in want))
            self.assertEqual(int(r["dkim_aligned"]), sum(int(w["DKIM-aligned"]) for w in want))

        check(("Amazon SES", "us-east-1"), "AF")
        check(("Amazon SES", "eu-west-1"), "B")
        check(("Amazon SES", "us-west-2"), "E")
        check(("Amazon SES", "eu-central-1"), "C")  # the selector and the /24 say so
        check(("Amazon SES", "us-east-2"), "D")
        check(("Amazon SES", "ap-northeast-1"), "R")
        check(("Google Workspace", ""), "GW")  # W: forwarded by a Google address
        check(("SendGrid", ""), "S")
        # every unknown source is its own row, named by its address
        spoof = ips(OTHER["H"]["source IP(s)"])
        self.assertEqual({k[0] for k in by}, spoof)
        self.assertEqual(sum(int(r["messages"]) for r in by.values()), int(OTHER["H"]["messages"]))
        self.assertTrue(all(r["ips"] == "1" and r["region"] == "" for r in by.values()))
        self.assertEqual(int(by[("203.0.113.77", "")]["quarantined"]), 12)
        # by domain, then most messages first; everything adds up to the
        # imported total
        self.assertEqual([r["domain"] for r in rows], sorted(r["domain"] for r in rows))
        for d in ("example.com", "example.net"):
            msgs = [int(r["messages"]) for r in rows if r["domain"] == d]
            self.assertEqual(msgs, sorted(msgs, reverse=True))
        msgs = [int(r["messages"]) for r in rows]
        self.assertEqual(sum(msgs), 7693)
        ev = {(r["domain"], r["source"], r["region"]): r["region_evidence"] for r in rows}
        self.assertEqual(ev[("example.com", "Amazon SES", "us-east-1")], "mail-from")
        self.assertEqual(ev[("example.net", "Amazon SES", "us-east-1")], "dkim-selector")
        self.assertEqual(ev[("example.com", "Amazon SES", "ap-northeast-1")], "dkim-selector")
        self.assertEqual(ev[("example.com", "Google Workspace", "")], "")

    def test_sources_dmarc_pass(self):
        by = {}  # summed over the policy domains
        for r in self.csv("sources"):
            b = by.setdefault((r["source"], r["region"]), {"dmarc_pass": "0"})
            b["dmarc_pass"] = str(int(b["dmarc_pass"]) + int(r["dmarc_pass"]))
        self.assertEqual(by[("Amazon SES", "us-east-1")]["dmarc_pass"], "1446")
        self.assertEqual(by[("Amazon SES", "eu-west-1")]["dmarc_pass"], "0")
        self.assertEqual(by[("Google Workspace", "")]["dmarc_pass"], "498")

    def test_sources_table(self):
        proc = self.report("sources")
        self.assertExit(proc, EX_OK)
        lines = proc.stdout.decode().splitlines()
        # two policy domains: a block each, under its name
        self.assertEqual(lines[0], "example.com:")
        self.assertIn("example.net:", lines)
        self.assertTrue(lines[1].startswith("SOURCE"))
        self.assertTrue(all(len(l) <= 100 for l in lines))
        us = next(l for l in lines if "us-east-1" in l)
        # numbers right-aligned, shares in percent
        self.assertRegex(us, r"^Amazon SES +us-east-1 +2 +1193 +100\.0% +0\.0% +100\.0% +0 +0$")
        self.assertIn("7693 messages", lines[-1])

    # --- records -------------------------------------------------------

    def test_records(self):
        proc = self.report("records", "--format", "csv")
        self.assertExit(proc, EX_OK)
        header = proc.stdout.split(b"\r\n", 1)[0].decode()
        self.assertEqual(header, ",".join([
            "org_name", "org_email", "report_id", "begin_date", "end_date", "errors", "domain",
            "adkim", "aspf", "p", "sp", "np", "pct", "fo", "testing", "source_ip_address",
            "source_name", "count", "spf_aligned", "dkim_aligned", "dmarc_aligned", "disposition",
            "policy_override_reasons", "policy_override_comments", "envelope_from", "header_from",
            "envelope_to", "dkim_domains", "dkim_selectors", "dkim_results", "spf_domains",
            "spf_scopes", "spf_results", "ses_region", "cause", "region_evidence",
            "source_reverse_dns", "source_base_domain", "source_name_confirmed", "name_evidence"]))
        rows = list(csv.DictReader(io.StringIO(proc.stdout.decode(), newline="")))
        self.assertEqual(len(rows), 46)
        self.assertEqual(sum(int(r["count"]) for r in rows), 7693)
        # each scenario is seen in as many reports as the README says
        for s in list(SES.values()) + list(OTHER.values()):
            seen = {r["report_id"] for r in rows if r["source_ip_address"] in ips(s["source IP(s)"])}
            self.assertEqual(len(seen), int(s["seen in reports"]), s["scenario"])
        b = next(r for r in rows if r["source_ip_address"] == "54.240.6.238")
        self.assertEqual(b["begin_date"], "2026-11-24T00:00:00Z")
        self.assertEqual(b["end_date"], "2026-11-24T23:59:59Z")
        self.assertEqual((b["spf_aligned"], b["dkim_aligned"], b["dmarc_aligned"]),
                         ("false", "false", "false"))
        self.assertEqual(b["source_name"], "Amazon SES")
        self.assertEqual(b["ses_region"], "eu-west-1")
        self.assertEqual(b["cause"], "default-mail-from;no-easy-dkim;region-gap")
        self.assertEqual(b["region_evidence"], "mail-from")
        self.assertEqual(b["envelope_to"], "outlook.com")
        e = next(r for r in rows if r["source_ip_address"] == "54.240.27.22"
                 and r["org_name"] == "Outlook.com")
        self.assertEqual(e["dkim_domains"], "example.com,amazonses.com")
        self.assertEqual(e["dkim_results"], "fail,pass")
        self.assertEqual(e["dkim_selectors"].split(",")[0], "wq5bn3ezk7dtcj2mxh6pyvlfogr4asiu")
        self.assertEqual((e["spf_domains"], e["spf_scopes"], e["spf_results"]),
                         ("us-west-2.amazonses.com", "mfrom", "pass"))
        q = next(r for r in rows if r["disposition"] == "quarantine")
        self.assertEqual(q["policy_override_reasons"], "local_policy")
        self.assertEqual(q["policy_override_comments"], "source IP listed on the receiver's local blocklist")
        self.assertEqual((q["source_name"], q["ses_region"], q["cause"]), ("", "", ""))
        c = next(r for r in rows if r["source_ip_address"] == "69.169.224.5")
        self.assertEqual((c["ses_region"], c["cause"], c["region_evidence"]),
                         ("eu-central-1", "", "dkim-selector"))
        w = next(r for r in rows if r["source_ip_address"] == "209.85.220.101")
        self.assertEqual((w["source_name"], w["ses_region"], w["region_evidence"]),
                         ("Google Workspace", "", ""))
        rx = next(r for r in rows if r["report_id"] == "rx20261124a7f3c91e")
        self.assertEqual((rx["np"], rx["testing"], rx["pct"]), ("none", "n", ""))

    def test_records_json(self):
        data = json.loads(self.report("records", "--format", "json").stdout)
        self.assertEqual(len(data), 46)
        r = data[0]
        self.assertIsInstance(r["count"], int)
        self.assertIsInstance(r["spf_aligned"], bool)
        self.assertIn(r["pct"], (100, None))

    # --- policy --------------------------------------------------------

    def test_policy(self):
        rows = self.csv("policy")
        com = [r for r in rows if r["domain"] == "example.com"]
        net = [r for r in rows if r["domain"] == "example.net"]
        self.assertEqual({r["ready"] for r in com}, {"false"})
        # 198.51.100.140 fails on 6 of example.net's 259 messages, more
        # than 1%: unidentified, it holds the verdict back
        self.assertEqual({r["ready"] for r in net}, {"false"})
        self.assertEqual({r["verdict"] for r in net}, {"not-ready"})
        self.assertIn("198.51.100.140 (6 of 6 messages failing)", net[0]["reason"])
        self.assertEqual(com[0]["p"], "none")
        self.assertEqual((net[0]["adkim"], net[0]["aspf"]), ("s", "s"))
        self.assertEqual((com[0]["reports"], com[0]["days"]), ("4", "1"))
        self.assertEqual((com[0]["first_day"], com[0]["last_day"]), ("2026-11-24", "2026-11-24"))
        self.assertEqual(int(com[0]["domain_messages"]), 7693 - 259)
        self.assertEqual(int(net[0]["domain_messages"]), 259)
        by = {(r["source"], r["region"]): r for r in com}
        e = by[("Amazon SES", "us-west-2")]
        self.assertEqual((e["known_source"], e["quarantine_at_pct25"], e["quarantine_at_pct100"]),
                         ("true", "63", "250"))
        self.assertEqual(by[("Amazon SES", "us-east-1")]["quarantine_at_pct100"], "0")
        self.assertEqual(by[("192.0.2.45", "")]["known_source"], "false")
        total_fail = sum(int(r["quarantine_at_pct100"]) for r in com)
        self.assertEqual(total_fail, int(com[0]["domain_messages"]) - int(com[0]["domain_dmarc_pass"]))

    def test_policy_table(self):
        proc = self.report("policy")
        self.assertExit(proc, EX_OK)
        text = proc.stdout.decode()
        self.assertTrue(all(len(l) <= 100 for l in text.splitlines()))
        self.assertIn("example.com: p=none", text)
        self.assertIn("Not ready to tighten", text)
        flat = " ".join(text.split())  # the prose is wrapped at 100 columns
        self.assertIn("Amazon SES us-west-2 (250 of 250 messages failing)", flat)
        self.assertIn("unidentified: is it yours?", flat)


class ExamplesTwice(Case):
    def test_duplicates_do_not_count_twice(self):
        self.assertExit(self.ingest(EXAMPLES), EX_OK)
        first = self.report("ses", "--format", "csv").stdout
        self.assertExit(self.ingest(EXAMPLES), EX_OK)
        self.assertEqual(self.report("ses", "--format", "csv").stdout, first)
