/*
 * test_csv_formulas.c - which CSV text fields get the leading apostrophe
 * that keeps a spreadsheet from evaluating them (report/output-csv.c):
 * those starting with = + - @ TAB or CR, plain decimal numbers excepted.
 */
#include <stdlib.h>

#include "check.h"
#include "output.h"

static const struct column col[] = {{"v", NULL, COL_TEXT, 0}};

/* The one CSV field written for text s, without the header and CRLF. */
static char *
field(const char *s)
{
	struct output o;
	struct cell c = {{s}, 0, 0};
	char *text = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_INT(output_begin(&o, &output_csv, f, col, 1), 0);
	CHECK_INT(output_row(&o, &c), 0);
	CHECK_INT(output_end(&o), 0);
	fclose(f);
	p = strdup(text + strlen("v\r\n"));
	free(text);
	p[strlen(p) - 2] = '\0';
	return p;
}

static void
check_field(const char *in, const char *want)
{
	char *got = field(in);

	CHECK_STR(got, want);
	free(got);
}

TEST(numbers_stay_numbers)
{
	check_field("-12.5", "-12.5");
	check_field("+3", "+3");
	check_field("-1e5", "-1e5");
	check_field("-.5", "-.5");
	check_field("42", "42");
}

TEST(what_only_looks_like_a_number_is_neutralised)
{
	check_field("-inf", "\"'-inf\"");
	check_field("-nan", "\"'-nan\"");
	check_field("+0x10", "\"'+0x10\"");
	check_field("-1+2", "\"'-1+2\"");
	check_field("-", "\"'-\"");
	check_field("-1e", "\"'-1e\"");
	check_field("\t5", "\"'\t5\"");
	check_field("\r5", "\"'\r5\"");
}

TEST(formulas_are_neutralised)
{
	check_field("=1+1", "\"'=1+1\"");
	check_field("@SUM(A1:A2)", "\"'@SUM(A1:A2)\"");
	check_field("+cmd|' /C calc'!A0", "\"'+cmd|' /C calc'!A0\"");
	check_field("=HYPERLINK(\"http://x\",\"y\")",
	    "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
	/* only the first character counts */
	check_field("a=1", "a=1");
	check_field(" =1", " =1");
}
