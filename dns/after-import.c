/*
 * after-import.c - the names dmarc-ingest looks up after a run (see
 * dns_after_import() in dns.h).  Quiet under cron: the one warning is for
 * servers that cannot be reached.  Timeouts of single lookups, dropped
 * answers and a backlog left for the next run are normal on the Internet
 * (many PTR servers are dead) and are counted at -v only.
 */
#include <time.h>

#include "dns.h"
#include "log.h"
#include "store.h"

void
dns_after_import(struct store *st, const char *servers, unsigned budget_s,
                 const struct logger *lg)
{
	struct dns_options o;
	struct dns_stats s = {0};
	struct err e;

	dns_options_default(&o);
	o.servers = servers;
	o.budget_ms = budget_s * 1000u;
	if (dns_resolve_store(st, &o, (int64_t)time(NULL), NULL, NULL, &s,
	                      &e) == -1) {
		log_warn(lg,
		         "names of sending addresses: %s; the addresses "
		         "are looked up on the next run (--offline or "
		         "[dns] resolve = no turns this off)",
		         e.msg);
		return;
	}
	if (s.asked == 0)
		return;
	log_info(lg,
	         "names looked up %lu: %lu found (%lu confirmed), %lu "
	         "without a name, %lu timed out, %lu errors, %lu dropped "
	         "as malformed, %lu left for the next run, in %lu ms",
	         s.asked, s.names, s.confirmed, s.nxdomain, s.timeouts,
	         s.errors, s.malformed, s.not_done, s.elapsed_ms);
}
