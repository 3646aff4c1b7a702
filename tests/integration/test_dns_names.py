"""Names for sending addresses (issue 13 item 1): dmarc-ingest after a run
and `dmarc-report resolve`, against a real Knot DNS on loopback
(tests/lib/knotfixture.py, zones in tests/lib/dnszones.py).

Every run points the resolver at 127.0.0.1: the Knot server, a UDP port
that never answers (knotfixture.DeadServer) or a port where nothing
listens.  The suite sets DMARCSIFT_OFFLINE=1 for every other test
(dmarctest.py); these clear it.
"""
import json
import os
import time
import unittest

import dnszones
import knotfixture
from dmarctest import EX_OK, EX_USAGE, Case, record, report_xml

ONLINE = {"DMARCSIFT_OFFLINE": ""}
EX_CONFIG, EX_UNAVAILABLE = 78, 69


def closed_port():
    return knotfixture.free_port()


@unittest.skipUnless(knotfixture.available(), "knotd is missing (scripts/install-deps --test)")
class NamesCase(Case):
    def setUp(self):
        super().setUp()
        self.ns = knotfixture.KnotServer(dnszones.zones()).start()

    def tearDown(self):
        self.ns.cleanup()
        super().tearDown()

    def report_file(self, ips, name="r.xml", rid="rid-1"):
        return self.write(name, report_xml(report_id=rid, records=[record(ip=ip) for ip in ips]))

    def names(self):
        return {r[0]: r[1:] for r in self.sql(
            "SELECT ip, result, name, confirmed FROM source_names")}

    def assertNames(self, names, ips):
        for ip in ips:
            want, confirmed = dnszones.NAMES[ip]
            self.assertIn(ip, names)
            result, name, conf = names[ip]
            self.assertEqual(name, want, ip)
            self.assertEqual(bool(conf), confirmed, ip)
            if want is not None:
                self.assertEqual(result, "name", ip)

    def test_ingest_names_every_new_address(self):
        ips = list(dnszones.NAMES)
        p = self.ingest("--dns-server", self.ns.server, self.report_file(ips), env=ONLINE)
        self.assertExit(p, EX_OK)
        self.assertEqual(p.stderr, b"", "quiet under cron")
        names = self.names()
        self.assertEqual(set(names), set(ips))
        self.assertNames(names, ips)
        self.assertEqual(names["198.51.100.12"][0], "nxdomain")
        # a PTR with a space in it is dropped, not stored
        self.assertEqual(names["198.51.100.13"][:2], ("malformed", None))
        # an unconfirmed name is kept as such
        self.assertEqual(names["198.51.100.11"], ("name", "spoof.example.com", 0))
        # TTL and expiry: the zone's 3600 s, clamped to at least an hour
        ttl, at, exp = self.sql("SELECT ttl, resolved_at, expires_at FROM source_names "
                                "WHERE ip = '198.51.100.10'")[0]
        self.assertEqual(ttl, 3600)
        self.assertEqual(exp - at, 3600)
        self.assertLessEqual(abs(at - time.time()), 60)

    def test_verbose_counts(self):
        p = self.ingest("-v", "--dns-server", self.ns.server,
                        self.report_file(list(dnszones.NAMES)), env=ONLINE)
        self.assertExit(p, EX_OK)
        err = p.stderr.decode()
        self.assertIn("names looked up 9: 7 found (6 confirmed), 1 without a name", err)
        self.assertIn("1 dropped as malformed", err)

    def test_only_new_or_expired_addresses_are_looked_up(self):
        self.assertExit(self.ingest("--dns-server", self.ns.server,
                                    self.report_file(["198.51.100.10"]), env=ONLINE), EX_OK)
        first = self.sql("SELECT resolved_at FROM source_names")[0][0]
        # an entry made to look old, and one that expired
        con_sql = "UPDATE source_names SET resolved_at = 1, expires_at = %d WHERE ip = '198.51.100.10'"
        import sqlite3
        con = sqlite3.connect(self.db)
        con.execute(con_sql % (int(time.time()) + 3600))
        con.commit()
        p = self.ingest("--dns-server", self.ns.server,
                        self.report_file(["198.51.100.10", "198.51.100.14"], "r2.xml", "rid-2"), env=ONLINE)
        self.assertExit(p, EX_OK)
        rows = dict(self.sql("SELECT ip, resolved_at FROM source_names"))
        self.assertEqual(rows["198.51.100.10"], 1, "unexpired entry looked up again")
        self.assertGreaterEqual(rows["198.51.100.14"], first)
        con.execute("UPDATE source_names SET expires_at = 2 WHERE ip = '198.51.100.10'")
        con.commit()
        con.close()
        p = self.report("--dns-server", self.ns.server, "--format", "json", "resolve")
        self.assertExit(p, EX_OK)
        rows = json.loads(p.stdout)
        self.assertEqual([r["source_ip"] for r in rows], ["198.51.100.10"])
        self.assertGreater(dict(self.sql("SELECT ip, resolved_at FROM source_names"))["198.51.100.10"], 1)

    def test_offline_option_and_config(self):
        f = self.report_file(["198.51.100.10"])
        self.assertExit(self.ingest("--offline", "--dns-server", self.ns.server, f, env=ONLINE), EX_OK)
        self.assertEqual(self.count("source_names"), 0)
        conf = self.write("conf", "[dns]\nresolve = no\nservers = %s\n" % self.ns.server)
        os.chmod(conf, 0o600)
        f2 = self.report_file(["198.51.100.14"], "r2.xml", "rid-2")
        self.assertExit(self.ingest("--config", conf, f2, env=ONLINE), EX_OK)
        self.assertEqual(self.count("source_names"), 0)
        # the environment switch the suite uses
        f3 = self.report_file(["198.51.100.15"], "r3.xml", "rid-3")
        self.assertExit(self.ingest("--dns-server", self.ns.server, f3,
                                    env={"DMARCSIFT_OFFLINE": "1"}), EX_OK)
        self.assertEqual(self.count("source_names"), 0)

    def test_config_servers(self):
        conf = self.write("conf", "[dns]\nresolve = yes\nservers = %s\nbudget = 5\n" % self.ns.server)
        os.chmod(conf, 0o600)
        p = self.ingest("--config", conf, self.report_file(["198.51.100.10", "2001:db8::10"]), env=ONLINE)
        self.assertExit(p, EX_OK)
        self.assertNames(self.names(), ["198.51.100.10", "2001:db8::10"])

    def test_bad_server_settings_are_refused(self):
        f = self.report_file(["198.51.100.10"])
        p = self.ingest("--dns-server", "ns.example.com:53", f, env=ONLINE)
        self.assertExit(p, EX_USAGE)
        self.assertIn(b"--dns-server", p.stderr)
        self.assertIn(b"not an IP address", p.stderr)
        p = self.ingest("--dns-server", "127.0.0.1:99999", f, env=ONLINE)
        self.assertExit(p, EX_USAGE)
        self.assertIn(b"port", p.stderr)
        for bad, word in (("servers = localhost", b"[dns] servers"), ("resolve = maybe", b"[dns] resolve"),
                          ("budget = 0", b"[dns] budget"), ("colour = red", b"unknown key 'colour' in [dns]")):
            conf = self.write("bad.conf", "[dns]\n%s\n" % bad)
            os.chmod(conf, 0o600)
            p = self.ingest("--config", conf, f, env=ONLINE)
            self.assertExit(p, EX_CONFIG)
            self.assertIn(word, p.stderr)
        self.assertEqual(self.count("source_names") if os.path.exists(self.db) else 0, 0)
        p = self.report("--dns-server", "[::1", "resolve")
        self.assertExit(p, EX_USAGE)
        p = self.report("--dns-timeout", "0", "resolve")
        self.assertExit(p, EX_USAGE)
        self.assertIn(b"--dns-timeout", p.stderr)

    def test_resolve_command_on_a_store_filled_offline(self):
        ips = list(dnszones.NAMES)
        self.assertExit(self.ingest("--offline", self.report_file(ips)), EX_OK)
        self.assertEqual(self.count("source_names"), 0)
        p = self.report("--dns-server", self.ns.server, "--format", "csv", "resolve")
        self.assertExit(p, EX_OK)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[0], "source_ip,result,source_name,source_name_confirmed,ttl")
        self.assertIn("198.51.100.10,name,mx1.example.com,true,3600", lines)
        self.assertIn("198.51.100.11,name,spoof.example.com,false,3600", lines)
        self.assertIn("198.51.100.12,nxdomain,,,", lines)
        self.assertEqual(len(lines), 1 + len(ips))
        self.assertNames(self.names(), ips)
        p = self.report("--dns-server", self.ns.server, "resolve")
        self.assertExit(p, EX_OK)
        self.assertIn(b"nothing to look up", p.stdout)
        # offline (as the whole suite runs) without a server: no lookups
        p = self.report("resolve", env={"DMARCSIFT_OFFLINE": "1"})
        self.assertExit(p, EX_UNAVAILABLE)
        self.assertIn(b"DMARCSIFT_OFFLINE", p.stderr)
        p = self.report("check-dns", env={"DMARCSIFT_OFFLINE": "1"})
        self.assertExit(p, EX_UNAVAILABLE)


class DeadDnsCase(Case):
    """No server on loopback answers: the import is untouched, one warning."""

    def many(self, n):
        ips = ["10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(1, n + 1)]
        return self.write("r.xml", report_xml(records=[record(ip=ip) for ip in ips])), ips

    def test_unreachable_server_gives_one_warning(self):
        f, ips = self.many(100)
        p = self.ingest("--dns-server", "127.0.0.1:%d" % closed_port(), f, env=ONLINE)
        self.assertExit(p, EX_OK)
        lines = p.stderr.decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("names of sending addresses", lines[0])
        self.assertIn("cannot be reached", lines[0])
        self.assertEqual(self.count("records"), 100)
        self.assertEqual(self.count("source_names"), 0)

    def test_server_that_never_answers(self):
        f, ips = self.many(3)
        self.assertExit(self.ingest("--offline", f), EX_OK)
        with knotfixture.DeadServer() as dead:
            p = self.report("--dns-server", dead.server, "--dns-timeout", "200", "resolve")
            self.assertGreaterEqual(dead.queries, 3)
        self.assertExit(p, EX_UNAVAILABLE)
        self.assertIn(b"no answer from the DNS servers", p.stderr)
        self.assertEqual(sorted(self.sql("SELECT result, count(*) FROM source_names GROUP BY result")),
                         [("timeout", 3)])
        # timeouts are looked up again after an hour, not at once
        exp = self.sql("SELECT min(expires_at - resolved_at) FROM source_names")[0][0]
        self.assertEqual(exp, 3600)

    def test_budget_and_lookups_in_flight(self):
        f, ips = self.many(300)
        self.assertExit(self.ingest("--offline", f), EX_OK)
        with knotfixture.DeadServer() as dead:
            t = time.monotonic()
            p = self.report("--dns-server", dead.server, "--dns-timeout", "30000",
                            "--dns-budget", "1", "resolve")
            took = time.monotonic() - t
            time.sleep(0.3)
            queries = dead.queries
        self.assertExit(p, EX_OK)
        self.assertIn(b"300 left for the next run", p.stdout)
        # the budget ends the run, not the 30 s timeout
        self.assertLess(took, 10)
        # at most 32 lookups in flight: no retry happens within the budget
        self.assertGreaterEqual(queries, 1)
        self.assertLessEqual(queries, 32)
        self.assertEqual(self.count("source_names"), 0)


if __name__ == "__main__":
    unittest.main()
