"""More report tests run on both backends (issue 15): every import made
into SQLite *and* PostgreSQL, every dmarc-report command run on both, the
outputs compared byte for byte (test_postgres.BothBackends).  These
modules exercise the operations PostgreSQL gained after the first
mirrored ones: SMTP TLS and failure reports, retention (prune), a
salvaged copy replaced by the complete one, the names of source
addresses (against Knot DNS on loopback), and the policy and SES
verdicts.
"""
import re

import test_dns_check
import test_dns_names
import test_hostile2
import test_other_reports
import test_policy_verdicts
import test_prune
import test_selection
import test_ses_verdicts
from test_postgres import mirror

for _module in (test_other_reports, test_policy_verdicts, test_ses_verdicts, test_selection,
                test_hostile2):
    globals().update(mirror(_module, __name__))
del _module


def without_timing(out):
    """resolve says how long its lookups took."""
    return re.sub(r" in \d+ ms", " in N ms", out)


class PgNamesCase(mirror(test_dns_names, __name__)["PgNamesCase"]):
    comparable = staticmethod(without_timing)

    def test_only_new_or_expired_addresses_are_looked_up(self):
        self.skipTest("edits the SQLite file by hand: test_pg_ops.Names has PostgreSQL's")


class PgDeadDnsCase(mirror(test_dns_names, __name__)["PgDeadDnsCase"]):
    comparable = staticmethod(without_timing)

    def test_budget_and_lookups_in_flight(self):
        self.skipTest("counts the queries one dmarc-report sends; mirrored, two send them")


class PgCheckDnsCase(mirror(test_dns_check, __name__)["PgCheckDnsCase"]):
    comparable = staticmethod(without_timing)


class PgHostileRecordsCase(mirror(test_dns_check, __name__)["PgHostileRecordsCase"]):
    comparable = staticmethod(without_timing)


class PgPrune(mirror(test_prune, __name__)["PgPrune"]):
    """The store's size is the file's on SQLite and the database's on
    PostgreSQL: everything else of prune's output is the same."""

    def comparable(self, out):
        out = re.sub(r'"file_bytes_(before|after)":\d+', '"file_bytes_\\1":N', out)
        if "file_bytes_after\r\n" in out:  # CSV: the last two columns
            out = re.sub(r",\d+,\d+(\r?)$", ",N,N\\1", out, flags=re.M)
        return re.sub(r"Database file: \d+ bytes, now \d+", "Database file: N", out)

    def test_usage_and_lock(self):
        self.skipTest("the lock is SQLite's lock file: test_pg_ops.Prune has PostgreSQL's")
