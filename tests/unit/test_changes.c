/* tests/unit/test_changes.c - the change report of a publish
 * (ctl/changes.c), its cross-check with Microsoft's /changes answer
 * (ctl/changes_ms.c), a report read back as hostile input
 * (ctl/changes_text.c), and a version's identity (ctl/update_ident.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "changes.h"
#include "update.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

/* The members every set below has besides its own, as Microsoft writes
 * them. */
#define COMMON                                                                 \
	"\"serviceArea\": \"Common\", \"required\": true, "                    \
	"\"expressRoute\": false"

/* Set 1 changes names, ranges, ports and category; 2 goes; 3 comes; 4
 * gains an IPv6 range and keeps only port 443 of the whole port space. */
static const char old_json[] =
    "[{\"id\": 1, \"category\": \"Allow\", " COMMON ", "
    "\"urls\": [\"a.example.com\", \"b.example.com\"], "
    "\"ips\": [\"10.0.0.0/24\"], \"tcpPorts\": \"80,443\"}, "
    "{\"id\": 2, \"category\": \"Allow\", " COMMON ", "
    "\"urls\": [\"x.example.org\"], \"ips\": [], \"tcpPorts\": \"443\"}, "
    "{\"id\": 4, \"category\": \"Default\", " COMMON ", "
    "\"urls\": [\"same.example.com\"], \"ips\": [\"2001:db8::/48\"], "
    "\"tcpPorts\": \"1-65535\"}]";
static const char new_json[] =
    "[{\"id\": 1, \"category\": \"Optimize\", " COMMON ", "
    "\"urls\": [\"b.example.com\", \"c.example.com\"], "
    "\"ips\": [\"10.0.0.0/24\", \"10.1.0.0/24\"], "
    "\"tcpPorts\": \"443,8080-8081\"}, "
    "{\"id\": 3, \"category\": \"Allow\", " COMMON ", "
    "\"urls\": [\"n.example.net\"], \"ips\": [], \"tcpPorts\": \"443\", "
    "\"udpPorts\": \"3478-3481\"}, "
    "{\"id\": 4, \"category\": \"Default\", " COMMON ", "
    "\"urls\": [\"same.example.com\"], "
    "\"ips\": [\"2001:db8::/48\", \"2001:db8:1::/48\"], "
    "\"tcpPorts\": \"443\"}]";

static struct m365_endpoints *
parse(const char *json)
{
	struct m365_err err;
	struct m365_endpoints *ep =
	    m365_endpoints_parse(json, strlen(json), "test", &err);

	if (ep == NULL)
		fail_msg("%s", err.msg);
	return ep;
}

/* One side of a member of an entry as "a b c". */
static char *
side(const json_t *e, const char *kind, const char *dir, char *buf, size_t len)
{
	const json_t *a = json_object_get(json_object_get(e, kind), dir);
	size_t i, at = 0;

	buf[0] = '\0';
	for (i = 0; i < json_array_size(a); i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "",
		                       json_string_value(json_array_get(a, i)));
	return buf;
}

static long long
total(const json_t *r, const char *a, const char *b)
{
	return json_integer_value(json_object_get(
	    json_object_get(json_object_get(r, "totals"), a), b));
}

TEST(test_report_lists_what_each_set_gained_and_lost)
{
	struct m365_endpoints *o = parse(old_json), *n = parse(new_json);
	json_t *r = changes_report(o, "2024041700", n);
	const json_t *e;
	char buf[256];

	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "previous")),
	                    "2024041700");
	assert_int_equal(json_array_size(json_object_get(r, "sets")), 4);
	e = changes_set(r, 1);
	assert_string_equal(json_string_value(json_object_get(e, "change")),
	                    "changed");
	assert_string_equal(json_string_value(json_object_get(e, "category")),
	                    "Optimize");
	assert_string_equal(
	    json_string_value(json_object_get(e, "categoryWas")), "Allow");
	assert_string_equal(side(e, "urls", "added", buf, sizeof(buf)),
	                    "c.example.com");
	assert_string_equal(side(e, "urls", "removed", buf, sizeof(buf)),
	                    "a.example.com");
	assert_string_equal(side(e, "ips", "added", buf, sizeof(buf)),
	                    "10.1.0.0/24");
	assert_string_equal(side(e, "tcpPorts", "added", buf, sizeof(buf)),
	                    "8080-8081");
	assert_string_equal(side(e, "tcpPorts", "removed", buf, sizeof(buf)),
	                    "80");
	e = changes_set(r, 2);
	assert_string_equal(json_string_value(json_object_get(e, "change")),
	                    "removed");
	assert_string_equal(side(e, "urls", "removed", buf, sizeof(buf)),
	                    "x.example.org");
	e = changes_set(r, 3);
	assert_string_equal(json_string_value(json_object_get(e, "change")),
	                    "added");
	assert_string_equal(side(e, "udpPorts", "added", buf, sizeof(buf)),
	                    "3478-3481");
	assert_null(json_object_get(e, "categoryWas"));
	/* the whole port space less one port: two ranges */
	e = changes_set(r, 4);
	assert_string_equal(side(e, "tcpPorts", "removed", buf, sizeof(buf)),
	                    "1-442 444-65535");
	assert_string_equal(side(e, "ips", "added", buf, sizeof(buf)),
	                    "2001:db8:1::/48");
	assert_int_equal(total(r, "sets", "added"), 1);
	assert_int_equal(total(r, "sets", "removed"), 1);
	assert_int_equal(total(r, "sets", "changed"), 2);
	assert_int_equal(total(r, "urls", "added"), 2);
	assert_int_equal(total(r, "urls", "removed"), 2);
	assert_int_equal(total(r, "ips", "added"), 2);
	json_decref(r);
	m365_endpoints_free(o);
	m365_endpoints_free(n);
}

TEST(test_an_unchanged_list_reports_no_set)
{
	struct m365_endpoints *o = parse(old_json), *n = parse(old_json);
	json_t *r = changes_report(o, "1", n);

	assert_int_equal(json_array_size(json_object_get(r, "sets")), 0);
	assert_int_equal(total(r, "urls", "added"), 0);
	json_decref(r);
	m365_endpoints_free(o);
	m365_endpoints_free(n);
}

TEST(test_a_first_version_adds_every_set)
{
	struct m365_endpoints *n = parse(new_json);
	json_t *r = changes_report(NULL, "ignored", n);

	assert_true(json_is_null(json_object_get(r, "previous")));
	assert_int_equal(total(r, "sets", "added"), 3);
	assert_int_equal(total(r, "sets", "removed"), 0);
	json_decref(r);
	m365_endpoints_free(n);
}

/* The report of old -> new cross-checked with Microsoft's answer ms. */
static json_t *
checked(const char *ms, bool no_ipv6)
{
	struct m365_endpoints *o = parse(old_json), *n = parse(new_json);
	json_t *r = changes_report(o, "2024041700", n);

	changes_crosscheck(r, o, n, ms, strlen(ms), "2024041700", "2025120100",
	                   no_ipv6);
	m365_endpoints_free(o);
	m365_endpoints_free(n);
	return r;
}

static const json_t *
microsoft(const json_t *r, const char *k)
{
	return json_object_get(json_object_get(r, "microsoft"), k);
}

/* Microsoft's account of old -> new, in its own words. */
#define AGREEING                                                               \
	"{\"endpointSetId\": 1, \"version\": \"2025120100\", "                 \
	"\"disposition\": \"Change\", \"add\": {\"urls\": "                    \
	"[\"C.example.com\"], \"ips\": [\"10.1.0.0/24\"]}, \"remove\": "       \
	"{\"urls\": [\"a.example.com\"]}},"                                    \
	"{\"endpointSetId\": 2, \"version\": \"2025010100\", "                 \
	"\"disposition\": \"Remove\"},"                                        \
	"{\"endpointSetId\": 3, \"version\": \"2025120100\", "                 \
	"\"disposition\": \"Add\", \"add\": {\"urls\": [\"n.example.net\"]}}"

TEST(test_crosscheck_agrees_with_the_same_account)
{
	json_t *r = checked(
	    "[" AGREEING ","
	    /* set 4's IPv6 change, then an item added and removed again, a
	     * version outside the window and a set in neither list */
	    "{\"endpointSetId\": 4, \"version\": \"2025120100\", "
	    "\"disposition\": \"Change\", \"add\": {\"ips\": "
	    "[\"2001:db8:1::/48\", \"9.9.9.0/24\"]}},"
	    "{\"endpointSetId\": 4, \"version\": \"2025120100\", "
	    "\"disposition\": \"Change\", \"remove\": {\"ips\": "
	    "[\"9.9.9.0/24\"]}},"
	    "{\"endpointSetId\": 1, \"version\": \"2024010100\", "
	    "\"disposition\": \"Change\", \"add\": {\"urls\": [\"old.com\"]}},"
	    "{\"endpointSetId\": 1, \"version\": \"2026010100\", "
	    "\"disposition\": \"Change\", \"add\": {\"urls\": [\"new.com\"]}},"
	    "{\"endpointSetId\": 99, \"version\": \"2025120100\", "
	    "\"disposition\": \"Add\", \"add\": {\"urls\": [\"z.com\"]}}]",
	    false);

	assert_true(json_is_true(microsoft(r, "asked")));
	if (!json_is_true(microsoft(r, "agrees")))
		fail_msg("differs: %s", json_string_value(json_array_get(
		                            microsoft(r, "differences"), 0)));
	json_decref(r);
}

TEST(test_crosscheck_lists_each_difference)
{
	json_t *r =
	    checked("[" AGREEING ","
	            "{\"endpointSetId\": 1, \"version\": \"2025120100\","
	            " \"disposition\": \"Change\", \"add\": {\"urls\": "
	            "[\"d.example.com\"]}}]",
	            false);
	const json_t *d = microsoft(r, "differences");
	char all[2048] = "";
	size_t i;

	assert_true(json_is_false(microsoft(r, "agrees")));
	for (i = 0; i < json_array_size(d); i++) {
		strcat(all, json_string_value(json_array_get(d, i)));
		strcat(all, "\n");
	}
	/* Microsoft's d.example.com, and set 4's range it did not mention */
	assert_int_equal(json_integer_value(microsoft(r, "differencesTotal")),
	                 2);
	assert_non_null(strstr(all, "set 1: Microsoft's /changes has name "
	                            "d.example.com added; the lists do not"));
	assert_non_null(strstr(all, "set 4: the lists have range "
	                            "2001:db8:1::/48 added; Microsoft's "
	                            "/changes does not"));
	json_decref(r);
}

TEST(test_crosscheck_without_ipv6_leaves_ipv6_out)
{
	/* the lists were asked without IPv6: Microsoft's IPv6 news is not
	 * a difference (set 4's own range still is: the lists have it) */
	json_t *r =
	    checked("[" AGREEING ","
	            "{\"endpointSetId\": 1, \"version\": \"2025120100\","
	            " \"disposition\": \"Change\", \"add\": {\"ips\": "
	            "[\"2001:db8:9::/48\"]}}]",
	            true);

	assert_int_equal(json_integer_value(microsoft(r, "differencesTotal")),
	                 1);
	json_decref(r);
}

TEST(test_crosscheck_of_no_array_is_not_asked)
{
	static const char *const bad[] = {"", "{}", "[1", "\"x\"", "null"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *r = checked(bad[i], false);
		assert_true(json_is_false(microsoft(r, "asked")));
		assert_non_null(json_string_value(microsoft(r, "why")));
		json_decref(r);
	}
	/* entries of the wrong shape are left out, not trusted: the only
	 * difference left is set 4's range, which AGREEING leaves out */
	json_t *r = checked("[" AGREEING ", 7, {\"endpointSetId\": \"1\"}, "
	                    "{\"endpointSetId\": 1, \"version\": 2025120100}]",
	                    false);
	assert_int_equal(json_integer_value(microsoft(r, "differencesTotal")),
	                 1);
	json_decref(r);
}

TEST(test_clean_replaces_control_characters)
{
	json_t *r = json_loads("{\"version\": \"v\\u001b[2J\", \"sets\": "
	                       "[{\"urls\": {\"added\": [\"a\\u0007b\", 3]}}]}",
	                       0, NULL);
	const json_t *added;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(r);
	changes_clean(r);
	assert_string_equal(json_string_value(json_object_get(r, "version")),
	                    "v?[2J");
	added = json_object_get(
	    json_object_get(json_array_get(json_object_get(r, "sets"), 0),
	                    "urls"),
	    "added");
	assert_string_equal(json_string_value(json_array_get(added, 0)), "a?b");
	f = open_memstream(&out, &len);
	changes_print(f, r, false);
	fclose(f);
	assert_non_null(strstr(out, "  + name  a?b\n  + name  ?\n"));
	free(out);
	json_decref(r);
}

TEST(test_params_are_canonical)
{
	struct update u = {.instance = "Worldwide",
	                   .areas = "skype,COMMON,Skype,mem,Other",
	                   .tenant = "Contoso"};
	char buf[256], inst[64];

	update_params(&u, buf, sizeof(buf));
	assert_string_equal(buf, "instance=Worldwide&serviceAreas=Common,MEM,"
	                         "Other,Skype&tenant=contoso&noIPv6=false");
	u.areas = NULL;
	u.tenant = NULL;
	u.no_ipv6 = true;
	update_params(&u, buf, sizeof(buf));
	assert_string_equal(
	    buf, "instance=Worldwide&serviceAreas=&tenant=&noIPv6=true");
	assert_int_equal(params_instance(buf, inst, sizeof(inst)), 0);
	assert_string_equal(inst, "Worldwide");
	assert_int_equal(params_instance("", inst, sizeof(inst)), -1);
	assert_int_equal(params_instance("instance=&x", inst, sizeof(inst)),
	                 -1);
}

TEST(test_version_names_and_order)
{
	char name[80];

	update_name("2025120100", "2025120100", name, sizeof(name));
	assert_string_equal(name, "2025120100.1");
	update_name("2025120100.9", "2025120100", name, sizeof(name));
	assert_string_equal(name, "2025120100.10");
	update_name("2025120100.3", "2025120200", name, sizeof(name));
	assert_string_equal(name, "2025120200");
	update_name("local-1", "2025120100", name, sizeof(name));
	assert_string_equal(name, "2025120100");
	update_name("2025120100.x", "2025120100", name, sizeof(name));
	assert_string_equal(name, "2025120100");

	assert_true(is_newer("2025120100", ""));
	assert_true(is_newer("2025120100", "2024041700.2"));
	assert_false(is_newer("2025120100", "2025120100.2"));
	assert_false(is_newer("2025120100", "2025120100"));
	assert_false(is_newer("2024041700", "2025120100"));
	assert_true(is_newer("2024041700", "local-abc")); /* imported */
	assert_true(is_newer("2024041700", "2025120100."));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_lists_what_each_set_gained_and_lost),
	    cmocka_unit_test(test_an_unchanged_list_reports_no_set),
	    cmocka_unit_test(test_a_first_version_adds_every_set),
	    cmocka_unit_test(test_crosscheck_agrees_with_the_same_account),
	    cmocka_unit_test(test_crosscheck_lists_each_difference),
	    cmocka_unit_test(test_crosscheck_without_ipv6_leaves_ipv6_out),
	    cmocka_unit_test(test_crosscheck_of_no_array_is_not_asked),
	    cmocka_unit_test(test_clean_replaces_control_characters),
	    cmocka_unit_test(test_params_are_canonical),
	    cmocka_unit_test(test_version_names_and_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
