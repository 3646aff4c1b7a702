/*
 * test_output.c - the CSV, JSON and table writers.
 */
#include "check.h"
#include "output.h"

static const struct column cols[] = {
    {"name", "NAME", COL_TEXT, 1},
    {"n", "N", COL_INT, 0},
    {"ok", "OK", COL_BOOL, 0},
};

static char *
render(const struct output_ops *ops, const struct cell rows[][3], size_t n)
{
	struct output o;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	CHECK_INT(output_begin(&o, ops, f, cols, 3), 0);
	for (i = 0; i < n; i++)
		CHECK_INT(output_row(&o, rows[i]), 0);
	CHECK_INT(output_end(&o), 0);
	fclose(f);
	return test_track(text);
}

TEST(csv_quoting_and_formulas)
{
	const struct cell rows[][3] = {
	    {{{"plain"}, 0, 0}, {{NULL}, 1, 0}, {{NULL}, 1, 0}},
	    {{{"a,b \"q\"\nline"}, 0, 0}, {{NULL}, -2, 0}, {{NULL}, 0, 0}},
	    {{{"=HYPERLINK(\"http://x\")"}, 0, 0}, {{NULL}, 3, 0}, {{NULL}, 0, 1}},
	    {{{"-12.5"}, 0, 0}, {{NULL}, 4, 0}, {{NULL}, 1, 0}},
	    {{{"@SUM(A1)"}, 0, 0}, {{NULL}, 5, 0}, {{NULL}, 1, 0}},
	    {{{NULL}, 0, 0}, {{NULL}, 0, 1}, {{NULL}, 0, 1}},
	};
	char *t = render(&output_csv, rows, 6);

	CHECK_STR(t, "name,n,ok\r\n"
		     "plain,1,true\r\n"
		     "\"a,b \"\"q\"\"\nline\",-2,false\r\n"
		     "\"'=HYPERLINK(\"\"http://x\"\")\",3,\r\n"
		     "-12.5,4,true\r\n"
		     "\"'@SUM(A1)\",5,true\r\n"
		     ",,\r\n");
}

TEST(csv_integers_at_the_limits)
{
	const struct cell rows[][3] = {
	    {{{"a"}, 0, 0}, {{NULL}, 0, 0}, {{NULL}, 0, 1}},
	    {{{"b"}, 0, 0}, {{NULL}, INT64_MAX, 0}, {{NULL}, 0, 1}},
	    {{{"c"}, 0, 0}, {{NULL}, INT64_MIN, 0}, {{NULL}, 0, 1}},
	    {{{"d"}, 0, 0}, {{NULL}, 1000000007, 0}, {{NULL}, 0, 1}},
	};
	char *t = render(&output_csv, rows, 4);

	CHECK_STR(t, "name,n,ok\r\n"
		     "a,0,\r\n"
		     "b,9223372036854775807,\r\n"
		     "c,-9223372036854775808,\r\n"
		     "d,1000000007,\r\n");
}

TEST(json_escaping)
{
	const struct cell rows[][3] = {
	    {{{"quote \" back \\ nl \n \xc3\xa9"}, 0, 0}, {{NULL}, 7, 0},
		{{NULL}, 1, 0}},
	    {{{NULL}, 0, 0}, {{NULL}, 0, 1}, {{NULL}, 0, 1}},
	};
	char *t = render(&output_json, rows, 2);

	CHECK_STR(t, "[\n{\"name\":\"quote \\\" back \\\\ nl \\n \xc3\xa9\","
		     "\"n\":7,\"ok\":true},\n"
		     "{\"name\":null,\"n\":null,\"ok\":null}\n]\n");
	t = render(&output_json, rows, 0);
	CHECK_STR(t, "[]\n");
}

TEST(table_alignment_and_width)
{
	char longname[300];
	struct cell rows[2][3] = {
	    {{{"short"}, 0, 0}, {{NULL}, 5, 0}, {{NULL}, 1, 0}},
	    {{{longname}, 0, 0}, {{NULL}, 12345, 0}, {{NULL}, 0, 0}},
	};
	char *t, *line;
	size_t w;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	setenv("COLUMNS", "100", 1); /* not a terminal: no limit otherwise */
	t = render(&output_table, (const struct cell(*)[3])rows, 2);
	/* every line fits in 100 columns; numbers right-aligned */
	for (line = strtok(t, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		w = strlen(line);
		CHECK(w <= 100);
		if (strncmp(line, "short", 5) == 0)
			CHECK_CONTAINS(line, "      5  yes");
		if (line[0] == 'x')
			CHECK_CONTAINS(line, "...  12345   no");
	}
}
