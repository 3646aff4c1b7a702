/*
 * retention.c - see retention.h.
 */
#include "retention.h"

#include <time.h>

int64_t
retention_cutoff(unsigned days)
{
	return ((int64_t)time(NULL) / 86400 - (int64_t)days) * 86400;
}

int
retention_run(struct store *st, unsigned days, const struct logger *lg,
              struct err *e)
{
	struct store_prune p = {retention_cutoff(days), NULL, 0};
	struct store_prune_result r;

	if (store_prune(st, &p, &r, e) == -1)
		return err_prefix(e, "[store] keep = %ud: pruning", days);
	log_info(lg,
	         "pruned reports older than %u days: %llu aggregate "
	         "(%llu records), %llu TLS, %llu failure; %llu payloads",
	         days, (unsigned long long)r.reports,
	         (unsigned long long)r.records,
	         (unsigned long long)r.tls_reports,
	         (unsigned long long)r.failure_reports,
	         (unsigned long long)r.payloads);
	return 0;
}
