/* tests/unit/test_endpoints.c - the endpoint list loader, on every fixture
 * and on hand-made broken documents. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* Common fields of a hand-made set (JSON with ' for "). */
#define HEAD "'serviceArea': 'Common', 'required': true, 'expressRoute': false"
#define SRC "mem.json"
/* A hand-made Allow set with extra fields `rest`, and a list of just it. */
#define SET(id, rest) "{'id': " #id ", " HEAD ", 'category': 'Allow', " rest "}"
#define DOC(rest) "[" SET(1, rest) "]"

/* Copies s with every ' turned into " (caller frees). */
static char *
json(const char *s)
{
	size_t i, n = strlen(s);
	char *out = test_malloc(n + 1);

	for (i = 0; i <= n; i++)
		out[i] = s[i] == '\'' ? '"' : s[i];
	return out;
}

static struct m365_endpoints *
parse(const char *quoted, struct m365_err *err)
{
	char *doc = json(quoted);
	struct m365_endpoints *ep =
	    m365_endpoints_parse(doc, strlen(doc), SRC, err);

	test_free(doc);
	return ep;
}

static struct m365_endpoints *
parse_ok(const char *quoted)
{
	struct m365_err err;
	struct m365_endpoints *ep;

	memset(&err, 0, sizeof(err));
	if ((ep = parse(quoted, &err)) == NULL)
		fail_msg("refused: %s", err.msg);
	return ep;
}

/* The document must be refused with a message naming SRC and `where`. */
static void
assert_refused(const char *quoted, const char *where)
{
	struct m365_err err;
	struct m365_endpoints *ep;

	memset(&err, 0, sizeof(err));
	ep = parse(quoted, &err);
	if (ep != NULL) {
		m365_endpoints_free(ep);
		fail_msg("accepted: %s", quoted);
	}
	if (strstr(err.msg, SRC) == NULL || strstr(err.msg, where) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg, SRC,
		         where);
}

static struct m365_endpoints *
load(const char *path)
{
	struct m365_err err;
	struct m365_endpoints *ep;

	memset(&err, 0, sizeof(err));
	ep = m365_endpoints_load_file(path, &err);
	if (ep == NULL)
		fail_msg("%s: %s", path, err.msg);
	return ep;
}

static void
assert_counts(const char *path, size_t sets, size_t urls, size_t ips)
{
	struct m365_endpoints *ep = load(path);
	size_t i, nu = 0, ni = 0;

	assert_int_equal(ep->n_sets, sets);
	assert_int_equal(ep->n_urls, urls);
	assert_int_equal(ep->n_ips, ips);
	for (i = 0; i < ep->n_sets; i++) {
		nu += ep->sets[i].n_urls;
		ni += ep->sets[i].n_ips;
		assert_int_equal(ep->sets[i].index, i);
	}
	assert_int_equal(nu, urls);
	assert_int_equal(ni, ips);
	assert_non_null(strstr(ep->source, path));
	m365_endpoints_free(ep);
}

TEST(test_every_fixture_loads_with_sourced_counts)
{
	assert_counts(FIXTURE("worldwide-2021-10-11.json"), 107, 354, 294);
	assert_counts(FIXTURE("worldwide-2024-04-17.json"), 72, 221, 133);
	assert_counts(FIXTURE("worldwide-2025-12-01.json"), 64, 204, 129);
	assert_counts(FIXTURE("worldwide-2025-12-01-with-MEM.json"), 79, 281,
	              210);
	assert_counts(FIXTURE("china-2025-12-01a.json"), 21, 49, 101);
	assert_counts(FIXTURE("china-2025-12-01b.json"), 22, 51, 117);
	assert_counts(FIXTURE("usgovdod-2025-12-01.json"), 24, 86, 36);
	assert_counts(FIXTURE("usgovdod-2025-12-01-with-MEM.json"), 25, 99, 36);
	assert_counts(FIXTURE("usgovgcchigh-2025-12-01.json"), 26, 87, 40);
}

TEST(test_bundled_list_is_the_2025_worldwide_snapshot)
{
	struct m365_err err;
	struct m365_endpoints *ep = m365_endpoints_load_bundled(&err);

	assert_non_null(ep);
	assert_int_equal(ep->n_sets, 64);
	assert_int_equal(ep->n_urls, 204);
	assert_int_equal(ep->n_ips, 129);
	assert_int_equal(find_set(ep, 12)->category, M365_CAT_ALLOW);
	m365_endpoints_free(ep);
}

TEST(test_set_fields_are_loaded_as_written)
{
	struct m365_endpoints *ep = load(FIXTURE("worldwide-2025-12-01.json"));
	const struct m365_set *s1 = find_set(ep, 1), *s2 = find_set(ep, 2);

	assert_string_equal(s1->service_area, "Exchange");
	assert_string_equal(s1->service_area_name, "Exchange Online");
	assert_string_equal(s1->category_name, "Optimize");
	assert_int_equal(s1->category, M365_CAT_OPTIMIZE);
	assert_true(s1->required);
	assert_true(s1->express_route);
	assert_int_equal(s1->n_urls, 3);
	assert_string_equal(s1->urls[2], "outlook.office365.com");
	assert_int_equal(s1->n_ips, 27);
	assert_string_equal(s1->ips[0].text, "13.107.6.152/31");
	assert_int_equal(s1->ips[0].family, AF_INET);
	assert_int_equal(s1->ips[0].plen, 31);
	assert_true(s1->has_tcp && s1->has_udp);
	assert_true(m365_ports_contains(&s1->tcp, 80));
	assert_true(m365_ports_contains(&s1->udp, 443));
	assert_null(s1->notes);
	assert_int_equal(s2->category, M365_CAT_ALLOW);
	assert_false(s2->required);
	assert_false(s2->has_udp);
	assert_string_equal(s2->notes, "POP3, IMAP4, SMTP Client traffic");
	assert_string_equal(find_set(ep, 12)->service_area_name,
	                    "Microsoft Teams");
	assert_int_equal(find_set(ep, 8)->category, M365_CAT_DEFAULT);
	m365_endpoints_free(ep);
}

TEST(test_old_skype_display_name_is_kept)
{
	struct m365_endpoints *ep = load(FIXTURE("worldwide-2021-10-11.json"));

	assert_string_equal(find_set(ep, 12)->service_area_name,
	                    "Skype for Business Online and Microsoft Teams");
	m365_endpoints_free(ep);
}

TEST(test_udp_only_set_11_has_no_urls_and_no_tcp)
{
	struct m365_endpoints *ep = load(FIXTURE("worldwide-2025-12-01.json"));
	const struct m365_set *s = find_set(ep, 11);

	assert_int_equal(s->n_urls, 0);
	assert_int_equal(s->n_ips, 3);
	assert_string_equal(s->ips[2].text, "2603:1063::/38");
	assert_int_equal(s->ips[2].family, AF_INET6);
	assert_false(s->has_tcp);
	assert_int_equal(s->tcp.n, 0);
	assert_false(m365_ports_contains(&s->tcp, 3478));
	assert_true(s->has_udp);
	assert_true(m365_ports_contains(&s->udp, 3478));
	assert_true(m365_ports_contains(&s->udp, 3481));
	m365_endpoints_free(ep);
}

TEST(test_ports_with_spaces_are_parsed)
{
	struct m365_endpoints *ep = load(FIXTURE("worldwide-2025-12-01.json"));
	struct m365_endpoints *gcc =
	    load(FIXTURE("usgovgcchigh-2025-12-01.json"));
	struct m365_endpoints *cn = load(FIXTURE("china-2025-12-01a.json"));
	const struct m365_set *s2 = find_set(ep, 2);
	size_t i;
	int spaced = 0;

	assert_true(m365_ports_contains(&s2->tcp, 143));
	assert_true(m365_ports_contains(&s2->tcp, 587));
	assert_true(m365_ports_contains(&s2->tcp, 993));
	assert_true(m365_ports_contains(&s2->tcp, 995));
	assert_false(m365_ports_contains(&s2->tcp, 443));
	for (i = 0; i < gcc->n_sets; i++) /* "80, 443" occurs in GCC High */
		if (gcc->sets[i].has_tcp && gcc->sets[i].tcp.n == 2 &&
		    m365_ports_contains(&gcc->sets[i].tcp, 80) &&
		    m365_ports_contains(&gcc->sets[i].tcp, 443))
			spaced++;
	assert_true(spaced > 0);
	assert_true(m365_ports_contains(&find_set(cn, 3)->udp, 3480));
	m365_endpoints_free(ep);
	m365_endpoints_free(gcc);
	m365_endpoints_free(cn);
}

TEST(test_empty_udp_ports_is_present_but_empty)
{
	struct m365_endpoints *ep = load(FIXTURE("china-2025-12-01a.json"));
	const struct m365_set *s = find_set(ep, 26);

	assert_true(s->has_udp);
	assert_int_equal(s->udp.n, 0);
	assert_true(s->has_tcp);
	assert_true(m365_ports_contains(&s->tcp, 443));
	m365_endpoints_free(ep);
}

TEST(test_empty_notes_is_accepted)
{
	struct m365_endpoints *ep = load(FIXTURE("china-2025-12-01b.json"));
	const struct m365_set *s = find_set(ep, 27);

	assert_true(s->notes == NULL || s->notes[0] == '\0');
	assert_int_equal(s->category, M365_CAT_ALLOW);
	assert_true(m365_ports_contains(&s->tcp, 25));
	assert_string_equal(s->urls[1], "*.sovcloud-mx.cn");
	m365_endpoints_free(ep);
}

TEST(test_mem_set_165_is_udp_only)
{
	struct m365_endpoints *ep =
	    load(FIXTURE("worldwide-2025-12-01-with-MEM.json"));
	const struct m365_set *s = find_set(ep, 165);

	assert_string_equal(s->service_area, "MEM");
	assert_string_equal(s->urls[0], "time.windows.com");
	assert_false(s->has_tcp);
	assert_true(s->has_udp);
	assert_true(m365_ports_contains(&s->udp, 123));
	m365_endpoints_free(ep);
}

TEST(test_unknown_fields_are_ignored)
{
	struct m365_endpoints *ep = parse_ok("[" SET(
	    5, "'urls': ['a.example.com'], 'tcpPorts': '443',"
	       " 'futureField': {'x': [1, null, 2.5]}, 'more': 'z'") "]");

	assert_int_equal(ep->n_sets, 1);
	assert_int_equal(ep->sets[0].id, 5);
	assert_string_equal(ep->source, SRC);
	m365_endpoints_free(ep);
}

TEST(test_unknown_category_name_is_other)
{
	struct m365_endpoints *ep =
	    parse_ok("[{'id': 5, " HEAD
	             ", 'category': 'Premium', 'urls': ['a.example.com']}]");

	assert_int_equal(ep->sets[0].category, M365_CAT_OTHER);
	assert_string_equal(ep->sets[0].category_name, "Premium");
	m365_endpoints_free(ep);
}

TEST(test_category_in_another_case_is_other)
{
	struct m365_endpoints *ep =
	    parse_ok("[{'id': 5, " HEAD
	             ", 'category': 'allow', 'urls': ['a.example.com']},"
	             " {'id': 6, " HEAD
	             ", 'category': 'OPTIMIZE', 'urls': ['b.example']}]");

	assert_int_equal(ep->sets[0].category, M365_CAT_OTHER);
	assert_string_equal(ep->sets[0].category_name, "allow");
	assert_int_equal(ep->sets[1].category, M365_CAT_OTHER);
	m365_endpoints_free(ep);
}

TEST(test_uppercase_url_is_lowercased)
{
	struct m365_endpoints *ep =
	    parse_ok(DOC("'urls': ['*.Teams.EXAMPLE.com']"));

	assert_string_equal(ep->sets[0].urls[0], "*.teams.example.com");
	m365_endpoints_free(ep);
}

TEST(test_cidr_host_bits_are_cleared)
{
	struct m365_endpoints *ep =
	    parse_ok(DOC("'ips': ['13.107.6.153/31', '2603:1063::1/30']"));
	static const uint8_t v4[4] = {13, 107, 6, 152};
	static const uint8_t v6[16] = {0x26, 0x03, 0x10, 0x60};

	assert_memory_equal(ep->sets[0].ips[0].addr, v4, 4);
	assert_string_equal(ep->sets[0].ips[0].text, "13.107.6.153/31");
	assert_memory_equal(ep->sets[0].ips[1].addr, v6, 16);
	assert_int_equal(ep->sets[0].ips[1].plen, 30);
	m365_endpoints_free(ep);
}

TEST(test_broadest_allowed_prefixes_are_accepted)
{
	struct m365_endpoints *ep = parse_ok(
	    DOC("'ips': ['10.0.0.0/8', '2603::/16', '1.2.3.4/32', '::1/128']"));

	assert_int_equal(ep->n_ips, 4);
	m365_endpoints_free(ep);
}

TEST(test_length_bounds_the_document)
{
	char *doc = json(DOC("'urls': ['a.example.com']") "GARBAGE");
	struct m365_err err;
	struct m365_endpoints *ep =
	    m365_endpoints_parse(doc, strlen(doc) - 7, SRC, &err);

	test_free(doc);
	if (ep == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(ep->n_sets, 1);
	m365_endpoints_free(ep);
}

TEST(test_truncated_fixture_error_names_line)
{
	FILE *f = fopen(FIXTURE("worldwide-2025-12-01.json"), "rb");
	char *buf = test_malloc(40000);
	size_t n;
	struct m365_err err;

	assert_non_null(f);
	n = fread(buf, 1, 40000, f);
	fclose(f);
	assert_true(n > 20000);
	assert_null(m365_endpoints_parse(buf, n / 2, SRC, &err));
	test_free(buf);
	assert_non_null(strstr(err.msg, SRC ": line "));
}

TEST(test_truncated_document_is_a_syntax_error)
{
	assert_refused("[{'id': 1,\n 'urls': ['a.example.com'", "line");
	assert_refused("", "line");
	assert_refused(DOC("'urls': ['a.example.com']") " ]", "line");
}

TEST(test_empty_array_is_refused)
{
	assert_refused("[]", SRC);
}

TEST(test_document_that_is_not_an_array_is_refused)
{
	assert_refused("{}", SRC);
	assert_refused(SET(1, "'urls': ['a.example.com']"), SRC);
	assert_refused("42", SRC);
	assert_refused("'x'", SRC);
}

TEST(test_element_that_is_not_an_object_is_refused)
{
	assert_refused("[1]", "$[0]");
	assert_refused("[" SET(1, "'urls': ['a.example.com']") ", 'x']",
	               "$[1]");
}

TEST(test_missing_id_is_refused)
{
	assert_refused("[{" HEAD
	               ", 'category': 'Allow', 'urls': ['a.example.com']}]",
	               "$[0]");
}

TEST(test_non_integer_id_is_refused)
{
	assert_refused("[{'id': '1', " HEAD ", 'category': 'Allow',"
	               " 'urls': ['a.example.com']}]",
	               "$[0].id");
	assert_refused("[{'id': 1.5, " HEAD ", 'category': 'Allow',"
	               " 'urls': ['a.example.com']}]",
	               "$[0].id");
}

TEST(test_duplicate_id_is_refused)
{
	assert_refused("[" SET(7, "'urls': ['a.example.com']") ", " SET(
	                   7, "'urls': ['b.example.com']") "]",
	               "$[1]");
}

TEST(test_non_string_category_is_refused)
{
	assert_refused("[{'id': 1, " HEAD ", 'category': 1,"
	               " 'urls': ['a.example.com']}]",
	               "$[0].category");
}

TEST(test_urls_that_is_not_an_array_is_refused)
{
	assert_refused(DOC("'urls': 'a.example.com'"), "$[0].urls");
	assert_refused(DOC("'urls': [42]"), "$[0].urls[0]");
}

TEST(test_url_with_space_is_refused)
{
	assert_refused(DOC("'urls': ['a.example.com', 'b c.example.com']"),
	               "$[0].urls[1]");
}

TEST(test_url_matching_everything_or_a_tld_is_refused)
{
	assert_refused(DOC("'urls': ['a.example.com', '*']"), "$[0].urls[1]");
	assert_refused(DOC("'urls': ['*.com']"), "$[0].urls[0]");
	assert_refused(DOC("'urls': ['*com']"), "$[0].urls[0]");
	assert_refused("[" SET(1, "'urls': ['a.example.com']") ", " SET(
	                   2, "'urls': ['*.net']") "]",
	               "$[1].urls[0]");
}

TEST(test_invalid_or_too_broad_cidrs_are_refused)
{
	assert_refused(DOC("'ips': ['1.2.3.4/33']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['52.112.0.0/14', '::/0']"), "$[0].ips[1]");
	assert_refused(DOC("'ips': ['10.0.0.0/4']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['10.0.0.0/7']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['2600::/15']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['not-an-ip/24']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['1.2.3.0/x']"), "$[0].ips[0]");
	/* leading zeros in the prefix length */
	assert_refused(DOC("'ips': ['10.0.0.0/008']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['10.0.0.0/0024']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['10.0.0.0/024']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['2603::/032']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['10.0.0.0/+24']"), "$[0].ips[0]");
	assert_refused(DOC("'ips': ['10.0.0.0/ 24']"), "$[0].ips[0]");
}

TEST(test_bad_port_lists_are_refused)
{
	assert_refused(DOC("'urls': ['a.example.com'], 'tcpPorts': '80,abc'"),
	               "$[0].tcpPorts");
	assert_refused(DOC("'urls': ['a.example.com'], 'tcpPorts': 443"),
	               "$[0].tcpPorts");
	assert_refused(DOC("'urls': ['a.example.com'], 'udpPorts': '5-3'"),
	               "$[0].udpPorts");
}

TEST(test_list_without_any_url_or_ip_is_refused)
{
	struct m365_err err;

	assert_refused(
	    "[" SET(1, "'tcpPorts': '443'") ", " SET(2, "'notes': 'x'") "]",
	    SRC);
	memset(&err, 0, sizeof(err));
	assert_null(parse(DOC("'urls': []"), &err));
	assert_true(err.msg[0] != '\0');
}

TEST(test_null_err_is_allowed_on_failure)
{
	assert_null(m365_endpoints_parse("[]", 2, SRC, NULL));
	assert_null(m365_endpoints_parse("{", 1, SRC, NULL));
}

TEST(test_missing_file_error_names_the_path)
{
	struct m365_err err;

	assert_null(
	    m365_endpoints_load_file(FIXTURE("no-such-file.json"), &err));
	assert_non_null(strstr(err.msg, "no-such-file.json"));
}

TEST(test_category_names_round_trip)
{
	assert_string_equal(m365_category_name(M365_CAT_OPTIMIZE), "Optimize");
	assert_string_equal(m365_category_name(M365_CAT_ALLOW), "Allow");
	assert_string_equal(m365_category_name(M365_CAT_DEFAULT), "Default");
	assert_string_equal(m365_category_name(M365_CAT_OTHER), "Other");
	assert_int_equal(m365_category_from_name("Optimize"),
	                 M365_CAT_OPTIMIZE);
	assert_int_equal(m365_category_from_name("Allow"), M365_CAT_ALLOW);
	assert_int_equal(m365_category_from_name("Default"), M365_CAT_DEFAULT);
	/* exactly as Microsoft spells them, case included */
	assert_int_equal(m365_category_from_name("allow"), -1);
	assert_int_equal(m365_category_from_name("DEFAULT"), -1);
	assert_int_equal(m365_category_from_name("optimize"), -1);
	assert_int_equal(m365_category_from_name("Allow "), -1);
	assert_int_equal(m365_category_from_name("Other"), -1);
	assert_int_equal(m365_category_from_name(""), -1);
	assert_int_equal(m365_category_from_name("Optimized"), -1);
}

TEST(test_free_accepts_null)
{
	m365_endpoints_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_fixture_loads_with_sourced_counts),
	    cmocka_unit_test(test_bundled_list_is_the_2025_worldwide_snapshot),
	    cmocka_unit_test(test_set_fields_are_loaded_as_written),
	    cmocka_unit_test(test_old_skype_display_name_is_kept),
	    cmocka_unit_test(test_udp_only_set_11_has_no_urls_and_no_tcp),
	    cmocka_unit_test(test_ports_with_spaces_are_parsed),
	    cmocka_unit_test(test_empty_udp_ports_is_present_but_empty),
	    cmocka_unit_test(test_empty_notes_is_accepted),
	    cmocka_unit_test(test_mem_set_165_is_udp_only),
	    cmocka_unit_test(test_unknown_fields_are_ignored),
	    cmocka_unit_test(test_unknown_category_name_is_other),
	    cmocka_unit_test(test_category_in_another_case_is_other),
	    cmocka_unit_test(test_uppercase_url_is_lowercased),
	    cmocka_unit_test(test_cidr_host_bits_are_cleared),
	    cmocka_unit_test(test_broadest_allowed_prefixes_are_accepted),
	    cmocka_unit_test(test_length_bounds_the_document),
	    cmocka_unit_test(test_truncated_fixture_error_names_line),
	    cmocka_unit_test(test_truncated_document_is_a_syntax_error),
	    cmocka_unit_test(test_empty_array_is_refused),
	    cmocka_unit_test(test_document_that_is_not_an_array_is_refused),
	    cmocka_unit_test(test_element_that_is_not_an_object_is_refused),
	    cmocka_unit_test(test_missing_id_is_refused),
	    cmocka_unit_test(test_non_integer_id_is_refused),
	    cmocka_unit_test(test_duplicate_id_is_refused),
	    cmocka_unit_test(test_non_string_category_is_refused),
	    cmocka_unit_test(test_urls_that_is_not_an_array_is_refused),
	    cmocka_unit_test(test_url_with_space_is_refused),
	    cmocka_unit_test(test_url_matching_everything_or_a_tld_is_refused),
	    cmocka_unit_test(test_invalid_or_too_broad_cidrs_are_refused),
	    cmocka_unit_test(test_bad_port_lists_are_refused),
	    cmocka_unit_test(test_list_without_any_url_or_ip_is_refused),
	    cmocka_unit_test(test_null_err_is_allowed_on_failure),
	    cmocka_unit_test(test_missing_file_error_names_the_path),
	    cmocka_unit_test(test_category_names_round_trip),
	    cmocka_unit_test(test_free_accepts_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
