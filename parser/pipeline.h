/*
 * pipeline.h - parse on one core, store on the other.
 *
 * pipeline_parse() has the contract of parser_run() (parser.h): same
 * arguments, same result, and the handler's callbacks are called on the
 * calling thread, in document order.  The difference is that the reading,
 * inflating and XML parsing happen on a worker thread, so a large report is
 * parsed while the store writes the records already parsed.  Records cross
 * between the threads as copies in a fixed ring of reusable slots, so
 * memory stays flat whatever the size of the report.
 *
 * The worker touches only the parser and the reader; the handler (and so
 * the database) is only ever used by the calling thread.
 */
#ifndef DMARCSIFT_PIPELINE_H
#define DMARCSIFT_PIPELINE_H

#include "parser.h"

enum parse_status pipeline_parse(struct parser *p, struct reader *in,
    enum parse_mode mode, const struct parse_handler *h,
    struct parse_result *res, struct err *e);

#endif
