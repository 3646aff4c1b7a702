/*
 * test_inert.c - the terminal escaper (common/inert.h), the logger and the
 * table and prose writers that use it (issue 17: output that cannot be
 * forged by a report's values or a file name).
 */
#include "check.h"
#include "inert.h"
#include "log.h"
#include "output.h"

static char *
esc(const char *s)
{
	return test_track(inert_dup(s));
}

TEST(plain_text_and_utf8_are_copied)
{
	CHECK_STR(esc("example.com"), "example.com");
	CHECK_STR(esc(""), "");
	CHECK_STR(esc("b\xc3\xbc" "cher.example \xe4\xbe\x8b"),
	    "b\xc3\xbc" "cher.example \xe4\xbe\x8b");
	CHECK_STR(esc("a\\nb"), "a\\nb"); /* a backslash stays itself */
	CHECK_INT(inert_is_clean("Yahoo! Inc.", 11), 1);
}

TEST(c0_controls_and_del_are_shown)
{
	CHECK_STR(esc("evil.example\nFORGED  row"),
	    "evil.example\\nFORGED  row");
	CHECK_STR(esc("a\rb\tc"), "a\\rb\\tc");
	CHECK_STR(esc("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
	CHECK_STR(esc("del\x7f" "x\x01"), "del\\x7fx\\x01");
	CHECK_INT(inert_is_clean("a\nb", 3), 0);
}

TEST(c1_and_bidi_are_shown)
{
	/* U+009B (CSI as C1), U+0085 (NEL) */
	CHECK_STR(esc("x\xc2\x9b" "31m\xc2\x85y"), "x\\u009b31m\\u0085y");
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI, U+2069 PDI */
	CHECK_STR(esc("moc.elpmaxe\xe2\x80\xae"), "moc.elpmaxe\\u202e");
	CHECK_STR(esc("\xe2\x81\xa6" "a\xe2\x81\xa9"), "\\u2066a\\u2069");
	/* U+200F RLM, U+2028 LINE SEPARATOR */
	CHECK_STR(esc("a\xe2\x80\x8f" "b\xe2\x80\xa8"), "a\\u200fb\\u2028");
	/* U+00A0 and U+2030 are ordinary */
	CHECK_STR(esc("\xc2\xa0\xe2\x80\xb0"), "\xc2\xa0\xe2\x80\xb0");
}

TEST(invalid_utf8_is_shown_byte_by_byte)
{
	CHECK_STR(esc("a\xff" "b"), "a\\xffb");
	CHECK_STR(esc("\xc0\xaf"), "\\xc0\\xaf");             /* overlong */
	CHECK_STR(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");    /* surrogate */
	CHECK_STR(esc("cut \xe2\x80"), "cut \\xe2\\x80");     /* cut short */
	CHECK_STR(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
}

TEST(copy_is_cut_at_unit_boundaries)
{
	char out[8];

	/* "ab\x1b" is 6 characters escaped: fits in 8 with the NUL */
	CHECK_INT(inert_copy(out, sizeof(out), "ab\x1b", 3), 6);
	CHECK_STR(out, "ab\\x1b");
	/* an escape that does not fit is left out whole, and so is the
	 * rest */
	CHECK_INT(inert_copy(out, sizeof(out), "abcdef\ny", 8), 9);
	CHECK_STR(out, "abcdef");
	CHECK_INT(inert_copy(out, 1, "abc", 3), 3);
	CHECK_STR(out, "");
}

TEST(log_lines_are_inert)
{
	struct logger lg;
	char *text = NULL;
	size_t len = 0;

	log_init(&lg, "dmarc-ingest", LOG_VERBOSE);
	lg.out = open_memstream(&text, &len);
	log_warn(&lg, "%s: not a regular file, skipped",
	    "dir/x\x1b[2K\rstored\nevil\xe2\x80\xae.xml");
	log_info(&lg, "stored    %s", "org\nname");
	fclose(lg.out);
	test_track(text);
	CHECK_STR(text, "dmarc-ingest: warning: dir/x\\x1b[2K\\rstored\\nevil"
			"\\u202e.xml: not a regular file, skipped\n"
			"stored    org\\nname\n");
}

static const struct column cols[] = {
    {"org", "ORG", COL_TEXT, 1},
    {"n", "N", COL_INT, 0},
};

static char *
table(const struct output_ops *ops, const char *value)
{
	struct output o;
	struct cell c[2] = {{{value}, 0, 0}, {{NULL}, 7, 0}};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_INT(output_begin(&o, ops, f, cols, 2), 0);
	CHECK_INT(output_row(&o, c), 0);
	CHECK_INT(output_end(&o), 0);
	fclose(f);
	return test_track(text);
}

TEST(table_cells_are_inert_csv_and_json_keep_bytes)
{
	const char *v = "a\nb\t\x1b\xc2\x9b\xe2\x80\xae";

	CHECK_STR(table(&output_table, v), "ORG                     N\n"
					   "a\\nb\\t\\x1b\\u009b\\u202e  7\n");
	CHECK_STR(table(&output_csv, v),
	    "org,n\r\n\"a\nb\t\x1b\xc2\x9b\xe2\x80\xae\",7\r\n");
	CHECK_STR(table(&output_json, v),
	    "[\n{\"org\":\"a\\nb\\t\\u001B\xc2\x9b\xe2\x80\xae\",\"n\":7}\n]\n");
}

TEST(prose_is_inert)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	output_text(f, 0, "", "", "example.com: p=none\nForged: ready.", 100);
	fclose(f);
	test_track(text);
	CHECK_STR(text, "example.com: p=none\\nForged: ready.\n");
}
