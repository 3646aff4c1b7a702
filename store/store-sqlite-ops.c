/*
 * store-sqlite-ops.c - the SQLite backend's table of operations.
 */
#include "sqlite-impl.h"
#include "sqlite-names.h"

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .claims = sq_claims,
    .exists = sq_exists,
    .lock = sq_lock,
    .unlock = sq_unlock,
    .state_dir = sq_state_dir,
    .open = sq_open,
    .close = sq_close,
    .note = sq_note,
    .batch_begin = sq_batch_begin,
    .batch_commit = sq_batch_commit,
    .batch_rollback = sq_batch_rollback,
    .in_batch = sq_in_batch,
    .find_report = sq_find_report,
    .report_begin = sq_report_begin,
    .report_record = sq_report_record,
    .report_finish = sq_report_finish,
    .report_abort = sq_report_abort,
    .report_replace = sq_report_replace,
    .log = sq_log,
    .imap_get = sq_imap_get,
    .imap_set = sq_imap_set,
    .each_report = sq_each_report,
    .each_group = sq_each_group,
    .each_record = sq_each_record,
    .each_domain = sq_each_domain,
    .tls_report = sq_tls_report,
    .failure_report = sq_failure_report,
    .each_tls_day = sq_each_tls_day,
    .each_failure = sq_each_failure,
    .each_payload = sq_each_payload,
    .each_failure_kept = sq_each_failure_kept,
    .prune = sq_prune,
    .names_due = sq_names_due,
    .names_put = sq_names_put,
    .each_name = sq_each_name,
};
