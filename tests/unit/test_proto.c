/*
 * tests/unit/test_proto.c - splitting a helper request line (proto_parse in
 * helpers/proto.c): fields, channel IDs, quotes and escapes, and the
 * messages of a field that cannot be decoded.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

static char scratch[1024];

/* Parses line (NUL-terminated) into req. */
static void
parse(const char *line, bool concurrency, struct request *req)
{
	size_t len = strlen(line);

	assert_true(len + 4 <= sizeof(scratch));
	memset(req, 0xa5, sizeof(*req));
	proto_parse(line, len, concurrency, req, scratch);
}

static void
assert_field(const char *got, size_t len, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else if (got == NULL)
		fail_msg("field is NULL, want \"%s\"", want);
	else if (len != strlen(want) || memcmp(got, want, len) != 0)
		fail_msg("field is \"%.*s\", want \"%s\"", (int)len, got, want);
}

/* line parses into these fields and bad message. */
static void
expect(const char *line, bool concurrency, const char *dst, const char *port,
       const char *sni, const char *bad)
{
	struct request req;

	parse(line, concurrency, &req);
	assert_field(req.dst, req.dst_len, dst);
	assert_field(req.port, req.port_len, port);
	assert_field(req.sni, req.sni_len, sni);
	if (bad == NULL && req.bad != NULL)
		fail_msg("\"%s\": bad \"%s\"", line, req.bad);
	if (bad != NULL)
		assert_string_equal(req.bad, bad);
}

TEST(test_plain_fields)
{
	expect("teams.microsoft.com 443 teams.microsoft.com", false,
	       "teams.microsoft.com", "443", "teams.microsoft.com", NULL);
	expect("a.example 443", false, "a.example", "443", NULL, NULL);
	expect("a.example", false, "a.example", NULL, NULL, NULL);
	expect("", false, NULL, NULL, NULL, NULL);
	expect("  a.example\t\t80  -  ", false, "a.example", "80", "-", NULL);
	expect("a.example 443 b.example extra tokens", false, "a.example",
	       "443", "b.example", NULL);
	expect("a.example 443\r", false, "a.example", "443", NULL, NULL);
}

TEST(test_channel_id_comes_first_with_concurrency)
{
	struct request req;

	parse("17 a.example 443 -", true, &req);
	assert_int_equal(req.channel_len, 2);
	assert_memory_equal(req.channel, "17", 2);
	assert_field(req.dst, req.dst_len, "a.example");
	assert_field(req.port, req.port_len, "443");
	assert_field(req.sni, req.sni_len, "-");
	assert_null(req.bad);
	parse("a.example 443", false, &req);
	assert_null(req.channel);
}

TEST(test_closed_quotes_hold_spaces_and_escapes)
{
	expect("\"a b\" \"443\" \"c\"", false, "a b", "443", "c", NULL);
	expect("\"\" 443", false, "", "443", NULL, NULL);
	expect("\"a\\\"b\" 1", false, "a\"b", "1", NULL, NULL);
	expect("a\\ b 1", false, "a b", "1", NULL, NULL);
	expect("\"a\\tb\"", false, "a\tb", NULL, NULL, NULL);
	expect("7 \"a.example\" \"443\" \"-\"", true, "a.example", "443", "-",
	       NULL);
}

TEST(test_unterminated_quote_names_its_field)
{
	struct request req;

	expect("\"a.example", false, "a.example", NULL, NULL,
	       "unterminated quote in destination");
	/* the quoted token runs to the end of the line */
	parse("\"a.example 443 b.example", false, &req);
	assert_field(req.dst, req.dst_len, "a.example 443 b.example");
	assert_null(req.port);
	assert_string_equal(req.bad, "unterminated quote in destination");
	expect("\"", false, "", NULL, NULL,
	       "unterminated quote in destination");
	expect("a.example \"443", false, "a.example", "443", NULL,
	       "unterminated quote in port");
	expect("a.example 443 \"b.example", false, "a.example", "443",
	       "b.example", "unterminated quote in SNI");
	expect("a.example 443 \"b.example\r", false, "a.example", "443",
	       "b.example", "unterminated quote in SNI");
	/* an escaped quote does not close */
	expect("\"a.example\\\" 443", false, "a.example\" 443", NULL, NULL,
	       "unterminated quote in destination");
	/* with a channel ID */
	expect("3 a.example \"443", true, "a.example", "443", NULL,
	       "unterminated quote in port");
	/* the first bad field is the one reported */
	expect("\"a.example\" \"443 x", false, "a.example", "443 x", NULL,
	       "unterminated quote in port");
}

TEST(test_nul_byte_makes_the_field_invalid)
{
	static const char line[] = "a.example 4%00 \"b\\0\"";
	struct request req;

	proto_parse("a\0b 443", 7, false, &req, scratch);
	assert_non_null(req.bad);
	assert_string_equal(req.bad, "invalid destination");
	proto_parse("a 4\0 x", 6, false, &req, scratch);
	assert_string_equal(req.bad, "invalid port");
	proto_parse("a 4 x\0y", 7, false, &req, scratch);
	assert_string_equal(req.bad, "invalid SNI");
	/* percent escapes and "\0" are left for the classifier */
	parse(line, false, &req);
	assert_null(req.bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_fields),
	    cmocka_unit_test(test_channel_id_comes_first_with_concurrency),
	    cmocka_unit_test(test_closed_quotes_hold_spaces_and_escapes),
	    cmocka_unit_test(test_unterminated_quote_names_its_field),
	    cmocka_unit_test(test_nul_byte_makes_the_field_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
