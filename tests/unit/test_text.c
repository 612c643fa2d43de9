/* tests/unit/test_text.c - m365_token and m365_split_commas, the text
 * checks the loaders and the front ends share. */
#include <string.h>

#include "m365_text.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* Collects the items of a list, "|"-separated, into the buffer in arg. */
static int
collect(void *arg, const char *item, struct m365_err *err)
{
	char *buf = arg;

	(void)err;
	if (buf[0] != '\0')
		strcat(buf, "|");
	strcat(buf, item);
	return 0;
}

/* Refuses the item "stop". */
static int
refuse_stop(void *arg, const char *item, struct m365_err *err)
{
	(void)arg;
	if (strcmp(item, "stop") == 0)
		return m365_err_set(err, M365_E_REFUSED, "stop refused");
	return 0;
}

TEST(test_tokens_are_letters_digits_and_the_extra_characters)
{
	assert_true(m365_token("Skype", 5, 64, "._-"));
	assert_true(m365_token("2025120100", 10, 64, "._-"));
	assert_true(m365_token("a.b_c-d", 7, 64, "._-"));
	assert_false(m365_token("a b", 3, 64, "._-"));
	assert_false(m365_token("a,b", 3, 64, "._-"));
	assert_true(m365_token("a,b", 3, 64, ",._-"));
	assert_false(m365_token("caf\xc3\xa9", 5, 64, "._-"));
}

TEST(test_tokens_have_a_length_of_one_to_max)
{
	assert_false(m365_token("", 0, 64, "._-"));
	assert_true(m365_token("abcd", 4, 4, ""));
	assert_false(m365_token("abcde", 5, 4, ""));
}

TEST(test_a_nul_inside_a_token_is_refused)
{
	assert_false(m365_token("a\0b", 3, 64, "._-"));
}

TEST(test_comma_lists_are_split_and_trimmed)
{
	char buf[256] = "";
	struct m365_err err;

	assert_int_equal(m365_split_commas(" Optimize ,\tAllow,Default ", "c",
	                                   8, collect, buf, &err),
	                 0);
	assert_string_equal(buf, "Optimize|Allow|Default");
}

TEST(test_empty_items_name_the_option)
{
	char buf[256] = "";
	struct m365_err err;

	assert_int_equal(
	    m365_split_commas("a,,b", "--categories", 8, collect, buf, &err),
	    -1);
	assert_int_equal(err.code, M365_E_INPUT);
	assert_string_equal(err.msg, "--categories: empty item in \"a,,b\"");
	assert_int_equal(m365_split_commas("", "x", 8, collect, buf, &err), -1);
	assert_int_equal(m365_split_commas("a,", "x", 8, collect, buf, &err),
	                 -1);
}

TEST(test_long_items_and_long_lists_are_refused)
{
	char item[M365_ITEM_MAX + 2], buf[1024] = "";
	struct m365_err err;

	memset(item, 'a', sizeof(item) - 1);
	item[sizeof(item) - 1] = '\0';
	assert_int_equal(m365_split_commas(item, "x", 8, collect, buf, &err),
	                 -1);
	assert_string_equal(err.msg, "x: item or list too long");
	assert_int_equal(m365_split_commas("a,b,c", "x", 2, collect, buf, &err),
	                 -1);
}

TEST(test_the_callback_error_stops_the_split)
{
	struct m365_err err;

	assert_int_equal(
	    m365_split_commas("go,stop,never", "x", 8, refuse_stop, NULL, &err),
	    -1);
	assert_int_equal(err.code, M365_E_REFUSED);
	assert_string_equal(err.msg, "stop refused");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_tokens_are_letters_digits_and_the_extra_characters),
	    cmocka_unit_test(test_tokens_have_a_length_of_one_to_max),
	    cmocka_unit_test(test_a_nul_inside_a_token_is_refused),
	    cmocka_unit_test(test_comma_lists_are_split_and_trimmed),
	    cmocka_unit_test(test_empty_items_name_the_option),
	    cmocka_unit_test(test_long_items_and_long_lists_are_refused),
	    cmocka_unit_test(test_the_callback_error_stops_the_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
