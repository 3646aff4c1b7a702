/*
 * test_imap_guard.c - how the IMAP guard (imap-guard.h) reads the
 * literals a server announces: every "{N}" libetpan would allocate must
 * be checked before libetpan sees it, wherever it stands in the line, and
 * only the one that ends a line starts a literal whose bytes are skipped.
 *
 * The server's bytes are fed through imap_guard_account() in pieces of
 * every size from 1 byte to the whole, as a socket may cut them.
 */
#include "check.h"

#include <string.h>

#include "imap-guard.h"

#define MAX_RESPONSE 16384

/* Feeds s in pieces of `piece` bytes; returns what the last call
 * returned, and the guard's state is left in *g. */
static int
feed(struct imap_guard *g, const char *s, size_t piece)
{
	size_t len = strlen(s), off, k;
	int r = 0;

	imap_guard_init(g, 30, MAX_RESPONSE);
	for (off = 0; off < len && r == 0; off += k) {
		k = len - off < piece ? len - off : piece;
		r = imap_guard_account(g, s + off, k);
	}
	return r;
}

static int
account(struct imap_guard *g, const char *s)
{
	return imap_guard_account(g, s, strlen(s));
}

/* 1 when every way of cutting s trips the guard on a literal of `size`. */
static int
refused(const char *s, uint64_t size)
{
	struct imap_guard g;
	size_t piece;

	for (piece = 1; piece <= strlen(s); piece++)
		if (feed(&g, s, piece) != -1 || g.trip != GUARD_LITERAL ||
		    g.trip_value != size)
			return 0;
	return 1;
}

/* 1 when every way of cutting s passes, with `left` literal bytes still
 * expected at the end. */
static int
passes(const char *s, uint64_t left)
{
	struct imap_guard g;
	size_t piece;

	for (piece = 1; piece <= strlen(s); piece++)
		if (feed(&g, s, piece) != 0 || g.trip != GUARD_OK ||
		    g.literal_left != left)
			return 0;
	return 1;
}

TEST(literal_at_the_end_of_a_line)
{
	CHECK(refused("* LIST () \"/\" {4294967000}\r\n", 4294967000u));
	CHECK(refused("* LIST () \"/\" {4294967000}\n", 4294967000u));
	CHECK(passes("* LIST () \"/\" {5}\r\n", 5));
}

/* libetpan's CRLF lets blanks come first: "{N} \r\n" is a literal to it
 * (fuzz_imap: the guard let it through and libetpan allocated 4 GiB). */
TEST(literal_followed_by_blanks)
{
	CHECK(refused("* 1 FETCH (BODY[] {4294967000} \r\n", 4294967000u));
	CHECK(refused("* 1 FETCH (BODY[] {4294967000}\t \n", 4294967000u));
	CHECK(passes("* 1 FETCH (BODY[] {7} \r\n", 7));
	CHECK(passes("* 1 FETCH (BODY[] {7}\t\n", 7));
}

/* libetpan allocates as soon as it has read the "}", before it fails on
 * what follows: a "{N}" inside a line is checked too, and is no literal. */
TEST(literal_size_inside_a_line)
{
	CHECK(refused("* 1 FETCH (BODY[] {4294967000}x\r\n", 4294967000u));
	CHECK(refused("* 1 FETCH (BODY[] {4294967000}\rx\r\n", 4294967000u));
	CHECK(refused("* CAPABILITY {33333333333333333332000} IMAP4\r\n",
	              UINT64_MAX));
	CHECK(passes("* 1 FETCH (BODY[] {7}x\r\n", 0));
	CHECK(passes("* 1 FETCH (BODY[] {7}\r\r\n", 0));
	CHECK(passes("* OK [ALERT] {7} and more\r\n", 0));
}

/* Blanks around the digits and zeros in front: libetpan reads them all. */
TEST(literal_size_padded)
{
	CHECK(refused("* LIST () \"/\" { 4294967000 }\r\n", 4294967000u));
	CHECK(refused("* LIST () \"/\" {4294967000+}\r\n", 4294967000u));
	CHECK(refused("* LIST () \"/\" {00000000000000000000000000000000000"
	              "00000000314572800}\r\n",
	              314572800u));
	CHECK(passes("* LIST () \"/\" { 12 }\r\n", 12));
	CHECK(passes("* LIST () \"/\" {0000000000000000000000000000012}\r\n",
	             12));
}

/* What is no size at all is left to libetpan's parser. */
TEST(not_a_literal)
{
	CHECK(passes("* OK {} {x} {1 2} {+1} {12\r\n", 0));
	CHECK(passes("* OK {4294967000\r\n", 0));
}

/* A literal's bytes are skipped, a "{N}" in them included; the line after
 * it is read again. */
TEST(literal_bytes_are_not_lines)
{
	CHECK(passes("* LIST () \"/\" {16}\r\n{4294967000}\r\n\r\n)\r\n", 0));
	CHECK(
	    refused("* LIST () \"/\" {2}\r\nab {4294967000}\r\n", 4294967000u));
}

/* A command written in the middle of a line does not cut the stream:
 * libetpan may already hold the start of the next answer (fuzz_imap: a
 * "{N}" begun in the greeting's last read went unchecked). */
TEST(new_window_keeps_the_line)
{
	struct imap_guard g;

	imap_guard_init(&g, 30, MAX_RESPONSE);
	CHECK(account(&g, "* OK hi\r\n* 1 FETCH (BODY[] {42949") == 0);
	imap_guard_start(&g);
	CHECK(g.used == 0);
	CHECK(account(&g, "67000}\r\n") == -1);
	CHECK(g.trip == GUARD_LITERAL && g.trip_value == 4294967000u);

	imap_guard_init(&g, 30, MAX_RESPONSE);
	CHECK(account(&g, "* 1 FETCH (BODY[] {12}\r\nabc") == 0);
	imap_guard_start(&g);
	CHECK(account(&g, "{4294967000}\r\n") == 0);
	CHECK(g.trip == GUARD_OK && g.literal_left == 0);
}

/* 1 when every way of cutting s trips the guard with `want`. */
static int
trips_as(const char *s, enum guard_trip want)
{
	struct imap_guard g;
	size_t piece;

	for (piece = 1; piece <= strlen(s); piece++)
		if (feed(&g, s, piece) != -1 || g.trip != want)
			return 0;
	return 1;
}

/* 1 when every way of cutting s trips the guard on an empty capability
 * list. */
static int
empty_list(const char *s)
{
	return trips_as(s, GUARD_CAPABILITY);
}

/* libetpan 1.9.4 keeps a capability list that lists nothing as no list
 * and reads through NULL (fuzz_imap): refused before it parses one. */
TEST(capability_list_that_lists_nothing)
{
	char why[256];
	struct imap_guard g;

	CHECK(empty_list("* CAPABILITY\r\n"));
	CHECK(empty_list("* CAPABILITY \r\n"));
	CHECK(empty_list("* capability\t \r\n"));
	CHECK(empty_list("* OK [CAPABILITY ]1rv eady\r\n"));
	CHECK(empty_list("* OK [CAPABILITY] ready\r\n"));
	CHECK(empty_list("a1 OK [Capability  ] done\r\n"));
	CHECK(empty_list("* OK fine\r\n* CAPABILITY\n"));
	CHECK(passes("* CAPABILITY IMAP4rev1 MOVE\r\n", 0));
	CHECK(passes("* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n", 0));
	CHECK(passes("* CAPABILITYX\r\n* NO CAPABILITY\r\n", 0));
	CHECK(passes("a2 OK CAPABILITY\r\n", 0));
	CHECK(passes("* LIST () \"/\" \"CAPABILITY\"\r\n", 0));
	/* a message body is not read for it */
	CHECK(passes("* 1 FETCH (BODY[] {14}\r\n* CAPABILITY\r\n)\r\n", 0));
	CHECK(feed(&g, "* CAPABILITY\r\n", 3) == -1);
	CHECK(imap_guard_explain(&g, why, sizeof(why)) == 1);
	CHECK(strstr(why, "capability list that lists nothing") != NULL);
}

/* libetpan 1.9.4 reads through NULL parsing a BADCHARSET list in a
 * greeting (fuzz_imap): refused wherever it comes, since dmarc-ingest
 * never names a charset, the one thing a server sends it for. */
TEST(badcharset_list)
{
	struct imap_guard g;
	char why[200];

	CHECK(
	    trips_as("* OK [BADCHARSET (UTF-8)] ready\r\n", GUARD_BADCHARSET));
	CHECK(trips_as("* OK [badcharset\t(\\N) \"\" \"\"\r\n",
	               GUARD_BADCHARSET));
	CHECK(trips_as("* OK [BADCHARSET ()]\r\n", GUARD_BADCHARSET));
	CHECK(
	    trips_as("a3 NO [BADCHARSET (US-ASCII)] no\r\n", GUARD_BADCHARSET));
	/* without a list libetpan reads it, and other words are not it */
	CHECK(passes("* OK [BADCHARSET] ready\r\n", 0));
	CHECK(passes("* OK [BADCHARSETS (x)] ready\r\n", 0));
	CHECK(passes("* OK BADCHARSET (x)\r\n", 0));
	CHECK(passes("* OK [ALERT] [BADCHARSE (x)\r\n", 0));
	/* inside a message it is the message's */
	CHECK(passes("* 1 FETCH (BODY[] {23}\r\n* OK [BADCHARSET (x)]\r\n)\r\n",
	             0));
	CHECK(feed(&g, "* OK [BADCHARSET (UTF-8)]\r\n", 5) == -1);
	CHECK(imap_guard_explain(&g, why, sizeof(why)) == 1);
	CHECK(strstr(why, "BADCHARSET list of charsets") != NULL);
}
