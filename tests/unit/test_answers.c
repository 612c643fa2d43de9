/*
 * tests/unit/test_answers.c - a verdict's annotations (m365_verdict_notes)
 * and how each front end writes them: Squid's key=value pairs with its
 * quoting (helpers/squid_answer.c) and the ICAP X-M365-* and
 * X-Next-Services headers (icap/icap_headers.c); the error convention.
 */
#include <string.h>

#include "icap_headers.h"
#include "squid_answer.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

static struct m365_list *ww;

static int
setup(void **state)
{
	struct m365_options o = {0};
	struct m365_err err;

	(void)state;
	ww = m365_list_load(&o, &err);
	return ww == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	m365_list_unref(ww);
	return 0;
}

/* The Squid answer for one request. */
static const char *
squid(const char *dst, const char *port, const char *message, char *buf,
      size_t len)
{
	struct m365_verdict v;

	m365_classify(ww, dst, port, NULL, &v);
	if (squid_answer_format(&v, message, buf, len) < 0)
		fail_msg("%s %s: answer does not fit", dst, port);
	return buf;
}

/* squid_quote() of value must read want. */
static void
quoted(const char *value, const char *want)
{
	char buf[128];

	assert_int_equal(squid_quote(value, buf, sizeof(buf)),
	                 (int)strlen(want));
	assert_string_equal(buf, want);
}

TEST(test_ok_notes_are_category_service_and_set_in_that_order)
{
	struct m365_note n[M365_NOTES_MAX];
	struct m365_verdict v;

	m365_classify(ww, "teams.microsoft.com", "443", NULL, &v);
	assert_int_equal(m365_verdict_notes(&v, NULL, n), 3);
	assert_string_equal(n[0].key, "m365_category");
	assert_string_equal(n[0].value, "Allow");
	assert_string_equal(n[1].key, "m365_service");
	assert_string_equal(n[1].value, "Skype");
	assert_string_equal(n[2].key, "m365_set");
	assert_string_equal(n[2].value, "12");
}

TEST(test_err_notes_carry_an_unselected_category_and_the_message)
{
	struct m365_note n[M365_NOTES_MAX];
	struct m365_verdict v;

	m365_classify(ww, "www.office.com", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(m365_verdict_notes(&v, NULL, n), 1);
	assert_string_equal(n[0].key, "m365_category");
	assert_string_equal(n[0].value, "Default");
	m365_classify(ww, "bad..name", "443", NULL, &v);
	assert_int_equal(m365_verdict_notes(&v, NULL, n), 1);
	assert_string_equal(n[0].key, "message");
	assert_string_equal(n[0].value, "invalid destination");
	/* a message of the front end's own replaces the verdict's */
	assert_int_equal(m365_verdict_notes(&v, "line too long", n), 1);
	assert_string_equal(n[0].value, "line too long");
}

TEST(test_squid_answer_lines_are_byte_exact)
{
	char buf[SQUID_ANSWER_MAX];

	assert_string_equal(
	    squid("teams.microsoft.com", "443", NULL, buf, sizeof(buf)),
	    "OK m365_category=Allow m365_service=Skype "
	    "m365_set=12");
	assert_string_equal(
	    squid("www.example.com", "443", NULL, buf, sizeof(buf)), "ERR");
	assert_string_equal(
	    squid("www.office.com", "443", NULL, buf, sizeof(buf)),
	    "ERR m365_category=Default");
	assert_string_equal(squid("-", NULL, NULL, buf, sizeof(buf)),
	                    "ERR message=\"missing destination\"");
	assert_string_equal(squid("a", "0443x", NULL, buf, sizeof(buf)),
	                    "ERR message=\"invalid port\"");
	assert_string_equal(squid("a", "", NULL, buf, sizeof(buf)),
	                    "ERR message=\"invalid port\"");
	assert_string_equal(squid("a", "%2d", NULL, buf, sizeof(buf)),
	                    "ERR message=\"invalid port\"");
	assert_string_equal(squid("a", "+443", NULL, buf, sizeof(buf)),
	                    "ERR message=\"invalid port\"");
	assert_string_equal(
	    squid("teams.microsoft.com", "-", NULL, buf, sizeof(buf)),
	    "OK m365_category=Allow m365_service=Skype m365_set=12");
}

TEST(test_squid_answer_refuses_a_buffer_too_small)
{
	struct m365_verdict v;
	char buf[16];

	m365_classify(ww, "teams.microsoft.com", "443", NULL, &v);
	assert_int_equal(squid_answer_format(&v, NULL, buf, sizeof(buf)), -1);
	assert_int_equal(squid_answer_format(&v, NULL, buf, 2), -1);
}

TEST(test_squid_values_of_token_characters_are_not_quoted)
{
	quoted("Allow", "Allow");
	quoted("a.b_c-9", "a.b_c-9");
}

TEST(test_squid_values_with_spaces_quotes_and_backslashes_are_quoted)
{
	quoted("no list loaded", "\"no list loaded\"");
	quoted("say \"hi\"", "\"say \\\"hi\\\"\"");
	quoted("a\\b", "\"a\\\\b\"");
	quoted("", "\"\"");
}

TEST(test_squid_values_never_break_the_line)
{
	quoted("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
	quoted("bell\a", "\"bell?\"");
}

TEST(test_squid_quote_refuses_a_buffer_too_small)
{
	char buf[4];

	assert_int_equal(squid_quote("Allow", buf, sizeof(buf)), -1);
	assert_int_equal(squid_quote("a b", buf, sizeof(buf)), -1);
	assert_int_equal(squid_quote("ab", buf, sizeof(buf)), 2);
}

TEST(test_icap_headers_name_each_note)
{
	struct m365_note n[M365_NOTES_MAX];
	struct m365_verdict v;
	char line[ICAP_HEADER_MAX];

	m365_classify(ww, "outlook.office365.com", "443", NULL, &v);
	assert_int_equal(m365_verdict_notes(&v, NULL, n), 3);
	assert_int_equal(icap_note_header(&n[0], line, sizeof(line)), 25);
	assert_string_equal(line, "X-M365-Category: Optimize");
	icap_note_header(&n[1], line, sizeof(line));
	assert_string_equal(line, "X-M365-Service: Exchange");
	icap_note_header(&n[2], line, sizeof(line));
	assert_string_equal(line, "X-M365-Set: 1");
}

TEST(test_icap_header_values_cannot_add_a_header)
{
	struct m365_note n = {"m365_service", "x\r\nX-Evil: 1"};
	char line[ICAP_HEADER_MAX];

	assert_true(icap_note_header(&n, line, sizeof(line)) > 0);
	assert_string_equal(line, "X-M365-Service: x??X-Evil: 1");
	n.value = "caf\xc3\xa9";
	icap_note_header(&n, line, sizeof(line));
	assert_string_equal(line, "X-M365-Service: caf??");
}

TEST(test_icap_message_note_has_no_header)
{
	struct m365_note n = {"message", "no list loaded"};
	char line[ICAP_HEADER_MAX];

	assert_int_equal(icap_note_header(&n, line, sizeof(line)), 0);
}

TEST(test_icap_header_refuses_a_buffer_too_small)
{
	struct m365_note n = {"m365_category", "Optimize"};
	char line[20];

	assert_int_equal(icap_note_header(&n, line, sizeof(line)), -1);
}

TEST(test_next_services_empty_ends_the_chain)
{
	char line[ICAP_HEADER_MAX];

	assert_int_equal(icap_next_services_header(NULL, line, sizeof(line)),
	                 16);
	assert_string_equal(line, "X-Next-Services:");
	icap_next_services_header("", line, sizeof(line));
	assert_string_equal(line, "X-Next-Services:");
	icap_next_services_header("av, dlp", line, sizeof(line));
	assert_string_equal(line, "X-Next-Services: av, dlp");
	assert_int_equal(
	    icap_next_services_header("a\r\nb", line, sizeof(line)), -1);
}

TEST(test_service_lists_are_checked_and_made_canonical)
{
	const char *one[] = {"av,dlp"};
	const char *two[] = {"av,", "dlp"};
	const char *bad[] = {"av;dlp"};
	const char *spaced[] = {"av", "dlp"};
	const char *empty[] = {" , "};
	char buf[ICAP_HEADER_MAX];
	struct m365_err err;

	assert_int_equal(icap_service_list(one, 1, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "av, dlp");
	assert_int_equal(icap_service_list(two, 2, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "av, dlp");
	assert_int_equal(icap_service_list(bad, 1, buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, M365_E_INPUT);
	assert_non_null(strstr(err.msg, "av;dlp"));
	assert_int_equal(icap_service_list(spaced, 2, buf, sizeof(buf), &err),
	                 -1);
	assert_int_equal(icap_service_list(empty, 1, buf, sizeof(buf), &err),
	                 -1);
	assert_int_equal(icap_service_list(NULL, 0, buf, sizeof(buf), &err),
	                 -1);
}

TEST(test_errors_carry_a_code_and_take_a_context)
{
	struct m365_err err;

	assert_int_equal(m365_err_set(&err, M365_E_REDIS, "lost %s", "link"),
	                 -1);
	assert_int_equal(err.code, M365_E_REDIS);
	assert_string_equal(err.msg, "lost link");
	assert_int_equal(m365_err_prefix(&err, "redis %s", "10.0.0.5"), -1);
	assert_int_equal(err.code, M365_E_REDIS);
	assert_string_equal(err.msg, "redis 10.0.0.5: lost link");
	assert_int_equal(m365_err_set(NULL, M365_E_IO, "x"), -1);
	assert_int_equal(m365_err_prefix(NULL, "x"), -1);
	assert_string_equal(m365_err_code_name(M365_E_REFUSED), "refused");
}

TEST(test_error_context_is_truncated_not_overflowed)
{
	struct m365_err err;
	char big[2 * M365_ERR_MAX];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	m365_err_set(&err, M365_E_INPUT, "%s", big);
	m365_err_prefix(&err, "%s", "where");
	assert_int_equal(strlen(err.msg), M365_ERR_MAX - 1);
	assert_memory_equal(err.msg, "where: xxx", 10);
	m365_err_prefix(&err, "%s", big);
	assert_int_equal(strlen(err.msg), M365_ERR_MAX - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_ok_notes_are_category_service_and_set_in_that_order),
	    cmocka_unit_test(
	        test_err_notes_carry_an_unselected_category_and_the_message),
	    cmocka_unit_test(test_squid_answer_lines_are_byte_exact),
	    cmocka_unit_test(test_squid_answer_refuses_a_buffer_too_small),
	    cmocka_unit_test(
	        test_squid_values_of_token_characters_are_not_quoted),
	    cmocka_unit_test(
	        test_squid_values_with_spaces_quotes_and_backslashes_are_quoted),
	    cmocka_unit_test(test_squid_values_never_break_the_line),
	    cmocka_unit_test(test_squid_quote_refuses_a_buffer_too_small),
	    cmocka_unit_test(test_icap_headers_name_each_note),
	    cmocka_unit_test(test_icap_header_values_cannot_add_a_header),
	    cmocka_unit_test(test_icap_message_note_has_no_header),
	    cmocka_unit_test(test_icap_header_refuses_a_buffer_too_small),
	    cmocka_unit_test(test_next_services_empty_ends_the_chain),
	    cmocka_unit_test(test_service_lists_are_checked_and_made_canonical),
	    cmocka_unit_test(test_errors_carry_a_code_and_take_a_context),
	    cmocka_unit_test(test_error_context_is_truncated_not_overflowed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
