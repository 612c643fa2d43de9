/* tests/unit/test_policy.c - m365_policy_init/selects/describe. */
#include <string.h>

#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define CAT(c) (1u << (c))

static struct m365_endpoints *ww;  /* worldwide-2025-12-01 */
static struct m365_endpoints *mem; /* the same with MEM */

static int
setup(void **state)
{
	struct m365_err err;

	(void)state;
	ww = m365_endpoints_load_file(FIXTURE("worldwide-2025-12-01.json"),
	                              &err);
	mem = m365_endpoints_load_file(
	    FIXTURE("worldwide-2025-12-01-with-MEM.json"), &err);
	return ww != NULL && mem != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	m365_endpoints_free(ww);
	m365_endpoints_free(mem);
	return 0;
}

static size_t
count_selected(const struct m365_policy *p, const struct m365_endpoints *ep)
{
	size_t i, n = 0;

	for (i = 0; i < ep->n_sets; i++)
		n += m365_policy_selects(p, &ep->sets[i]);
	return n;
}

/* The helper's option names: messages must name its flags. */
static const struct m365_option_names helper_names = {
    .categories = "--categories", .service_areas = "--service-areas"};

static void
init_ok(struct m365_policy *p, const char *cats, const char *areas)
{
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	if (m365_policy_init(p, cats, areas, &helper_names, &err) != 0)
		fail_msg("categories %s areas %s: %s", cats ? cats : "NULL",
		         areas ? areas : "NULL", err.msg);
}

static void
assert_refused(const char *cats, const char *areas, const char *option)
{
	struct m365_policy p;
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	if (m365_policy_init(&p, cats, areas, &helper_names, &err) != -1) {
		m365_policy_free(&p);
		fail_msg("accepted categories %s areas %s",
		         cats ? cats : "NULL", areas ? areas : "NULL");
	}
	if (strstr(err.msg, option) == NULL)
		fail_msg("message \"%s\" does not name %s", err.msg, option);
	assert_int_equal(err.code, M365_E_INPUT);
}

TEST(test_default_policy_is_optimize_and_allow_in_every_area)
{
	struct m365_policy p;
	char buf[128];

	init_ok(&p, NULL, NULL);
	assert_int_equal(p.categories,
	                 CAT(M365_CAT_OPTIMIZE) | CAT(M365_CAT_ALLOW));
	assert_null(p.areas);
	assert_int_equal(p.n_areas, 0);
	assert_string_equal(m365_policy_describe(&p, buf, sizeof(buf)),
	                    "categories=Optimize,Allow service-areas=all");
	m365_policy_free(&p);
}

TEST(test_default_policy_selects_the_ten_optimize_and_allow_sets)
{
	struct m365_policy p;

	init_ok(&p, NULL, NULL);
	assert_true(m365_policy_selects(&p, find_set(ww, 1)));   /* Optimize */
	assert_true(m365_policy_selects(&p, find_set(ww, 11)));  /* Optimize */
	assert_true(m365_policy_selects(&p, find_set(ww, 12)));  /* Allow */
	assert_true(m365_policy_selects(&p, find_set(ww, 46)));  /* Allow */
	assert_false(m365_policy_selects(&p, find_set(ww, 8)));  /* Default */
	assert_false(m365_policy_selects(&p, find_set(ww, 50))); /* Default */
	assert_int_equal(count_selected(&p, ww), 10);
	m365_policy_free(&p);
}

TEST(test_categories_constant_equals_the_default)
{
	struct m365_policy a, b;

	init_ok(&a, NULL, NULL);
	init_ok(&b, M365_POLICY_DEFAULT_CATEGORIES, NULL);
	assert_int_equal(a.categories, b.categories);
	m365_policy_free(&a);
	m365_policy_free(&b);
}

TEST(test_optimize_only_selects_optimize_sets)
{
	struct m365_policy p;

	init_ok(&p, "Optimize", NULL);
	assert_int_equal(p.categories, CAT(M365_CAT_OPTIMIZE));
	assert_true(m365_policy_selects(&p, find_set(ww, 1)));
	assert_true(m365_policy_selects(&p, find_set(ww, 31)));
	assert_false(m365_policy_selects(&p, find_set(ww, 2)));
	assert_false(m365_policy_selects(&p, find_set(ww, 12)));
	assert_int_equal(count_selected(&p, ww), 3);
	m365_policy_free(&p);
}

TEST(test_all_three_categories_include_default)
{
	struct m365_policy p;

	init_ok(&p, "Optimize,Allow,Default", NULL);
	assert_int_equal(p.categories, CAT(M365_CAT_OPTIMIZE) |
	                                   CAT(M365_CAT_ALLOW) |
	                                   CAT(M365_CAT_DEFAULT));
	assert_true(m365_policy_selects(&p, find_set(ww, 8)));
	assert_int_equal(count_selected(&p, ww), 64);
	m365_policy_free(&p);
}

TEST(test_categories_compare_exactly_case_included)
{
	assert_refused("optimize", NULL, "--categories");
	assert_refused("Optimize,allow", NULL, "--categories");
	assert_refused("DEFAULT", NULL, "--categories");
	assert_refused("default", NULL, "--categories");
	assert_refused("ALLOW", NULL, "--categories");
	/* the message names the value as given */
	{
		struct m365_policy p;
		struct m365_err err;
		memset(&err, 0, sizeof(err));
		assert_int_equal(m365_policy_init(&p, "Optimize,allow", NULL,
		                                  &helper_names, &err),
		                 -1);
		assert_non_null(strstr(err.msg, "unknown category \"allow\""));
	}
	assert_int_equal(m365_category_from_name("allow"), -1);
	assert_int_equal(m365_category_from_name("Allow"), M365_CAT_ALLOW);
}

TEST(test_default_alone_selects_only_default_sets)
{
	struct m365_policy p;

	init_ok(&p, "Default", NULL);
	assert_false(m365_policy_selects(&p, find_set(ww, 1)));
	assert_true(m365_policy_selects(&p, find_set(ww, 50)));
	assert_int_equal(count_selected(&p, ww), 54);
	m365_policy_free(&p);
}

TEST(test_unknown_category_is_refused_naming_the_option)
{
	assert_refused("Optimize,Premium", NULL, "--categories");
	assert_refused("Other", NULL, "--categories");
	assert_refused("Optimized", NULL, "--categories");
}

TEST(test_empty_categories_is_refused)
{
	assert_refused("", NULL, "--categories");
}

TEST(test_service_areas_restrict_selection)
{
	struct m365_policy p;
	char buf[128];

	init_ok(&p, NULL, "Skype,Common");
	assert_int_equal(p.n_areas, 2);
	assert_true(
	    m365_policy_selects(&p, find_set(ww, 11))); /* Skype Optimize */
	assert_true(
	    m365_policy_selects(&p, find_set(ww, 12))); /* Skype Allow */
	assert_true(
	    m365_policy_selects(&p, find_set(ww, 46))); /* Common Allow */
	assert_false(m365_policy_selects(&p, find_set(ww, 1))); /* Exchange */
	assert_false(
	    m365_policy_selects(&p, find_set(ww, 31))); /* SharePoint */
	assert_false(m365_policy_selects(&p, find_set(ww, 50))); /* Default */
	assert_int_equal(count_selected(&p, ww), 5);
	m365_policy_describe(&p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Skype"));
	assert_non_null(strstr(buf, "Common"));
	assert_null(strstr(buf, "service-areas=all"));
	m365_policy_free(&p);
}

TEST(test_service_areas_compare_exactly_case_included)
{
	struct m365_policy p;
	struct m365_err err;

	init_ok(&p, NULL, "Skype");
	assert_int_equal(m365_policy_check_areas(&p, ww, NULL), 0);
	assert_true(m365_policy_selects(&p, find_set(ww, 12)));
	assert_false(m365_policy_selects(&p, find_set(ww, 2)));
	assert_int_equal(count_selected(&p, ww), 2);
	m365_policy_free(&p);

	/* "skype" is no area of the list: it selects nothing, and checking
	 * it against the list names the known areas */
	init_ok(&p, NULL, "skype");
	assert_false(m365_policy_selects(&p, find_set(ww, 12)));
	assert_int_equal(count_selected(&p, ww), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(m365_policy_check_areas(&p, ww, &err), -1);
	assert_int_equal(err.code, M365_E_INPUT);
	assert_non_null(strstr(err.msg, "--service-areas: unknown service "
	                                "area \"skype\""));
	assert_non_null(strstr(err.msg, "Skype"));
	assert_non_null(strstr(err.msg, "Exchange"));
	assert_non_null(strstr(err.msg, "SharePoint"));
	assert_non_null(strstr(err.msg, "Common"));
	m365_policy_free(&p);

	init_ok(&p, NULL, "Common,exchange");
	memset(&err, 0, sizeof(err));
	assert_int_equal(m365_policy_check_areas(&p, ww, &err), -1);
	assert_non_null(strstr(err.msg, "\"exchange\""));
	m365_policy_free(&p);
}

TEST(test_all_is_exact_too)
{
	struct m365_policy p;
	struct m365_err err;

	/* "ALL" is a service area name, which the list does not have */
	init_ok(&p, NULL, "ALL");
	assert_non_null(p.areas);
	assert_int_equal(count_selected(&p, ww), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(m365_policy_check_areas(&p, ww, &err), -1);
	assert_non_null(strstr(err.msg, "\"ALL\""));
	m365_policy_free(&p);
}

TEST(test_all_service_areas_means_every_area)
{
	struct m365_policy p;

	init_ok(&p, NULL, "all");
	assert_null(p.areas);
	assert_int_equal(count_selected(&p, ww), 10);
	m365_policy_free(&p);
}

TEST(test_mem_area_with_default_category_selects_set_165)
{
	struct m365_policy p;

	init_ok(&p, "Default", "MEM");
	assert_true(m365_policy_selects(&p, find_set(mem, 165)));
	assert_false(m365_policy_selects(&p, find_set(mem, 8)));
	assert_int_equal(count_selected(&p, mem), 14);
	m365_policy_free(&p);
}

TEST(test_other_category_is_never_selected)
{
	struct m365_policy p;
	struct m365_set s;

	memset(&s, 0, sizeof(s));
	s.id = 999;
	s.service_area = (char *)"Common";
	s.category_name = (char *)"Premium";
	s.category = M365_CAT_OTHER;
	init_ok(&p, "Optimize,Allow,Default", NULL);
	assert_false(m365_policy_selects(&p, &s));
	s.category = M365_CAT_ALLOW;
	assert_true(m365_policy_selects(&p, &s));
	m365_policy_free(&p);
}

TEST(test_free_accepts_null)
{
	m365_policy_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_default_policy_is_optimize_and_allow_in_every_area),
	    cmocka_unit_test(
	        test_default_policy_selects_the_ten_optimize_and_allow_sets),
	    cmocka_unit_test(test_categories_constant_equals_the_default),
	    cmocka_unit_test(test_optimize_only_selects_optimize_sets),
	    cmocka_unit_test(test_all_three_categories_include_default),
	    cmocka_unit_test(test_categories_compare_exactly_case_included),
	    cmocka_unit_test(test_default_alone_selects_only_default_sets),
	    cmocka_unit_test(
	        test_unknown_category_is_refused_naming_the_option),
	    cmocka_unit_test(test_empty_categories_is_refused),
	    cmocka_unit_test(test_service_areas_restrict_selection),
	    cmocka_unit_test(test_service_areas_compare_exactly_case_included),
	    cmocka_unit_test(test_all_is_exact_too),
	    cmocka_unit_test(test_all_service_areas_means_every_area),
	    cmocka_unit_test(
	        test_mem_area_with_default_category_selects_set_165),
	    cmocka_unit_test(test_other_category_is_never_selected),
	    cmocka_unit_test(test_free_accepts_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
