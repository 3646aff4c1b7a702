#include "command.h"
static int
run(struct report_ctx *ctx, struct err *e)
{
	(void)ctx;
	return err_set(e, "not yet");
}
const struct command cmd_check_dns = {"check-dns", "check DNS", run};
