/* tests/unit/test_classify.c - the matcher and the policy through
 * m365_list_build/m365_list_load and m365_classify/m365_explain, on the real
 * Microsoft snapshots (expected sets checked against the fixture JSON). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define WW FIXTURE("worldwide-2025-12-01.json")
#define W21 FIXTURE("worldwide-2021-10-11.json")
#define DOD FIXTURE("usgovdod-2025-12-01.json")
#define GCC FIXTURE("usgovgcchigh-2025-12-01.json")
#define CNA FIXTURE("china-2025-12-01a.json")
#define CNB FIXTURE("china-2025-12-01b.json")
#define ALL "Optimize,Allow,Default"
#define ANY "*" /* category not checked */
#define NOSET 0 /* the verdict carries no set */
#define ANYSET -1
#define S(x) ((x) ? (x) : "NULL")

static struct m365_list *ww;     /* worldwide 2025, default policy */
static struct m365_list *ww_all; /* worldwide 2025, every category */

static struct m365_list *
build_ep(struct m365_endpoints *ep, const char *cats, const char *areas,
         const char *local)
{
	struct m365_err err;
	struct m365_local *l = NULL;
	struct m365_policy p;
	struct m365_list *list;

	memset(&err, 0, sizeof(err)); /* (a failing test may leak) */
	if (local != NULL && (l = m365_local_parse(local, strlen(local),
	                                           "t.list", &err)) == NULL)
		fail_msg("local: %s", err.msg);
	if (m365_policy_init(&p, cats, areas, NULL, &err) != 0)
		fail_msg("policy: %s", err.msg);
	list = m365_list_build(ep, l, &p, &err);
	m365_policy_free(&p);
	if (list == NULL)
		fail_msg("build: %s", err.msg);
	return list;
}

static struct m365_list *
build(const char *fixture, const char *cats, const char *areas,
      const char *local)
{
	struct m365_err err;
	struct m365_endpoints *ep = m365_endpoints_load_file(fixture, &err);

	if (ep == NULL)
		fail_msg("%s", err.msg);
	return build_ep(ep, cats, areas, local);
}

static int
setup(void **state)
{
	(void)state;
	ww = build(WW, NULL, NULL, NULL);
	ww_all = build(WW, ALL, NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	m365_list_unref(ww);
	m365_list_unref(ww_all);
	return 0;
}

static void
expect(const struct m365_list *l, const char *dst, const char *port,
       const char *sni, enum m365_result r, enum m365_why why, int64_t set,
       const char *cat)
{
	struct m365_verdict v;
	int bad;

	memset(&v, 0xa5, sizeof(v));
	m365_classify(l, dst, port, sni, &v);
	bad = v.result != r || v.why != why;
	if (set == NOSET)
		bad |= v.set != NULL;
	else if (set != ANYSET)
		bad |= v.set == NULL || v.set->id != set;
	if (cat == NULL)
		bad |= v.category != NULL;
	else if (strcmp(cat, ANY) != 0)
		bad |= v.category == NULL || strcmp(v.category, cat) != 0;
	if (bad)
		fail_msg(
		    "%s %s %s: got %d why %d set %lld %s; want %d %d %lld %s",
		    S(dst), S(port), S(sni), (int)v.result, (int)v.why,
		    v.set ? (long long)v.set->id : 0LL, S(v.category), (int)r,
		    (int)why, (long long)set, S(cat));
}

#define OK_SET(l, d, p, s, id, c)                                              \
	expect(l, d, p, s, M365_OK, M365_WHY_SET, id, c)
#define NO_MATCH(l, d, p, s)                                                   \
	expect(l, d, p, s, M365_ERR, M365_WHY_NO_MATCH, NOSET, NULL)
#define UNSEL(l, d, p, s, id, c)                                               \
	expect(l, d, p, s, M365_ERR, M365_WHY_UNSELECTED, id, c)
#define LOCAL(l, d, p, s)                                                      \
	expect(l, d, p, s, M365_OK, M365_WHY_LOCAL, NOSET, "Local")

static void
expect_message(const struct m365_list *l, const char *dst, const char *port,
               const char *sni, enum m365_why why, const char *msg)
{
	struct m365_verdict v;

	m365_classify(l, dst, port, sni, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(v.why, why);
	assert_non_null(v.message);
	assert_string_equal(v.message, msg);
}

#define REFUSED(d, p, s, why, msg)                                             \
	expect_message(ww, d, p, s, M365_WHY_##why, msg)

static const struct m365_hit *
find_hit(const struct m365_explanation *ex, enum m365_on on, int64_t set)
{
	size_t i;

	for (i = 0; i < ex->n_hits; i++)
		if (ex->hits[i].on == on && ex->hits[i].set != NULL &&
		    ex->hits[i].set->id == set)
			return &ex->hits[i];
	return NULL;
}

TEST(test_exact_name_matches_its_set)
{
	struct m365_verdict v;

	m365_classify(ww, "outlook.office.com", "443", NULL, &v);
	assert_int_equal(v.result, M365_OK);
	assert_int_equal(v.set->id, 1);
	assert_string_equal(v.category, "Optimize");
	assert_string_equal(v.service, "Exchange");
	assert_null(v.rule);
	OK_SET(ww, "smtp.office365.com", "587", NULL, 2, "Allow");
	OK_SET(ww, "TEAMS.Microsoft.COM.", "443", "-", 12, "Allow");
	OK_SET(ww, "teams%2emicrosoft%2ecom", "443", NULL, 12, "Allow");
}

TEST(test_best_category_wins_over_lower_id_and_lowest_id_breaks_ties)
{
	struct m365_list *ad = build(WW, "Allow,Default", NULL, NULL);
	struct m365_list *d = build(WW, "Default", NULL, NULL);

	/* outlook.office365.com: set 1 Optimize, set 2 Allow, 71 Default */
	OK_SET(ww, "outlook.office365.com", "443", NULL, 1, "Optimize");
	OK_SET(ww_all, "outlook.office365.com", NULL, NULL, 1, "Optimize");
	OK_SET(ad, "outlook.office365.com", "587", NULL, 2, "Allow");
	OK_SET(ad, "outlook.office365.com", "-", NULL, 2, "Allow");
	/* at 443 set 2 (143,587,993,995) is out: the Default set 71 wins */
	OK_SET(ad, "outlook.office365.com", "443", NULL, 71, "Default");
	OK_SET(d, "outlook.office365.com", "443", NULL, 71, "Default");
	/* www.microsoft.com: Default sets 50, 78, 125 */
	OK_SET(d, "www.microsoft.com", "443", NULL, 50, "Default");
	m365_list_unref(ad);
	m365_list_unref(d);
}

TEST(test_suffix_wildcard_matches_deeper_names)
{
	OK_SET(ww, "a.b.teams.microsoft.com", "443", NULL, 12, "Allow");
	OK_SET(ww, "x.teams.microsoft.com", "80", NULL, 12, "Allow");
	OK_SET(ww, "contoso.sharepoint.com", "443", NULL, 31, "Optimize");
}

TEST(test_apex_matches_through_its_own_entry)
{
	struct m365_explanation ex;
	const struct m365_hit *h;

	assert_int_equal(
	    m365_explain(ww, "teams.microsoft.com", "443", NULL, &ex), 0);
	assert_int_equal(ex.verdict.result, M365_OK);
	assert_int_equal(ex.verdict.set->id, 12);
	h = find_hit(&ex, M365_ON_DST, 12);
	assert_non_null(h);
	assert_string_equal(h->pattern, "teams.microsoft.com");
	m365_explanation_free(&ex);
}

TEST(test_suffix_wildcard_does_not_match_apex)
{
	struct m365_err err;
	static const char doc[] =
	    "[{\"id\": 1, \"serviceArea\": \"Skype\", \"category\": \"Allow\","
	    " \"required\": true, \"expressRoute\": false,"
	    " \"tcpPorts\": \"443\", \"urls\": [\"*.teams.microsoft.com\"]}]";
	struct m365_endpoints *ep =
	    m365_endpoints_parse(doc, sizeof(doc) - 1, "apex.json", &err);
	struct m365_list *l;

	if (ep == NULL)
		fail_msg("%s", err.msg);
	l = build_ep(ep, NULL, NULL, NULL);
	NO_MATCH(l, "teams.microsoft.com", "443", NULL);
	NO_MATCH(l, "evilteams.microsoft.com", "443", NULL);
	OK_SET(l, "a.teams.microsoft.com", "443", NULL, 1, "Allow");
	m365_list_unref(l);
}

TEST(test_suffix_wildcard_needs_a_dot_boundary)
{
	/* only the Default *.microsoft.com sets 50 and 78 match it */
	UNSEL(ww, "evilteams.microsoft.com", "443", NULL, 50, "Default");
	NO_MATCH(ww, "teams.microsoft.com.evil.example", "443", NULL);
	NO_MATCH(ww_all, "teams.microsoft.com.evil.example", NULL, NULL);
}

TEST(test_leading_star_without_dot_matches_any_prefix)
{
	/* set 51 "*cdn.onenote.net" (Default) */
	OK_SET(ww_all, "cdn.onenote.net", "443", NULL, 51, "Default");
	OK_SET(ww_all, "foocdn.onenote.net", "443", NULL, 51, "Default");
	OK_SET(ww_all, "a.bcdn.onenote.net", "443", NULL, 51, "Default");
	NO_MATCH(ww_all, "cdnx.onenote.net", "443", NULL);
	NO_MATCH(ww_all, "cdn.onenote.net.example.com", "443", NULL);
}

TEST(test_tenant_star_in_sharepoint_patterns)
{
	/* (the 2021 list's Common set 72, "*.cloudapp.net", is too broad to
	 * select: SharePoint only) */
	struct m365_list *l = build(W21, "Default", "SharePoint", NULL);
	struct m365_list *a = build(W21, ALL, "SharePoint", NULL);
	struct m365_explanation ex;

	/* set 39 (Default) has *-files and *-myfiles.sharepoint.com */
	OK_SET(l, "contoso-files.sharepoint.com", "443", NULL, 39, "Default");
	OK_SET(l, "contoso-myfiles.sharepoint.com", "80", NULL, 39, "Default");
	/* only Optimize set 31 (*.sharepoint.com) matches: unselected here */
	UNSEL(l, "contosofiles.sharepoint.com", "443", NULL, 31, "Optimize");
	OK_SET(a, "contoso-files.sharepoint.com", "443", NULL, 31, "Optimize");
	assert_int_equal(
	    m365_explain(l, "contoso-myfiles.sharepoint.com", "443", NULL, &ex),
	    0);
	assert_non_null(find_hit(&ex, M365_ON_DST, 39));
	assert_string_equal(find_hit(&ex, M365_ON_DST, 39)->pattern,
	                    "*-myfiles.sharepoint.com");
	m365_explanation_free(&ex);
	m365_list_unref(l);
	m365_list_unref(a);
}

TEST(test_middle_star_in_autodiscover_patterns)
{
	struct m365_list *d = build(DOD, ALL, NULL, NULL);
	struct m365_list *g = build(GCC, ALL, NULL, NULL);
	struct m365_explanation ex;

	/* worldwide set 8 "autodiscover.*.onmicrosoft.com" beats set 78 */
	OK_SET(ww_all, "autodiscover.contoso.onmicrosoft.com", "443", NULL, 8,
	       "Default");
	assert_int_equal(m365_explain(ww_all, "autodiscover.onmicrosoft.com",
	                              "443", NULL, &ex),
	                 0);
	assert_int_equal(ex.verdict.set->id, 78);
	assert_null(find_hit(&ex, M365_ON_DST, 8));
	m365_explanation_free(&ex);
	/* DoD set 5, GCC High set 4 */
	OK_SET(d, "autodiscover.contoso.mail.onmicrosoft.us", "443", NULL, 5,
	       "Default");
	OK_SET(d, "autodiscover.contoso.onmicrosoft.us", "80", NULL, 5,
	       "Default");
	OK_SET(d, "autodiscover.a.b.onmicrosoft.us", "443", NULL, 5, "Default");
	OK_SET(d, "autodiscover.x.onmicrosoft.com", "443", NULL, 5, "Default");
	NO_MATCH(d, "autodiscover.onmicrosoft.us", "443", NULL);
	NO_MATCH(d, "autodiscover.contoso.onmicrosoft.us.evil.example", "443",
	         NULL);
	OK_SET(g, "autodiscover.contoso.mail.onmicrosoft.com", "443", NULL, 4,
	       "Default");
	OK_SET(g, "autodiscover.contoso.onmicrosoft.us", "443", NULL, 4,
	       "Default");
	NO_MATCH(g, "autodiscover.onmicrosoft.us", "443", NULL);
	m365_list_unref(d);
	m365_list_unref(g);
}

TEST(test_ipv4_cidrs_match_inside_and_at_edges_only)
{
	OK_SET(ww, "13.107.6.152", "443", NULL, 1, "Optimize"); /* /31 */
	OK_SET(ww, "13.107.6.153", "443", NULL, 1, "Optimize");
	NO_MATCH(ww, "13.107.6.151", "443", NULL);
	NO_MATCH(ww, "13.107.6.154", "443", NULL);
	OK_SET(ww, "52.112.0.0", NULL, NULL, 11, "Optimize"); /* /14 */
	OK_SET(ww, "52.115.255.255", NULL, NULL, 11, "Optimize");
	NO_MATCH(ww, "52.116.0.0", NULL, NULL);
	OK_SET(ww, "52.111.255.255", "443", NULL, 46, "Allow"); /* 52.108/14 */
	/* a decimal spelling of 52.112.0.1 is a hostname, not that address */
	NO_MATCH(ww, "879755265", NULL, NULL);
}

TEST(test_ipv6_cidrs_and_mapped_ipv4_match)
{
	OK_SET(ww, "2603:1063::1", NULL, NULL, 11, "Optimize"); /* /38 */
	OK_SET(ww, "[2603:1063::1]", "443", NULL, 12, "Allow");
	OK_SET(ww, "2603:1063:3ff:ffff:ffff:ffff:ffff:ffff", NULL, NULL, 11,
	       "Optimize");
	NO_MATCH(ww, "2603:1063:400::", NULL, NULL);
	NO_MATCH(ww, "2603:1062:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL);
	OK_SET(ww, "2620:1ec:4::152", "443", NULL, 1, "Optimize"); /* /128 */
	NO_MATCH(ww, "2620:1ec:4::154", "443", NULL);
	OK_SET(ww, "::ffff:52.112.0.1", NULL, NULL, 11, "Optimize");
	OK_SET(ww, "[::ffff:13.107.6.152]", "443", NULL, 1, "Optimize");
}

TEST(test_known_port_must_be_in_tcp_ports)
{
	OK_SET(ww, "outlook.office365.com", "443", NULL, 1, "Optimize");
	NO_MATCH(ww, "outlook.office365.com", "8080", NULL);
	OK_SET(ww, "outlook.office365.com", "587", NULL, 2, "Allow");
	/* set 2 has no 443; only the Default set 71 matches there */
	UNSEL(ww, "smtp.office365.com", "443", NULL, 71, "Default");
	NO_MATCH(ww_all, "aka.ms", "80", NULL); /* set 17: 443 only */
}

TEST(test_unknown_port_matches_any_set)
{
	OK_SET(ww, "outlook.office365.com", "-", NULL, 1, "Optimize");
	OK_SET(ww, "outlook.office365.com", NULL, "-", 1, "Optimize");
	OK_SET(ww, "smtp.office365.com", "-", NULL, 2, "Allow");
}

TEST(test_udp_only_set_matches_only_unknown_port)
{
	struct m365_explanation ex;
	const struct m365_hit *h11, *h12;

	OK_SET(ww, "52.112.0.1", NULL, NULL, 11, "Optimize");
	OK_SET(ww, "52.112.0.1", "443", NULL, 12, "Allow");
	NO_MATCH(ww, "52.112.0.1", "3478", NULL); /* a UDP port of set 11 */
	assert_int_equal(m365_explain(ww, "52.112.0.1", "443", NULL, &ex), 0);
	h11 = find_hit(&ex, M365_ON_DST, 11);
	h12 = find_hit(&ex, M365_ON_DST, 12);
	assert_non_null(h11);
	assert_non_null(h12);
	assert_false(h11->port_ok);
	assert_true(h12->port_ok);
	assert_string_equal(h11->pattern, "52.112.0.0/14");
	assert_int_equal(ex.port, 443);
	m365_explanation_free(&ex);
}

TEST(test_invalid_port_is_refused)
{
	REFUSED("teams.microsoft.com", "0", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "65536", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "abc", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "443x", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "-1", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "99999999999999999999", NULL, BAD_PORT,
	        "invalid port");
	/* only "-" as received, or no port, is unknown */
	REFUSED("teams.microsoft.com", "", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "%2d", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "%2D", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "+443", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "0443x", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", " 443", NULL, BAD_PORT, "invalid port");
	REFUSED("teams.microsoft.com", "--", NULL, BAD_PORT, "invalid port");
}

TEST(test_port_parse)
{
	assert_int_equal(m365_port_parse(NULL), -1);
	assert_int_equal(m365_port_parse("-"), -1);
	assert_int_equal(m365_port_parse(""), 0);
	assert_int_equal(m365_port_parse("%2d"), 0);
	assert_int_equal(m365_port_parse("%2D"), 0);
	assert_int_equal(m365_port_parse("+443"), 0);
	assert_int_equal(m365_port_parse("0443x"), 0);
	assert_int_equal(m365_port_parse("443 "), 0);
	assert_int_equal(m365_port_parse("0"), 0);
	assert_int_equal(m365_port_parse("65536"), 0);
	assert_int_equal(m365_port_parse("-1"), 0);
	assert_int_equal(m365_port_parse("%"), 0);
	assert_int_equal(m365_port_parse("%4"), 0);
	assert_int_equal(m365_port_parse("443"), 443);
	assert_int_equal(m365_port_parse("1"), 1);
	assert_int_equal(m365_port_parse("65535"), 65535);
	assert_int_equal(m365_port_parse("%34%34%33"), 443);
}

TEST(test_default_only_match_is_err_with_category_default)
{
	struct m365_verdict v;

	m365_classify(ww, "aka.ms", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(v.why, M365_WHY_UNSELECTED);
	assert_string_equal(v.category, "Default");
	assert_non_null(v.set);
	assert_int_equal(v.set->id, 17);
	OK_SET(ww_all, "aka.ms", "443", NULL, 17, "Default");
}

TEST(test_service_area_filter_leaves_other_areas_out)
{
	struct m365_list *sk = build(WW, NULL, "Skype", NULL);

	assert_int_equal(m365_list_selected(sk), 2);
	UNSEL(sk, "outlook.office365.com", "443", NULL, 1, "Optimize");
	OK_SET(sk, "teams.microsoft.com", "443", NULL, 12, "Allow");
	OK_SET(sk, "52.112.0.1", NULL, NULL, 11, "Optimize");
	m365_list_unref(sk);
}

TEST(test_sni_must_be_a_bypass_too)
{
	OK_SET(ww, "teams.microsoft.com", "443", "teams.microsoft.com", 12,
	       "Allow");
	OK_SET(ww, "52.112.0.1", "443", "teams%2emicrosoft.com", 12, "Allow");
	OK_SET(ww, "teams.microsoft.com", "443", "", 12, "Allow");
	REFUSED("teams.microsoft.com", "443", "evil.example", SNI,
	        "SNI is not a bypass");
	REFUSED("teams.microsoft.com", "443", "aka.ms", SNI,
	        "SNI is not a bypass");
	expect(ww, "evil.example", "443", "teams.microsoft.com", M365_ERR,
	       M365_WHY_NO_MATCH, ANYSET, ANY);
}

TEST(test_sni_is_judged_at_the_same_port)
{
	OK_SET(ww, "outlook.office365.com", "587", "smtp.office365.com", 2,
	       "Allow");
	REFUSED("outlook.office365.com", "443", "smtp.office365.com", SNI,
	        "SNI is not a bypass");
}

TEST(test_invalid_inputs_are_err_with_messages)
{
	REFUSED(NULL, "443", NULL, NO_DST, "missing destination");
	REFUSED("", "443", NULL, NO_DST, "missing destination");
	REFUSED("-", "443", NULL, NO_DST, "missing destination");
	REFUSED("teams microsoft.com", "443", NULL, BAD_DST,
	        "invalid destination");
	REFUSED("*.teams.microsoft.com", "443", NULL, BAD_DST,
	        "invalid destination");
	REFUSED("teams..microsoft.com", NULL, NULL, BAD_DST,
	        "invalid destination");
	REFUSED("teams.microsoft.com", "443", "a b", BAD_SNI, "invalid SNI");
	REFUSED("teams.microsoft.com", "443", "x..y", BAD_SNI, "invalid SNI");
}

TEST(test_null_list_answers_no_list)
{
	struct m365_explanation ex;

	expect_message(NULL, "teams.microsoft.com", "443", NULL,
	               M365_WHY_NO_LIST, "no list loaded");
	assert_int_equal(
	    m365_explain(NULL, "teams.microsoft.com", "443", NULL, &ex), 0);
	assert_int_equal(ex.verdict.why, M365_WHY_NO_LIST);
	m365_explanation_free(&ex);
}

TEST(test_local_bypass_rules_answer_local)
{
	struct m365_list *l = build(WW, NULL, NULL,
	                            "bypass *.zoom.us\n"
	                            "bypass 203.0.113.0/24\n"
	                            "bypass re:^meet[0-9]+\\.example\\.net$\n"
	                            "bypass *.cdn.*.example.org\n"
	                            "bypass 2001:db8::/32\n");
	struct m365_verdict v;

	m365_classify(l, "a.zoom.us", "443", NULL, &v);
	assert_int_equal(v.result, M365_OK);
	assert_int_equal(v.why, M365_WHY_LOCAL);
	assert_string_equal(v.category, "Local");
	assert_string_equal(v.service, "Local");
	assert_null(v.set);
	assert_non_null(v.rule);
	assert_int_equal(v.rule->line, 1);
	NO_MATCH(l, "zoom.us", "443", NULL);
	LOCAL(l, "203.0.113.7", "8080", NULL); /* local rules ignore ports */
	NO_MATCH(l, "203.0.114.1", NULL, NULL);
	LOCAL(l, "MEET12.Example.NET.", "443", NULL);
	NO_MATCH(l, "meetx.example.net", "443", NULL);
	NO_MATCH(l, "ameet1.example.net", "443", NULL);
	LOCAL(l, "x.cdn.y.example.org", "443", NULL); /* two stars */
	NO_MATCH(l, "cdn.y.example.org", "443", NULL);
	LOCAL(l, "2001:db8::5", NULL, NULL);
	m365_list_unref(l);
}

/* Names of every length around what an index entry keeps of its key (24
 * bytes, then a pointer): each matches itself only, not a name of the same
 * length that differs in its first, 16th, 17th or last byte. */
TEST(test_local_names_of_every_length_match_exactly)
{
	char text[8192] = "", name[64];
	struct m365_list *l;
	size_t n, at, len = 0;

	/* "a...a.example" of 9 to 41 bytes: exact names, and the same names
	 * as "*." suffixes under "s-" */
	for (n = 1; n <= 33; n++) {
		len += (size_t)snprintf(
		    text + len, sizeof(text) - len,
		    "bypass %.*s.example\nbypass *.s-%.*s.example\n", (int)n,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", (int)n,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	}
	l = build(WW, NULL, NULL, text);
	for (n = 1; n <= 33; n++) {
		size_t nl =
		    (size_t)snprintf(name, sizeof(name), "%.*s.example", (int)n,
		                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		size_t pos[] = {0, 15, 16, nl - 1};
		LOCAL(l, name, "443", NULL);
		for (at = 0; at < sizeof(pos) / sizeof(pos[0]); at++) {
			char other[64];
			if (pos[at] >= nl)
				continue;
			memcpy(other, name, nl + 1);
			other[pos[at]] = other[pos[at]] == 'b' ? 'c' : 'b';
			NO_MATCH(l, other, "443", NULL);
		}
		snprintf(name, sizeof(name), "x.s-%.*s.example", (int)n,
		         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		LOCAL(l, name, "443", NULL);
		name[nl + 3] = 'x'; /* the last byte of its key */
		NO_MATCH(l, name, "443", NULL);
	}
	m365_list_unref(l);
}

TEST(test_microsoft_winner_is_preferred_over_local_bypass)
{
	struct m365_list *l = build(
	    WW, NULL, NULL, "bypass teams.microsoft.com\nbypass aka.ms\n");

	OK_SET(l, "teams.microsoft.com", "443", NULL, 12, "Allow");
	/* aka.ms only matches the unselected set 17: the local rule decides */
	LOCAL(l, "aka.ms", "443", NULL);
	m365_list_unref(l);
}

TEST(test_local_never_beats_everything)
{
	struct m365_list *l = build(WW, NULL, NULL,
	                            "bypass *.example.net\n"
	                            "never bad.example.net\n"
	                            "never teams.microsoft.com\n"
	                            "never 52.112.0.0/14\n");
	struct m365_verdict v;

	m365_classify(l, "teams.microsoft.com", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(v.why, M365_WHY_NEVER);
	assert_string_equal(v.message, "local never rule");
	assert_non_null(v.rule);
	assert_int_equal(v.rule->line, 3);
	expect(l, "bad.example.net", "443", NULL, M365_ERR, M365_WHY_NEVER,
	       ANYSET, ANY);
	LOCAL(l, "good.example.net", "443", NULL);
	expect(l, "52.112.0.1", NULL, NULL, M365_ERR, M365_WHY_NEVER, ANYSET,
	       ANY);
	expect(l, "::ffff:52.112.0.1", NULL, NULL, M365_ERR, M365_WHY_NEVER,
	       ANYSET, ANY);
	OK_SET(l, "a.teams.microsoft.com", "443", NULL, 12, "Allow");
	/* a never rule on the SNI also denies */
	m365_classify(l, "a.teams.microsoft.com", "443", "teams.microsoft.com",
	              &v);
	assert_int_equal(v.result, M365_ERR);
	m365_list_unref(l);
}

/*
 * Classifies in a loop from a thread; returns the number of wrong answers.
 * The thread never calls a cleanup function: its PCRE2 match data must be
 * freed by the library's thread-exit destructor, or LeakSanitizer fails
 * this test binary at exit.
 */
static void *
classify_loop(void *arg)
{
	const struct m365_list *l = arg;
	struct m365_verdict v;
	size_t i, wrong = 0;

	for (i = 0; i < 2000; i++) {
		m365_classify(l, "meet7.example.net", "443", NULL, &v);
		wrong += v.why != M365_WHY_LOCAL;
		m365_classify(l, "meetx.example.net", "443", NULL, &v);
		wrong += v.why != M365_WHY_NO_MATCH;
		m365_classify(l, "a.teams.microsoft.com", "443", NULL, &v);
		wrong += v.set == NULL || v.set->id != 12;
	}
	return (void *)wrong; /* the match data goes with the thread */
}

TEST(test_classify_is_safe_from_many_threads_on_one_list)
{
	struct m365_list *l =
	    build(WW, NULL, NULL, "bypass re:^meet[0-9]+\\.example\\.net$\n");
	pthread_t t[4];
	void *wrong;
	size_t i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, classify_loop, l),
		                 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &wrong), 0);
		assert_int_equal((size_t)wrong, 0);
	}
	m365_list_unref(l);
}

TEST(test_explain_lists_every_hit_with_port_and_policy_flags)
{
	struct m365_explanation ex;
	struct m365_verdict v;
	const struct m365_hit *h;
	char buf[256];

	assert_int_equal(m365_explain(ww, "Outlook.Office365.com", "443",
	                              "teams.microsoft.com", &ex),
	                 0);
	m365_classify(ww, "Outlook.Office365.com", "443", "teams.microsoft.com",
	              &v);
	assert_int_equal(ex.verdict.result, v.result);
	assert_int_equal(ex.verdict.why, M365_WHY_SET);
	assert_ptr_equal(ex.verdict.set, v.set);
	assert_string_equal(ex.dst.name, "outlook.office365.com");
	assert_string_equal(ex.sni.name, "teams.microsoft.com");
	assert_int_equal(ex.port, 443);
	assert_true(ex.n_hits >= 4);
	assert_int_equal(ex.hits[0].on, M365_ON_DST); /* DST first */
	h = find_hit(&ex, M365_ON_DST, 1);
	assert_true(h != NULL && h->port_ok && h->selected);
	h = find_hit(&ex, M365_ON_DST, 2);
	assert_true(h != NULL && !h->port_ok && h->selected);
	h = find_hit(&ex, M365_ON_DST, 71);
	assert_true(h != NULL && h->port_ok && !h->selected);
	assert_string_equal(h->pattern, "*.office365.com");
	h = find_hit(&ex, M365_ON_SNI, 12);
	assert_true(h != NULL && h->port_ok && h->selected);
	assert_null(find_hit(&ex, M365_ON_DST, 12));
	assert_true(m365_verdict_reason(&ex.verdict, buf, sizeof(buf))[0] !=
	            '\0');
	m365_explanation_free(&ex);

	assert_int_equal(m365_explain(ww, "aka.ms", "-", NULL, &ex), 0);
	assert_int_equal(ex.port, -1);
	assert_int_equal(ex.verdict.why, M365_WHY_UNSELECTED);
	m365_explanation_free(&ex);
	assert_int_equal(m365_explain(ww, "aka.ms", "x", NULL, &ex), 0);
	assert_int_equal(ex.port, 0);
	m365_explanation_free(&ex);
	m365_explanation_free(NULL);
}

TEST(test_explain_reports_local_rule_hits)
{
	struct m365_list *l =
	    build(WW, NULL, NULL, "never teams.microsoft.com\n");
	struct m365_explanation ex;
	size_t i, rules = 0;

	assert_int_equal(
	    m365_explain(l, "teams.microsoft.com", "443", NULL, &ex), 0);
	assert_int_equal(ex.verdict.why, M365_WHY_NEVER);
	for (i = 0; i < ex.n_hits; i++)
		if (ex.hits[i].rule != NULL) {
			rules++;
			assert_string_equal(ex.hits[i].pattern,
			                    "teams.microsoft.com");
		}
	assert_int_equal(rules, 1);
	assert_non_null(find_hit(&ex, M365_ON_DST, 12));
	m365_explanation_free(&ex);
	m365_list_unref(l);
}

TEST(test_china_port_change_between_snapshots)
{
	struct m365_list *a = build(CNA, NULL, NULL, NULL);
	struct m365_list *b = build(CNB, NULL, NULL, NULL);

	/* set 2 tcpPorts "25,53,80,443" became "443" */
	OK_SET(a, "x.protection.partner.outlook.cn", "80", NULL, 2, "Allow");
	UNSEL(b, "x.protection.partner.outlook.cn", "80", NULL, 12, "Default");
	OK_SET(b, "x.protection.partner.outlook.cn", "443", NULL, 2, "Allow");
	OK_SET(b, "x.mail.protection.partner.outlook.cn", "25", NULL, 27,
	       "Allow");
	m365_list_unref(a);
	m365_list_unref(b);
}

TEST(test_build_refuses_a_broad_selected_set)
{
	struct m365_err err;
	struct m365_policy p;
	struct m365_endpoints *ep = m365_endpoints_load_file(W21, &err);
	struct m365_list *l;

	assert_non_null(ep);
	assert_int_equal(m365_policy_init(&p, ALL, NULL, NULL, &err), 0);
	memset(&err, 0, sizeof(err));
	assert_null(m365_list_build(ep, NULL, &p, &err)); /* takes ep */
	m365_policy_free(&p);
	assert_int_equal(err.code, M365_E_REFUSED);
	assert_non_null(strstr(err.msg, "set 72: urls[0] \"*.cloudapp.net\""));
	/* the same list loads where Default is not selected */
	l = build(W21, NULL, NULL, NULL);
	UNSEL(l, "x.cloudapp.net", "443", NULL, 72, "Default");
	m365_list_unref(l);
}

TEST(test_build_fails_when_policy_selects_nothing)
{
	struct m365_err err;
	struct m365_policy p;
	struct m365_endpoints *ep = m365_endpoints_load_file(WW, &err);
	struct m365_local *never =
	    m365_local_parse("never a.example\n", 16, "t.list", &err);
	struct m365_list *l;

	assert_non_null(ep);
	assert_non_null(never);
	/* no Optimize set in Common */
	assert_int_equal(m365_policy_init(&p, "Optimize", "Common", NULL, &err),
	                 0);
	memset(&err, 0, sizeof(err));
	assert_null(m365_list_build(ep, never, &p, &err)); /* takes ep, never */
	assert_non_null(strstr(err.msg, "categories, service areas: "));
	/* with a local bypass rule the same policy is usable */
	ep = m365_endpoints_load_file(WW, &err);
	l = m365_list_build(
	    ep, m365_local_parse("bypass a.example\n", 17, "t.list", &err), &p,
	    &err);
	m365_policy_free(&p);
	assert_non_null(l);
	assert_int_equal(m365_list_selected(l), 0);
	LOCAL(l, "a.example", "443", NULL);
	UNSEL(l, "outlook.office365.com", "443", NULL, 1, "Optimize");
	m365_list_unref(l);
}

TEST(test_options_that_select_nothing_name_both_options)
{
	static const struct m365_option_names names = {
	    .categories = "m365_bypass.Categories",
	    .service_areas = "m365_bypass.ServiceAreas"};
	struct m365_options o = {.categories = "Optimize",
	                         .service_areas = "Common",
	                         .names = &names};
	struct m365_err err;

	/* the worldwide 2025 list has no Optimize set in Common */
	o.list = WW;
	assert_null(m365_list_load(&o, &err));
	assert_int_equal(err.code, M365_E_INPUT);
	assert_non_null(strstr(err.msg,
	                       "m365_bypass.Categories, "
	                       "m365_bypass.ServiceAreas: the policy"));
	o.service_areas = "Common,Nope";
	assert_null(m365_list_load(&o, &err));
	assert_non_null(strstr(err.msg, "m365_bypass.ServiceAreas: unknown "
	                                "service area \"Nope\""));
}

TEST(test_list_load_follows_the_options)
{
	struct m365_options o = {0};
	struct m365_err err;
	struct m365_list *l;

	l = m365_list_load(&o, &err); /* bundled list, default policy */
	assert_non_null(l);
	assert_int_equal(m365_list_endpoints(l)->n_sets, 64);
	assert_int_equal(m365_list_selected(l), 10);
	assert_null(m365_list_local(l));
	assert_int_equal(m365_list_policy(l)->categories, 3u);
	assert_ptr_equal(m365_list_ref(l), l);
	m365_list_unref(l);
	OK_SET(l, "teams.microsoft.com", "443", NULL, 12, "Allow");
	m365_list_unref(l);

	o.list = FIXTURE("worldwide-2025-12-01-with-MEM.json");
	o.categories = "Default";
	o.service_areas = "MEM";
	l = m365_list_load(&o, &err);
	assert_non_null(l);
	assert_int_equal(m365_list_selected(l), 14);
	OK_SET(l, "time.windows.com", NULL, NULL, 165, "Default");
	NO_MATCH(l, "time.windows.com", "443", NULL); /* set 165: UDP only */
	m365_list_unref(l);

	o.service_areas = "MEM,Nope";
	assert_null(m365_list_load(&o, &err));
	assert_int_equal(err.code, M365_E_INPUT);
	assert_non_null(strstr(err.msg, "service areas: unknown service area "
	                                "\"Nope\""));
	assert_non_null(strstr(err.msg, "MEM")); /* the known ones */
	o.service_areas = NULL;
	o.categories = "Bogus";
	assert_null(m365_list_load(&o, &err));
	assert_int_equal(err.code, M365_E_INPUT);
	assert_non_null(strstr(err.msg, "categories: "));
	assert_null(strstr(err.msg, "--")); /* no front end's option */
	o.categories = NULL;
	o.local = "tests/fixtures/no-such.list";
	assert_null(m365_list_load(&o, &err));
	assert_non_null(strstr(err.msg, "no-such.list"));
	o.local = NULL;
	o.list = FIXTURE("no-such.json");
	assert_null(m365_list_load(&o, &err));
	assert_int_equal(err.code, M365_E_IO);
	assert_non_null(strstr(err.msg, "no-such.json"));
	m365_list_unref(NULL);
}

/* A range inside ::ffff:0:0/96 is an IPv4 range, as an IPv4-mapped
 * address is an IPv4 address; a never range that holds that /96 holds
 * every IPv4 address. */
TEST(test_ipv4_mapped_ranges_are_ipv4_ranges)
{
	struct m365_list *l =
	    build(WW, NULL, NULL, "bypass ::ffff:198.51.100.0/120\n");
	struct m365_list *n = build(WW, NULL, NULL, "never ::/0\n");
	struct m365_verdict v;

	m365_classify(l, "198.51.100.5", "443", NULL, &v);
	assert_int_equal(v.result, M365_OK);
	assert_int_equal(v.why, M365_WHY_LOCAL);
	m365_classify(l, "::ffff:198.51.100.5", "443", NULL, &v);
	assert_int_equal(v.result, M365_OK);
	m365_classify(l, "198.51.101.5", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	/* Teams media 52.112.0.0/14 is an Optimize range; never ::/0 */
	m365_classify(n, "52.112.0.1", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(v.why, M365_WHY_NEVER);
	m365_list_unref(l);
	m365_list_unref(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_name_matches_its_set),
	    cmocka_unit_test(
	        test_best_category_wins_over_lower_id_and_lowest_id_breaks_ties),
	    cmocka_unit_test(test_suffix_wildcard_matches_deeper_names),
	    cmocka_unit_test(test_apex_matches_through_its_own_entry),
	    cmocka_unit_test(test_suffix_wildcard_does_not_match_apex),
	    cmocka_unit_test(test_suffix_wildcard_needs_a_dot_boundary),
	    cmocka_unit_test(test_leading_star_without_dot_matches_any_prefix),
	    cmocka_unit_test(test_tenant_star_in_sharepoint_patterns),
	    cmocka_unit_test(test_middle_star_in_autodiscover_patterns),
	    cmocka_unit_test(test_ipv4_cidrs_match_inside_and_at_edges_only),
	    cmocka_unit_test(test_ipv6_cidrs_and_mapped_ipv4_match),
	    cmocka_unit_test(test_known_port_must_be_in_tcp_ports),
	    cmocka_unit_test(test_unknown_port_matches_any_set),
	    cmocka_unit_test(test_udp_only_set_matches_only_unknown_port),
	    cmocka_unit_test(test_invalid_port_is_refused),
	    cmocka_unit_test(test_port_parse),
	    cmocka_unit_test(
	        test_default_only_match_is_err_with_category_default),
	    cmocka_unit_test(test_service_area_filter_leaves_other_areas_out),
	    cmocka_unit_test(test_sni_must_be_a_bypass_too),
	    cmocka_unit_test(test_sni_is_judged_at_the_same_port),
	    cmocka_unit_test(test_invalid_inputs_are_err_with_messages),
	    cmocka_unit_test(test_null_list_answers_no_list),
	    cmocka_unit_test(test_local_bypass_rules_answer_local),
	    cmocka_unit_test(test_local_names_of_every_length_match_exactly),
	    cmocka_unit_test(
	        test_microsoft_winner_is_preferred_over_local_bypass),
	    cmocka_unit_test(test_local_never_beats_everything),
	    cmocka_unit_test(
	        test_classify_is_safe_from_many_threads_on_one_list),
	    cmocka_unit_test(
	        test_explain_lists_every_hit_with_port_and_policy_flags),
	    cmocka_unit_test(test_explain_reports_local_rule_hits),
	    cmocka_unit_test(test_china_port_change_between_snapshots),
	    cmocka_unit_test(test_build_refuses_a_broad_selected_set),
	    cmocka_unit_test(test_build_fails_when_policy_selects_nothing),
	    cmocka_unit_test(test_list_load_follows_the_options),
	    cmocka_unit_test(test_ipv4_mapped_ranges_are_ipv4_ranges),
	    cmocka_unit_test(
	        test_options_that_select_nothing_name_both_options),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
