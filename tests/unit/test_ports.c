/* tests/unit/test_ports.c - m365_ports_parse/contains/format/free. */
#include <string.h>

#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* Parses text, which must succeed, and checks its canonical form. */
static void
assert_canonical(const char *text, const char *want)
{
	struct m365_ports p;
	struct m365_err err = {0};
	char buf[256];

	assert_int_equal(m365_ports_parse(text, &p, &err), 0);
	assert_string_equal(m365_ports_format(&p, buf, sizeof(buf)), want);
	m365_ports_free(&p);
}

/* Parses text, which must fail with a reason and leave the set empty. */
static void
assert_refused(const char *text)
{
	struct m365_ports p;
	struct m365_err err = {0};

	p.n = 77; /* garbage the parser must overwrite */
	p.r = NULL;
	if (m365_ports_parse(text, &p, &err) != -1)
		fail_msg("\"%s\" was accepted", text);
	assert_int_equal(p.n, 0);
	assert_null(p.r);
	if (err.msg[0] == '\0')
		fail_msg("\"%s\" refused without a reason", text);
	assert_int_equal(err.code, M365_E_INPUT);
	m365_ports_free(&p);
}

TEST(test_two_ports_parse_into_two_ranges)
{
	struct m365_ports p;
	struct m365_err err;

	assert_int_equal(m365_ports_parse("80,443", &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.r[0].lo, 80);
	assert_int_equal(p.r[0].hi, 80);
	assert_int_equal(p.r[1].lo, 443);
	assert_int_equal(p.r[1].hi, 443);
	assert_true(m365_ports_contains(&p, 80));
	assert_true(m365_ports_contains(&p, 443));
	assert_false(m365_ports_contains(&p, 81));
	assert_false(m365_ports_contains(&p, 442));
	assert_false(m365_ports_contains(&p, 444));
	assert_false(m365_ports_contains(&p, 8080));
	m365_ports_free(&p);
}

TEST(test_spaces_after_commas_are_allowed)
{
	assert_canonical("80, 443", "80,443");
	assert_canonical("143, 587, 993, 995", "143,587,993,995");
	assert_canonical("3478, 3479, 3480, 3481", "3478-3481");
}

TEST(test_microsoft_mail_ports_with_spaces_are_contained)
{
	struct m365_ports p;
	struct m365_err err;

	assert_int_equal(m365_ports_parse("143, 587, 993, 995", &p, &err), 0);
	assert_true(m365_ports_contains(&p, 143));
	assert_true(m365_ports_contains(&p, 587));
	assert_true(m365_ports_contains(&p, 993));
	assert_true(m365_ports_contains(&p, 995));
	assert_false(m365_ports_contains(&p, 443));
	assert_false(m365_ports_contains(&p, 994));
	m365_ports_free(&p);
}

TEST(test_range_contains_both_ends_and_nothing_outside)
{
	struct m365_ports p;
	struct m365_err err;

	assert_int_equal(m365_ports_parse("3478-3481", &p, &err), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.r[0].lo, 3478);
	assert_int_equal(p.r[0].hi, 3481);
	assert_false(m365_ports_contains(&p, 3477));
	assert_true(m365_ports_contains(&p, 3478));
	assert_true(m365_ports_contains(&p, 3479));
	assert_true(m365_ports_contains(&p, 3481));
	assert_false(m365_ports_contains(&p, 3482));
	m365_ports_free(&p);
}

TEST(test_empty_string_is_the_empty_set)
{
	struct m365_ports p;
	struct m365_err err;
	char buf[32];

	assert_int_equal(m365_ports_parse("", &p, &err), 0);
	assert_int_equal(p.n, 0);
	assert_null(p.r);
	assert_false(m365_ports_contains(&p, 443));
	assert_false(m365_ports_contains(&p, 1));
	assert_string_equal(m365_ports_format(&p, buf, sizeof(buf)), "");
	m365_ports_free(&p);
}

TEST(test_unsorted_ports_are_sorted)
{
	assert_canonical("443,80", "80,443");
	assert_canonical("995,143,587", "143,587,995");
}

TEST(test_duplicates_and_overlaps_are_merged)
{
	assert_canonical("443,80,443", "80,443");
	assert_canonical("1-10,5-20", "1-20");
	assert_canonical("100-200,150", "100-200");
	assert_canonical("3478,3479,3480,3481", "3478-3481");
}

TEST(test_mixed_ports_and_ranges_format_canonically)
{
	assert_canonical("3478-3481,443,80", "80,443,3478-3481");
	assert_canonical("80,443,3478-3481", "80,443,3478-3481");
}

TEST(test_extreme_ports_one_and_65535_are_valid)
{
	struct m365_ports p;
	struct m365_err err;

	assert_int_equal(m365_ports_parse("1,65535", &p, &err), 0);
	assert_true(m365_ports_contains(&p, 1));
	assert_true(m365_ports_contains(&p, 65535));
	assert_false(m365_ports_contains(&p, 0));
	assert_false(m365_ports_contains(&p, 65536));
	m365_ports_free(&p);
	assert_canonical("1-65535", "1-65535");
}

TEST(test_single_port_range_equals_port)
{
	assert_canonical("443-443", "443");
}

TEST(test_port_zero_is_refused)
{
	assert_refused("0");
	assert_refused("80,0");
	assert_refused("0-10");
}

TEST(test_port_above_65535_is_refused)
{
	assert_refused("65536");
	assert_refused("1-65536");
	assert_refused("99999999999999999999999999");
	assert_refused("18446744073709551617");
	assert_refused("4294967377"); /* 65617 modulo 2^32: no wrap-around */
}

TEST(test_non_numeric_port_is_refused)
{
	assert_refused("abc");
	assert_refused("80,abc");
	assert_refused("443x");
	assert_refused("+443");
	assert_refused("-443");
}

TEST(test_reversed_range_is_refused)
{
	assert_refused("5-3");
	assert_refused("3481-3478");
}

TEST(test_empty_elements_are_refused)
{
	assert_refused("1,,2");
	assert_refused("80,");
	assert_refused(",80");
	assert_refused(",");
	assert_refused("80, ");
}

TEST(test_incomplete_range_is_refused)
{
	assert_refused("-");
	assert_refused("80-");
	assert_refused("1-2-3");
}

TEST(test_whitespace_only_is_refused)
{
	assert_refused(" ");
	assert_refused("   ");
}

TEST(test_format_truncates_with_ellipsis)
{
	struct m365_ports p;
	struct m365_err err;
	char buf[12];

	assert_int_equal(m365_ports_parse("80,443,3478-3481,8080", &p, &err),
	                 0);
	m365_ports_format(&p, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, "..."));
	assert_int_equal(strncmp(buf, "80", 2), 0);
	m365_ports_free(&p);
}

TEST(test_free_leaves_set_empty_and_accepts_null)
{
	struct m365_ports p;
	struct m365_err err;

	assert_int_equal(m365_ports_parse("80,443", &p, &err), 0);
	m365_ports_free(&p);
	assert_int_equal(p.n, 0);
	assert_null(p.r);
	assert_false(m365_ports_contains(&p, 80));
	m365_ports_free(&p); /* twice is harmless */
	m365_ports_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_ports_parse_into_two_ranges),
	    cmocka_unit_test(test_spaces_after_commas_are_allowed),
	    cmocka_unit_test(
	        test_microsoft_mail_ports_with_spaces_are_contained),
	    cmocka_unit_test(test_range_contains_both_ends_and_nothing_outside),
	    cmocka_unit_test(test_empty_string_is_the_empty_set),
	    cmocka_unit_test(test_unsorted_ports_are_sorted),
	    cmocka_unit_test(test_duplicates_and_overlaps_are_merged),
	    cmocka_unit_test(test_mixed_ports_and_ranges_format_canonically),
	    cmocka_unit_test(test_extreme_ports_one_and_65535_are_valid),
	    cmocka_unit_test(test_single_port_range_equals_port),
	    cmocka_unit_test(test_port_zero_is_refused),
	    cmocka_unit_test(test_port_above_65535_is_refused),
	    cmocka_unit_test(test_non_numeric_port_is_refused),
	    cmocka_unit_test(test_reversed_range_is_refused),
	    cmocka_unit_test(test_empty_elements_are_refused),
	    cmocka_unit_test(test_incomplete_range_is_refused),
	    cmocka_unit_test(test_whitespace_only_is_refused),
	    cmocka_unit_test(test_format_truncates_with_ellipsis),
	    cmocka_unit_test(test_free_leaves_set_empty_and_accepts_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
