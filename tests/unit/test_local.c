/* tests/unit/test_local.c - m365_local_parse (contract.md, "Local lists"). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define SRC "local.list"

static struct m365_local *
parse_ok(const char *text)
{
	struct m365_err err;
	struct m365_local *l;

	memset(&err, 0, sizeof(err));
	l = m365_local_parse(text, strlen(text), SRC, &err);
	if (l == NULL)
		fail_msg("refused: %s", err.msg);
	return l;
}

/* buf[0..len) must be refused with a message starting "local.list:LINE:". */
static void
assert_refused_at(const char *buf, size_t len, unsigned line)
{
	struct m365_err err;
	struct m365_local *l;
	char prefix[64];

	memset(&err, 0, sizeof(err));
	l = m365_local_parse(buf, len, SRC, &err);
	if (l != NULL) {
		m365_local_free(l);
		fail_msg("accepted: \"%s\"", buf);
	}
	snprintf(prefix, sizeof(prefix), "%s:%u:", SRC, line);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err.msg,
		         prefix);
	if (strlen(err.msg) <= strlen(prefix) + 1)
		fail_msg("message \"%s\" has no reason", err.msg);
}

static void
assert_refused(const char *text, unsigned line)
{
	assert_refused_at(text, strlen(text), line);
}

static const char contract_example[] =
    "bypass  *.zoom.us               # extra names, same glob rules\n"
    "bypass  203.0.113.0/24          # extra ranges\n"
    "bypass  re:^meet[0-9]+\\.example\\.net$   # PCRE2, matched against the "
    "normalised host\n"
    "never   teams.microsoft.com     # never a bypass, whatever Microsoft's "
    "list says\n";

TEST(test_contract_example_parses_into_four_rules)
{
	struct m365_local *l = parse_ok(contract_example);
	const struct m365_rule *r = l->rules;
	static const uint8_t net[4] = {203, 0, 113, 0};

	assert_string_equal(l->source, SRC);
	assert_int_equal(l->n_rules, 4);
	assert_int_equal(r[0].verb, M365_VERB_BYPASS);
	assert_int_equal(r[0].kind, M365_RULE_GLOB);
	assert_int_equal(r[0].line, 1);
	assert_string_equal(r[0].glob, "*.zoom.us");
	assert_string_equal(r[0].text, "*.zoom.us");

	assert_int_equal(r[1].verb, M365_VERB_BYPASS);
	assert_int_equal(r[1].kind, M365_RULE_CIDR);
	assert_int_equal(r[1].line, 2);
	assert_int_equal(m365_rule_family(&r[1]), AF_INET);
	assert_int_equal(r[1].plen, 24);
	assert_memory_equal(r[1].addr, net, 4);

	assert_int_equal(r[2].verb, M365_VERB_BYPASS);
	assert_int_equal(r[2].kind, M365_RULE_REGEX);
	assert_int_equal(r[2].line, 3);
	assert_non_null(r[2].re);
	assert_string_equal(r[2].text, "re:^meet[0-9]+\\.example\\.net$");

	assert_int_equal(r[3].verb, M365_VERB_NEVER);
	assert_int_equal(r[3].kind, M365_RULE_GLOB);
	assert_int_equal(r[3].line, 4);
	assert_string_equal(r[3].glob, "teams.microsoft.com");
	m365_local_free(l);
}

TEST(test_comments_and_blank_lines_are_skipped_but_counted)
{
	struct m365_local *l = parse_ok("# header comment\n"
	                                "\n"
	                                "   \n"
	                                "\t# indented comment\n"
	                                "bypass a.example.com\n"
	                                "\n"
	                                "never b.example.com # trailing\n");

	assert_int_equal(l->n_rules, 2);
	assert_int_equal(l->rules[0].line, 5);
	assert_string_equal(l->rules[0].glob, "a.example.com");
	assert_int_equal(l->rules[1].line, 7);
	assert_int_equal(l->rules[1].verb, M365_VERB_NEVER);
	assert_string_equal(l->rules[1].glob, "b.example.com");
	m365_local_free(l);
}

TEST(test_crlf_line_endings_are_accepted)
{
	struct m365_local *l =
	    parse_ok("bypass a.example.com\r\n# c\r\nnever 192.0.2.0/24\r\n");

	assert_int_equal(l->n_rules, 2);
	assert_string_equal(l->rules[0].glob, "a.example.com");
	assert_string_equal(l->rules[0].text, "a.example.com");
	assert_int_equal(l->rules[1].kind, M365_RULE_CIDR);
	assert_int_equal(l->rules[1].plen, 24);
	assert_int_equal(l->rules[1].line, 3);
	m365_local_free(l);
}

TEST(test_tabs_separate_tokens)
{
	struct m365_local *l = parse_ok("bypass\t*.zoom.us\t# zoom\n"
	                                "never\t\tteams.microsoft.com\n");

	assert_int_equal(l->n_rules, 2);
	assert_string_equal(l->rules[0].glob, "*.zoom.us");
	assert_string_equal(l->rules[1].glob, "teams.microsoft.com");
	m365_local_free(l);
}

TEST(test_last_line_without_newline_is_a_rule)
{
	struct m365_local *l =
	    parse_ok("bypass a.example.com\nnever b.example.com");

	assert_int_equal(l->n_rules, 2);
	assert_string_equal(l->rules[1].glob, "b.example.com");
	m365_local_free(l);
}

TEST(test_glob_is_lowercased)
{
	struct m365_local *l = parse_ok("bypass *.Zoom.US\n");

	assert_string_equal(l->rules[0].glob, "*.zoom.us");
	m365_local_free(l);
}

TEST(test_ipv6_cidr_rule_is_parsed)
{
	struct m365_local *l = parse_ok("never 2001:db8::/32\n");
	static const uint8_t net[16] = {0x20, 0x01, 0x0d, 0xb8};

	assert_int_equal(l->rules[0].kind, M365_RULE_CIDR);
	assert_int_equal(m365_rule_family(&l->rules[0]), AF_INET6);
	assert_int_equal(l->rules[0].plen, 32);
	assert_memory_equal(l->rules[0].addr, net, 16);
	m365_local_free(l);
}

TEST(test_empty_buffer_is_a_list_without_rules)
{
	struct m365_err err;
	struct m365_local *l = m365_local_parse("", 0, SRC, &err);

	assert_non_null(l);
	assert_int_equal(l->n_rules, 0);
	m365_local_free(l);
}

TEST(test_comments_only_is_a_list_without_rules)
{
	struct m365_local *l = parse_ok("# nothing yet\n\n# still nothing\n");

	assert_int_equal(l->n_rules, 0);
	m365_local_free(l);
}

TEST(test_unknown_verb_is_refused_with_line)
{
	assert_refused("bypass a.example.com\nallow b.example.com\n", 2);
	assert_refused("# c\n\nbypas a.example.com\n", 3);
}

TEST(test_missing_pattern_is_refused)
{
	assert_refused("bypass\n", 1);
	assert_refused("bypass a.example.com\nnever   # nothing\n", 2);
}

TEST(test_extra_token_is_refused)
{
	assert_refused("bypass a.example.com b.example.com\n", 1);
}

TEST(test_invalid_cidr_is_refused)
{
	assert_refused("bypass 203.0.113.0/33\n", 1);
	assert_refused("\nnever 2001:db8::/129\n", 2);
	assert_refused("bypass 203.0.113.0/\n", 1);
}

TEST(test_prefix_length_with_leading_zero_is_refused)
{
	/* never rules: pure CIDR syntax, whatever the breadth */
	assert_refused("never 10.0.0.0/008\n", 1);
	assert_refused("never 10.0.0.0/0024\n", 1);
	assert_refused("never a.example.org\nnever 10.0.0.0/08\n", 2);
	assert_refused("never 2001:db8::/032\n", 1);
	assert_refused("never 10.0.0.0/-8\n", 1);
	assert_refused("never 10.0.0.0/+8\n", 1);
	assert_refused("bypass 203.0.113.0/024\n", 1);
}

TEST(test_prefix_lengths_without_leading_zero_are_accepted)
{
	struct m365_local *l = parse_ok("never 10.0.0.0/8\n"
	                                "never 0.0.0.0/0\n"
	                                "never 2001:db8::/32\n"
	                                "never 192.0.2.1\n"
	                                "bypass 203.0.113.0/24\n");

	assert_int_equal(l->n_rules, 5);
	assert_int_equal(l->rules[0].plen, 8);
	assert_int_equal(l->rules[1].plen, 0);
	assert_int_equal(l->rules[2].plen, 32);
	assert_int_equal(l->rules[3].plen, 32);
	assert_int_equal(l->rules[4].plen, 24);
	m365_local_free(l);
}

TEST(test_broad_bypass_rule_is_refused_but_never_rule_is_not)
{
	struct m365_local *l = parse_ok("never 10.0.0.0/8\nnever *.com\n");

	m365_local_free(l);
	assert_refused("bypass 10.0.0.0/8\n", 1);
	assert_refused("never 10.0.0.0/8\nbypass *.com\n", 2);
	assert_refused("bypass a.example.org\n\nbypass re:.*\n", 3);
}

TEST(test_regex_pcre2_rejects_is_refused)
{
	assert_refused("bypass a.example.com\nbypass re:([\n", 2);
	assert_refused("never re:a{2,1}\n", 1);
}

TEST(test_empty_regex_is_refused)
{
	assert_refused("bypass re:\n", 1);
}

TEST(test_nul_byte_in_line_is_refused)
{
	static const char buf[] =
	    "bypass a.example.com\nbypass b.exa\0mple.com\n";

	assert_refused_at(buf, sizeof(buf) - 1, 2);
}

TEST(test_one_bad_line_refuses_the_whole_file)
{
	static const char text[] =
	    "bypass a.example.com\nfoo\nbypass b.example.com\n";
	struct m365_err err;

	assert_null(m365_local_parse(text, sizeof(text) - 1, SRC, &err));
	assert_non_null(strstr(err.msg, SRC ":2:"));
	assert_null(m365_local_parse("foo\n", 4, SRC, NULL)); /* err optional */
}

TEST(test_missing_file_error_names_it)
{
	struct m365_err err;

	assert_null(m365_local_load_file("tests/fixtures/no-such.list", &err));
	assert_non_null(strstr(err.msg, "no-such.list"));
	m365_local_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contract_example_parses_into_four_rules),
	    cmocka_unit_test(
	        test_comments_and_blank_lines_are_skipped_but_counted),
	    cmocka_unit_test(test_crlf_line_endings_are_accepted),
	    cmocka_unit_test(test_tabs_separate_tokens),
	    cmocka_unit_test(test_last_line_without_newline_is_a_rule),
	    cmocka_unit_test(test_glob_is_lowercased),
	    cmocka_unit_test(test_ipv6_cidr_rule_is_parsed),
	    cmocka_unit_test(test_empty_buffer_is_a_list_without_rules),
	    cmocka_unit_test(test_comments_only_is_a_list_without_rules),
	    cmocka_unit_test(test_unknown_verb_is_refused_with_line),
	    cmocka_unit_test(test_missing_pattern_is_refused),
	    cmocka_unit_test(test_extra_token_is_refused),
	    cmocka_unit_test(test_invalid_cidr_is_refused),
	    cmocka_unit_test(test_prefix_length_with_leading_zero_is_refused),
	    cmocka_unit_test(
	        test_prefix_lengths_without_leading_zero_are_accepted),
	    cmocka_unit_test(
	        test_broad_bypass_rule_is_refused_but_never_rule_is_not),
	    cmocka_unit_test(test_regex_pcre2_rejects_is_refused),
	    cmocka_unit_test(test_empty_regex_is_refused),
	    cmocka_unit_test(test_nul_byte_in_line_is_refused),
	    cmocka_unit_test(test_one_bad_line_refuses_the_whole_file),
	    cmocka_unit_test(test_missing_file_error_names_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
