"""Names used (issue 13 item 2): the names dmarc-ingest stores for source
addresses, looked up from a real Knot DNS on loopback
(tests/lib/knotfixture.py), shown and used by sources, policy, records and
ses; an unconfirmed name shown as such and never used; names from the store
printed escaped.

Addresses (zones below; nothing is asked of the Internet):

  198.51.100.10  mx1.example.com               confirmed  \\ one org:
  198.51.100.15  relay.mail.example.com        confirmed  /  example.com
  198.51.100.14  mx2.example.net               confirmed
  198.51.100.11  spoof.example.com             unconfirmed (A 192.0.2.99)
  203.0.113.7    e1-7.smtp-out.eu-west-1.amazonses.com      confirmed
  203.0.113.8    mail-eopbgr1.outbound.protection.outlook.com confirmed
  203.0.113.9    e1-9.smtp-out.eu-west-1.amazonses.com      unconfirmed
  192.0.2.1      no PTR (NXDOMAIN)

None of them is in a range of the senders table, so without names every
one is an unidentified address.
"""
import csv
import io
import json
import sqlite3
import unittest

import knotfixture
from dmarctest import EX_OK, Case, record, report_xml
from knotfixture import zone_text

ONLINE = {"DMARCSIFT_OFFLINE": ""}
FAIL = dict(dkim="fail", spf="fail", dkim_results=(("example.com", "s1", "fail"),),
            spf_results=(("example.com", "mfrom", "fail"),))

ZONES = {
    "100.51.198.in-addr.arpa": zone_text("100.51.198.in-addr.arpa", [
        "10 PTR mx1.example.com.", "11 PTR spoof.example.com.",
        "14 PTR mx2.example.net.", "15 PTR relay.mail.example.com."]),
    "113.0.203.in-addr.arpa": zone_text("113.0.203.in-addr.arpa", [
        "7 PTR e1-7.smtp-out.eu-west-1.amazonses.com.",
        "8 PTR mail-eopbgr1.outbound.protection.outlook.com.",
        "9 PTR e1-9.smtp-out.eu-west-1.amazonses.com."]),
    "2.0.192.in-addr.arpa": zone_text("2.0.192.in-addr.arpa", ["99 PTR nothing.example.com."]),
    "example.com": zone_text("example.com", [
        "mx1 A 198.51.100.10", "spoof A 192.0.2.99", "relay.mail A 198.51.100.15"]),
    "example.net": zone_text("example.net", ["mx2 A 198.51.100.14"]),
    "amazonses.com": zone_text("amazonses.com", [
        "e1-7.smtp-out.eu-west-1 A 203.0.113.7", "e1-9.smtp-out.eu-west-1 A 192.0.2.98"]),
    "outlook.com": zone_text("outlook.com", ["mail-eopbgr1.outbound.protection A 203.0.113.8"]),
}

RECORDS = [
    record(ip="198.51.100.10", count=5, **FAIL),
    record(ip="198.51.100.15", count=3, **FAIL),
    record(ip="198.51.100.14", count=2),
    record(ip="198.51.100.11", count=4, **FAIL),
    record(ip="203.0.113.7", count=6, **FAIL),
    record(ip="203.0.113.8", count=7),
    record(ip="203.0.113.9", count=1, **FAIL),
    record(ip="192.0.2.1", count=1),
]


def rows(text):
    return list(csv.DictReader(io.StringIO(text, newline="")))


@unittest.skipUnless(knotfixture.available(), "knotd is missing (scripts/install-deps --test)")
class NamesInViews(Case):
    def setUp(self):
        super().setUp()
        self.report_path = self.write("r.xml", report_xml(records=RECORDS))
        with knotfixture.KnotServer(ZONES) as ns:
            p = self.ingest("--dns-server", ns.server, self.report_path, env=ONLINE)
        self.assertExit(p, EX_OK)
        self.assertEqual(self.count("source_names"), 8)

    def out(self, *args):
        p = self.report(*args)
        self.assertExit(p, EX_OK)
        return p.stdout.decode("utf-8")

    def by_source(self, cmd):
        return {r["source"]: r for r in rows(self.out(cmd, "--format", "csv"))}

    def test_sources_csv_names_groups_and_classifies(self):
        s = self.by_source("sources")
        self.assertEqual(set(s), {"example.com", "198.51.100.14", "198.51.100.11", "Amazon SES",
                                  "Microsoft 365", "203.0.113.9", "192.0.2.1"})
        org = s["example.com"]   # the two confirmed names of one organisation
        self.assertEqual((org["ips"], org["messages"], org["dmarc_pass"]), ("2", "8", "0"))
        self.assertEqual((org["source_name"], org["source_name_confirmed"]), ("example.com", "true"))
        one = s["198.51.100.14"]
        self.assertEqual((one["source_name"], one["source_name_confirmed"]), ("mx2.example.net", "true"))
        # unconfirmed: shown as such, grouped with nothing, classifying nothing
        spoof = s["198.51.100.11"]
        self.assertEqual((spoof["ips"], spoof["messages"]), ("1", "4"))
        self.assertEqual((spoof["source_name"], spoof["source_name_confirmed"]),
                         ("spoof.example.com", "false"))
        ses9 = s["203.0.113.9"]
        self.assertEqual((ses9["source_name"], ses9["source_name_confirmed"], ses9["region"]),
                         ("e1-9.smtp-out.eu-west-1.amazonses.com", "false", ""))
        # a confirmed SES host name: SES, its region, from the PTR
        ses = s["Amazon SES"]
        self.assertEqual((ses["region"], ses["region_evidence"], ses["name_evidence"], ses["messages"]),
                         ("eu-west-1", "ptr", "ptr", "6"))
        self.assertEqual(ses["source_name"], "")
        m365 = s["Microsoft 365"]
        self.assertEqual((m365["name_evidence"], m365["messages"], m365["region"]), ("ptr", "7", ""))
        bare = s["192.0.2.1"]
        self.assertEqual((bare["source_name"], bare["source_name_confirmed"], bare["name_evidence"]),
                         ("", "", ""))

    def test_sources_json_and_table(self):
        j = {r["source"]: r for r in json.loads(self.out("sources", "--format", "json"))}
        self.assertIs(j["192.0.2.1"]["source_name_confirmed"], None)
        self.assertIs(j["192.0.2.1"]["source_name"], None)
        self.assertIs(j["198.51.100.11"]["source_name_confirmed"], False)
        self.assertIs(j["198.51.100.14"]["source_name_confirmed"], True)
        self.assertEqual(j["Amazon SES"]["name_evidence"], "ptr")
        t = self.out("sources")
        self.assertIn("example.com (2 addresses)", t)
        self.assertIn("198.51.100.14 (mx2.example.net)", t)
        self.assertIn("198.51.100.11 (spoof.example.com, unconfirmed)", t)
        self.assertIn("203.0.113.9 (e1-9.smtp-out.eu-west-1.amazonses.com, unconfirmed)", t)
        self.assertNotIn("198.51.100.10", t)   # inside its organisation's row
        line = next(l for l in t.splitlines() if l.startswith("Amazon SES"))
        self.assertIn("eu-west-1", line)

    def test_policy_names_the_organisation(self):
        t = " ".join(self.out("policy").split())   # the prose, unwrapped
        self.assertIn("Not ready to tighten", t)
        self.assertIn("example.com (2 addresses, 8 of 8 messages failing)", t)
        self.assertIn("198.51.100.11 (spoof.example.com, unconfirmed, 4 of 4 messages failing)", t)
        r = {x["source"]: x for x in rows(self.out("policy", "--format", "csv"))}
        self.assertEqual((r["example.com"]["known_source"], r["example.com"]["messages"]), ("false", "8"))
        self.assertEqual(r["example.com"]["source_name_confirmed"], "true")
        self.assertEqual((r["198.51.100.11"]["source_name"], r["198.51.100.11"]["source_name_confirmed"]),
                         ("spoof.example.com", "false"))
        self.assertEqual(r["Amazon SES"]["known_source"], "true")
        self.assertEqual(r["Microsoft 365"]["known_source"], "true")
        self.assertEqual(r["192.0.2.1"]["source_name"], "")

    def test_records_parsedmarc_columns(self):
        r = {x["source_ip_address"]: x for x in rows(self.out("records", "--format", "csv"))}
        x = r["198.51.100.10"]
        self.assertEqual((x["source_reverse_dns"], x["source_base_domain"], x["source_name_confirmed"]),
                         ("mx1.example.com", "example.com", "true"))
        self.assertEqual(x["source_name"], "")    # parsedmarc's: the service, none known
        x = r["198.51.100.11"]
        self.assertEqual((x["source_reverse_dns"], x["source_base_domain"], x["source_name_confirmed"]),
                         ("spoof.example.com", "", "false"))
        x = r["203.0.113.7"]
        self.assertEqual((x["source_name"], x["ses_region"], x["region_evidence"], x["name_evidence"]),
                         ("Amazon SES", "eu-west-1", "ptr", "ptr"))
        x = r["203.0.113.9"]
        self.assertEqual((x["source_name"], x["ses_region"]), ("", ""))
        self.assertEqual(r["203.0.113.8"]["source_name"], "Microsoft 365")
        self.assertEqual((r["192.0.2.1"]["source_reverse_dns"], r["192.0.2.1"]["source_name_confirmed"]),
                         ("", ""))
        j = {x["source_ip_address"]: x for x in json.loads(self.out("records", "--format", "json"))}
        self.assertIs(j["192.0.2.1"]["source_name_confirmed"], None)
        self.assertIs(j["198.51.100.11"]["source_base_domain"], None)
        t = self.out("records")
        self.assertIn("198.51.100.10 (mx1.example.com)", t)
        self.assertIn("198.51.100.11 (spoof.example.com, unconfirmed)", t)

    def test_ses_region_from_the_confirmed_name(self):
        s = json.loads(self.out("ses", "--format", "json"))
        ips = {r["source_ip"]: r for r in s}
        self.assertIn("203.0.113.7", ips)
        self.assertEqual((ips["203.0.113.7"]["region"], ips["203.0.113.7"]["region_evidence"]),
                         ("eu-west-1", "ptr"))
        self.assertNotIn("203.0.113.9", ips)   # unconfirmed: not SES

    def test_without_names_the_views_are_as_before(self):
        """The names removed from the store: every view prints what an
        import without DNS gives, byte for byte."""
        other = self.path("offline.db")
        self.assertExit(self.ingest("--offline", self.report_path, db=other), EX_OK)
        con = sqlite3.connect(self.db)
        con.execute("DELETE FROM source_names")
        con.commit()
        con.close()
        for args in (("sources",), ("policy",), ("records",), ("ses",), ("html",),
                     ("sources", "--format", "csv"), ("policy", "--format", "json"),
                     ("records", "--format", "csv")):
            a, b = self.report(*args), self.report(*args, db=other)
            self.assertExit(a, EX_OK)
            if args == ("html",):   # the page says when it was made
                continue
            self.assertEqual(a.stdout, b.stdout, args)
        s = self.by_source("sources")
        self.assertNotIn("Amazon SES", s)
        self.assertIn("203.0.113.7", s)

    def test_html_shows_the_names(self):
        page = self.out("html")
        self.assertIn("198.51.100.11 (spoof.example.com, unconfirmed)", page)
        self.assertIn("example.com (2 addresses)", page)


class HostileNames(Case):
    """Names written into the store by something else than dns/: printed
    escaped, cut, and never trusted."""

    def setUp(self):
        super().setUp()
        recs = [record(ip="192.0.2.1", count=3, **FAIL), record(ip="192.0.2.2", count=2, **FAIL),
                record(ip="192.0.2.3", count=1, **FAIL)]
        self.assertExit(self.ingest("--offline", self.write("r.xml", report_xml(records=recs))), EX_OK)
        con = sqlite3.connect(self.db)
        for ip, name in (("192.0.2.1", "evil\x1b[31m\u202emoc.example.com"),
                         ("192.0.2.2", "a" * 60 + "." + "b" * 400 + ".example.com"),
                         ("192.0.2.3", "Mx1.Example.COM")):
            con.execute("INSERT INTO source_names (ip, result, name, confirmed, ttl, resolved_at, "
                        "expires_at) VALUES (?, 'name', ?, 1, 3600, 0, 4102444800)", (ip, name))
        con.commit()
        con.close()

    def test_printed_escaped_and_never_used(self):
        t = self.report("sources").stdout
        self.assertNotIn(b"\x1b", t)
        self.assertNotIn("\u202e".encode(), t)
        self.assertIn(b"192.0.2.1 (evil\\x1b[31m\\u202emoc.example.com, unconfirmed)", t)
        # not a host name as dns/ stores them: never confirmed, never grouped
        self.assertIn(b"192.0.2.3 (Mx1.Example.COM, unconfirmed)", t)
        self.assertNotIn(b"addresses)", t)
        for cmd in ("policy", "records"):
            out = self.report(cmd).stdout
            self.assertNotIn(b"\x1b", out, cmd)
            self.assertNotIn("\u202e".encode(), out, cmd)
        # CSV and JSON keep the bytes, the long name cut to 253
        r = {x["source"]: x for x in rows(self.report("sources", "--format", "csv").stdout.decode())}
        self.assertEqual(r["192.0.2.1"]["source_name"], "evil\x1b[31m\u202emoc.example.com")
        self.assertEqual(r["192.0.2.1"]["source_name_confirmed"], "false")
        self.assertEqual(len(r["192.0.2.2"]["source_name"]), 253)
        self.assertEqual(r["192.0.2.2"]["source_name_confirmed"], "false")


if __name__ == "__main__":
    unittest.main()
