/* tests/unit/test_classify.c - the matcher and the policy through
 * m365_list_build/m365_list_load and m365_classify/m365_explain, on the real
 * Microsoft snapshots (expected sets checked against the fixture JSON). */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#define WW FIXTURE("worldwide-2025-12-01.json")
#define ALL "Optimize,Allow,Default"
#define ANY "*" /* category not checked */
#define NOSET 0  /* the verdict carries no set */
#define ANYSET -1

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

	memset(&err, 0, sizeof(err));
	if (local != NULL &&
	    (l = m365_local_parse(local, strlen(local), "t.list", &err)) == NULL) {
		m365_endpoints_free(ep);
		fail_msg("local: %s", err.msg);
	}
	if (m365_policy_init(&p, cats, areas, &err) != 0) {
		m365_endpoints_free(ep);
		m365_local_free(l);
		fail_msg("policy: %s", err.msg);
	}
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
		fail_msg("%s port %s sni %s: got result %d why %d set %lld "
			 "category %s; expected %d %d %lld %s",
			 dst ? dst : "NULL", port ? port : "NULL",
			 sni ? sni : "NULL", (int)v.result, (int)v.why,
			 v.set ? (long long)v.set->id : 0LL,
			 v.category ? v.category : "NULL", (int)r, (int)why,
			 (long long)set, cat ? cat : "NULL");
}

#define OK_SET(l, d, p, s, id, c) expect(l, d, p, s, M365_OK, M365_WHY_SET, id, c)
#define NO_MATCH(l, d, p, s) expect(l, d, p, s, M365_ERR, M365_WHY_NO_MATCH, NOSET, NULL)

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

static void
test_exact_name_matches_its_set(void **state)
{
	struct m365_verdict v;

	(void)state;
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

static void
test_best_category_wins_over_lower_id_and_lowest_id_breaks_ties(void **state)
{
	struct m365_list *ad = build(WW, "Allow,Default", NULL, NULL);
	struct m365_list *d = build(WW, "Default", NULL, NULL);

	(void)state;
	/* outlook.office365.com: set 1 Optimize, set 2 Allow, 71 Default */
	OK_SET(ww, "outlook.office365.com", "443", NULL, 1, "Optimize");
	OK_SET(ww_all, "outlook.office365.com", NULL, NULL, 1, "Optimize");
	OK_SET(ad, "outlook.office365.com", "443", NULL, 2, "Allow");
	OK_SET(d, "outlook.office365.com", "443", NULL, 71, "Default");
	/* www.microsoft.com: Default sets 50, 78, 125 */
	OK_SET(d, "www.microsoft.com", "443", NULL, 50, "Default");
	m365_list_unref(ad);
	m365_list_unref(d);
}

static void
test_suffix_wildcard_matches_deeper_names(void **state)
{
	(void)state;
	OK_SET(ww, "a.b.teams.microsoft.com", "443", NULL, 12, "Allow");
	OK_SET(ww, "x.teams.microsoft.com", "80", NULL, 12, "Allow");
	OK_SET(ww, "contoso.sharepoint.com", "443", NULL, 31, "Optimize");
}

static void
test_apex_matches_through_its_own_entry(void **state)
{
	struct m365_explanation ex;
	const struct m365_hit *h;

	(void)state;
	assert_int_equal(m365_explain(ww, "teams.microsoft.com", "443", NULL, &ex), 0);
	assert_int_equal(ex.verdict.result, M365_OK);
	assert_int_equal(ex.verdict.set->id, 12);
	h = find_hit(&ex, M365_ON_DST, 12);
	assert_non_null(h);
	assert_string_equal(h->pattern, "teams.microsoft.com");
	m365_explanation_free(&ex);
}

static void
test_suffix_wildcard_does_not_match_apex(void **state)
{
	struct m365_err err;
	static const char doc[] =
	    "[{\"id\": 1, \"serviceArea\": \"Skype\", \"category\": \"Allow\","
	    " \"required\": true, \"expressRoute\": false,"
	    " \"tcpPorts\": \"443\", \"urls\": [\"*.teams.microsoft.com\"]}]";
	struct m365_endpoints *ep =
	    m365_endpoints_parse(doc, sizeof(doc) - 1, "apex.json", &err);
	struct m365_list *l;

	(void)state;
	if (ep == NULL)
		fail_msg("%s", err.msg);
	l = build_ep(ep, NULL, NULL, NULL);
	NO_MATCH(l, "teams.microsoft.com", "443", NULL);
	NO_MATCH(l, "evilteams.microsoft.com", "443", NULL);
	OK_SET(l, "a.teams.microsoft.com", "443", NULL, 1, "Allow");
	m365_list_unref(l);
}

static void
test_suffix_wildcard_needs_a_dot_boundary(void **state)
{
	(void)state;
	/* only the Default *.microsoft.com sets 50 and 78 match it */
	expect(ww, "evilteams.microsoft.com", "443", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 50, "Default");
	NO_MATCH(ww, "teams.microsoft.com.evil.example", "443", NULL);
	NO_MATCH(ww_all, "teams.microsoft.com.evil.example", NULL, NULL);
}

static void
test_leading_star_without_dot_matches_any_prefix(void **state)
{
	(void)state;
	/* set 51 "*cdn.onenote.net" (Default) */
	OK_SET(ww_all, "cdn.onenote.net", "443", NULL, 51, "Default");
	OK_SET(ww_all, "foocdn.onenote.net", "443", NULL, 51, "Default");
	OK_SET(ww_all, "a.bcdn.onenote.net", "443", NULL, 51, "Default");
	NO_MATCH(ww_all, "cdnx.onenote.net", "443", NULL);
	NO_MATCH(ww_all, "cdn.onenote.net.example.com", "443", NULL);
}

static void
test_tenant_star_in_sharepoint_patterns(void **state)
{
	struct m365_list *l = build(FIXTURE("worldwide-2021-10-11.json"),
				    "Default", NULL, NULL);
	struct m365_list *a = build(FIXTURE("worldwide-2021-10-11.json"), ALL,
				    NULL, NULL);
	struct m365_explanation ex;

	(void)state;
	/* set 39 (Default) has *-files and *-myfiles.sharepoint.com */
	OK_SET(l, "contoso-files.sharepoint.com", "443", NULL, 39, "Default");
	OK_SET(l, "contoso-myfiles.sharepoint.com", "80", NULL, 39, "Default");
	/* only Optimize set 31 (*.sharepoint.com) matches: unselected here */
	expect(l, "contosofiles.sharepoint.com", "443", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 31, "Optimize");
	OK_SET(a, "contoso-files.sharepoint.com", "443", NULL, 31, "Optimize");
	assert_int_equal(m365_explain(l, "contoso-myfiles.sharepoint.com", "443",
				      NULL, &ex), 0);
	assert_non_null(find_hit(&ex, M365_ON_DST, 39));
	assert_string_equal(find_hit(&ex, M365_ON_DST, 39)->pattern,
			    "*-myfiles.sharepoint.com");
	m365_explanation_free(&ex);
	m365_list_unref(l);
	m365_list_unref(a);
}

static void
test_middle_star_in_autodiscover_patterns(void **state)
{
	struct m365_list *d = build(FIXTURE("usgovdod-2025-12-01.json"), ALL,
				    NULL, NULL);
	struct m365_list *g = build(FIXTURE("usgovgcchigh-2025-12-01.json"), ALL,
				    NULL, NULL);
	struct m365_explanation ex;

	(void)state;
	/* worldwide set 8 "autodiscover.*.onmicrosoft.com" beats set 78 */
	OK_SET(ww_all, "autodiscover.contoso.onmicrosoft.com", "443", NULL, 8,
	       "Default");
	assert_int_equal(m365_explain(ww_all, "autodiscover.onmicrosoft.com",
				      "443", NULL, &ex), 0);
	assert_int_equal(ex.verdict.set->id, 78);
	assert_null(find_hit(&ex, M365_ON_DST, 8));
	m365_explanation_free(&ex);
	/* DoD set 5, GCC High set 4 */
	OK_SET(d, "autodiscover.contoso.mail.onmicrosoft.us", "443", NULL, 5,
	       "Default");
	OK_SET(d, "autodiscover.contoso.onmicrosoft.us", "80", NULL, 5, "Default");
	OK_SET(d, "autodiscover.a.b.onmicrosoft.us", "443", NULL, 5, "Default");
	OK_SET(d, "autodiscover.x.onmicrosoft.com", "443", NULL, 5, "Default");
	NO_MATCH(d, "autodiscover.onmicrosoft.us", "443", NULL);
	NO_MATCH(d, "autodiscover.contoso.onmicrosoft.us.evil.example", "443",
		 NULL);
	OK_SET(g, "autodiscover.contoso.mail.onmicrosoft.com", "443", NULL, 4,
	       "Default");
	OK_SET(g, "autodiscover.contoso.onmicrosoft.us", "443", NULL, 4, "Default");
	NO_MATCH(g, "autodiscover.onmicrosoft.us", "443", NULL);
	m365_list_unref(d);
	m365_list_unref(g);
}

static void
test_ipv4_cidrs_match_inside_and_at_edges_only(void **state)
{
	(void)state;
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

static void
test_ipv6_cidrs_and_mapped_ipv4_match(void **state)
{
	(void)state;
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

static void
test_known_port_must_be_in_tcp_ports(void **state)
{
	(void)state;
	OK_SET(ww, "outlook.office365.com", "443", NULL, 1, "Optimize");
	NO_MATCH(ww, "outlook.office365.com", "8080", NULL);
	OK_SET(ww, "outlook.office365.com", "587", NULL, 2, "Allow");
	/* set 2 has no 443; only the Default set 71 matches there */
	expect(ww, "smtp.office365.com", "443", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 71, "Default");
	NO_MATCH(ww_all, "aka.ms", "80", NULL); /* set 17: 443 only */
}

static void
test_unknown_port_matches_any_set(void **state)
{
	(void)state;
	OK_SET(ww, "outlook.office365.com", "-", NULL, 1, "Optimize");
	OK_SET(ww, "outlook.office365.com", "", NULL, 1, "Optimize");
	OK_SET(ww, "outlook.office365.com", NULL, "-", 1, "Optimize");
	OK_SET(ww, "smtp.office365.com", "-", NULL, 2, "Allow");
}

static void
test_udp_only_set_matches_only_unknown_port(void **state)
{
	struct m365_explanation ex;
	const struct m365_hit *h11, *h12;

	(void)state;
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

static void
test_invalid_port_is_refused(void **state)
{
	(void)state;
	expect_message(ww, "teams.microsoft.com", "0", NULL, M365_WHY_BAD_PORT,
		       "invalid port");
	expect_message(ww, "teams.microsoft.com", "65536", NULL,
		       M365_WHY_BAD_PORT, "invalid port");
	expect_message(ww, "teams.microsoft.com", "abc", NULL,
		       M365_WHY_BAD_PORT, "invalid port");
	expect_message(ww, "teams.microsoft.com", "443x", NULL,
		       M365_WHY_BAD_PORT, "invalid port");
	expect_message(ww, "teams.microsoft.com", "-1", NULL, M365_WHY_BAD_PORT,
		       "invalid port");
	expect_message(ww, "teams.microsoft.com", "99999999999999999999", NULL,
		       M365_WHY_BAD_PORT, "invalid port");
}

static void
test_default_only_match_is_err_with_category_default(void **state)
{
	struct m365_verdict v;

	(void)state;
	m365_classify(ww, "aka.ms", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(v.why, M365_WHY_UNSELECTED);
	assert_string_equal(v.category, "Default");
	assert_non_null(v.set);
	assert_int_equal(v.set->id, 17);
	OK_SET(ww_all, "aka.ms", "443", NULL, 17, "Default");
}

static void
test_service_area_filter_leaves_other_areas_out(void **state)
{
	struct m365_list *sk = build(WW, NULL, "Skype", NULL);

	(void)state;
	assert_int_equal(m365_list_selected(sk), 2);
	expect(sk, "outlook.office365.com", "443", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 1, "Optimize");
	OK_SET(sk, "teams.microsoft.com", "443", NULL, 12, "Allow");
	OK_SET(sk, "52.112.0.1", NULL, NULL, 11, "Optimize");
	m365_list_unref(sk);
}

static void
test_sni_must_be_a_bypass_too(void **state)
{
	(void)state;
	OK_SET(ww, "teams.microsoft.com", "443", "teams.microsoft.com", 12, "Allow");
	OK_SET(ww, "52.112.0.1", "443", "teams%2emicrosoft.com", 12, "Allow");
	OK_SET(ww, "teams.microsoft.com", "443", "", 12, "Allow");
	expect_message(ww, "teams.microsoft.com", "443", "evil.example",
		       M365_WHY_SNI, "SNI is not a bypass");
	expect_message(ww, "teams.microsoft.com", "443", "aka.ms", M365_WHY_SNI,
		       "SNI is not a bypass");
	expect(ww, "evil.example", "443", "teams.microsoft.com", M365_ERR,
	       M365_WHY_NO_MATCH, ANYSET, ANY);
}

static void
test_sni_is_judged_at_the_same_port(void **state)
{
	(void)state;
	OK_SET(ww, "outlook.office365.com", "587", "smtp.office365.com", 2,
	       "Allow");
	expect_message(ww, "outlook.office365.com", "443", "smtp.office365.com",
		       M365_WHY_SNI, "SNI is not a bypass");
}

static void
test_invalid_inputs_are_err_with_messages(void **state)
{
	(void)state;
	expect_message(ww, NULL, "443", NULL, M365_WHY_NO_DST,
		       "missing destination");
	expect_message(ww, "", "443", NULL, M365_WHY_NO_DST,
		       "missing destination");
	expect_message(ww, "-", "443", NULL, M365_WHY_NO_DST,
		       "missing destination");
	expect_message(ww, "teams microsoft.com", "443", NULL, M365_WHY_BAD_DST,
		       "invalid destination");
	expect_message(ww, "*.teams.microsoft.com", "443", NULL,
		       M365_WHY_BAD_DST, "invalid destination");
	expect_message(ww, "teams..microsoft.com", NULL, NULL, M365_WHY_BAD_DST,
		       "invalid destination");
	expect_message(ww, "teams.microsoft.com", "443", "a b", M365_WHY_BAD_SNI,
		       "invalid SNI");
	expect_message(ww, "teams.microsoft.com", "443", "x..y",
		       M365_WHY_BAD_SNI, "invalid SNI");
}

static void
test_null_list_answers_no_list(void **state)
{
	struct m365_explanation ex;

	(void)state;
	expect_message(NULL, "teams.microsoft.com", "443", NULL,
		       M365_WHY_NO_LIST, "no list loaded");
	assert_int_equal(m365_explain(NULL, "teams.microsoft.com", "443", NULL,
				      &ex), 0);
	assert_int_equal(ex.verdict.why, M365_WHY_NO_LIST);
	m365_explanation_free(&ex);
}

static void
test_local_bypass_rules_answer_local(void **state)
{
	struct m365_list *l = build(WW, NULL, NULL,
				    "bypass *.zoom.us\n"
				    "bypass 203.0.113.0/24\n"
				    "bypass re:^meet[0-9]+\\.example\\.net$\n");
	struct m365_verdict v;

	(void)state;
	m365_classify(l, "a.zoom.us", "443", NULL, &v);
	assert_int_equal(v.result, M365_OK);
	assert_int_equal(v.why, M365_WHY_LOCAL);
	assert_string_equal(v.category, "Local");
	assert_string_equal(v.service, "Local");
	assert_null(v.set);
	assert_non_null(v.rule);
	assert_int_equal(v.rule->line, 1);
	NO_MATCH(l, "zoom.us", "443", NULL);
	expect(l, "203.0.113.7", "8080", NULL, M365_OK, M365_WHY_LOCAL, NOSET,
	       "Local"); /* local rules ignore ports */
	NO_MATCH(l, "203.0.114.1", NULL, NULL);
	expect(l, "MEET12.Example.NET.", "443", NULL, M365_OK, M365_WHY_LOCAL,
	       NOSET, "Local");
	NO_MATCH(l, "meetx.example.net", "443", NULL);
	NO_MATCH(l, "ameet1.example.net", "443", NULL);
	m365_list_unref(l);
}

static void
test_microsoft_winner_is_preferred_over_local_bypass(void **state)
{
	struct m365_list *l = build(WW, NULL, NULL,
				    "bypass teams.microsoft.com\nbypass aka.ms\n");

	(void)state;
	OK_SET(l, "teams.microsoft.com", "443", NULL, 12, "Allow");
	/* aka.ms only matches the unselected set 17: the local rule decides */
	expect(l, "aka.ms", "443", NULL, M365_OK, M365_WHY_LOCAL, NOSET, "Local");
	m365_list_unref(l);
}

static void
test_local_never_beats_everything(void **state)
{
	struct m365_list *l = build(WW, NULL, NULL,
				    "bypass *.example.net\n"
				    "never bad.example.net\n"
				    "never teams.microsoft.com\n"
				    "never 52.112.0.0/14\n");
	struct m365_verdict v;

	(void)state;
	m365_classify(l, "teams.microsoft.com", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(v.why, M365_WHY_NEVER);
	assert_string_equal(v.message, "local never rule");
	assert_non_null(v.rule);
	assert_int_equal(v.rule->line, 3);
	expect(l, "bad.example.net", "443", NULL, M365_ERR, M365_WHY_NEVER,
	       ANYSET, ANY);
	expect(l, "good.example.net", "443", NULL, M365_OK, M365_WHY_LOCAL,
	       NOSET, "Local");
	expect(l, "52.112.0.1", NULL, NULL, M365_ERR, M365_WHY_NEVER, ANYSET, ANY);
	OK_SET(l, "a.teams.microsoft.com", "443", NULL, 12, "Allow");
	/* a never rule on the SNI also denies */
	m365_classify(l, "a.teams.microsoft.com", "443", "teams.microsoft.com", &v);
	assert_int_equal(v.result, M365_ERR);
	m365_list_unref(l);
}

static void
test_explain_lists_every_hit_with_port_and_policy_flags(void **state)
{
	struct m365_explanation ex;
	struct m365_verdict v;
	const struct m365_hit *h;
	char buf[256];

	(void)state;
	assert_int_equal(m365_explain(ww, "Outlook.Office365.com", "443",
				      "teams.microsoft.com", &ex), 0);
	m365_classify(ww, "Outlook.Office365.com", "443", "teams.microsoft.com", &v);
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
	assert_true(m365_verdict_reason(&ex.verdict, buf, sizeof(buf))[0] != '\0');
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

static void
test_explain_reports_local_rule_hits(void **state)
{
	struct m365_list *l = build(WW, NULL, NULL, "never teams.microsoft.com\n");
	struct m365_explanation ex;
	size_t i, rules = 0;

	(void)state;
	assert_int_equal(m365_explain(l, "teams.microsoft.com", "443", NULL, &ex), 0);
	assert_int_equal(ex.verdict.why, M365_WHY_NEVER);
	for (i = 0; i < ex.n_hits; i++)
		if (ex.hits[i].rule != NULL) {
			rules++;
			assert_string_equal(ex.hits[i].pattern, "teams.microsoft.com");
		}
	assert_int_equal(rules, 1);
	assert_non_null(find_hit(&ex, M365_ON_DST, 12));
	m365_explanation_free(&ex);
	m365_list_unref(l);
}

static void
test_china_port_change_between_snapshots(void **state)
{
	struct m365_list *a = build(FIXTURE("china-2025-12-01a.json"), NULL, NULL, NULL);
	struct m365_list *b = build(FIXTURE("china-2025-12-01b.json"), NULL, NULL, NULL);

	(void)state;
	/* set 2 tcpPorts "25,53,80,443" became "443" */
	OK_SET(a, "x.protection.partner.outlook.cn", "80", NULL, 2, "Allow");
	expect(b, "x.protection.partner.outlook.cn", "80", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 12, "Default");
	OK_SET(b, "x.protection.partner.outlook.cn", "443", NULL, 2, "Allow");
	OK_SET(b, "x.mail.protection.partner.outlook.cn", "25", NULL, 27, "Allow");
	m365_list_unref(a);
	m365_list_unref(b);
}

static void
test_build_fails_when_policy_selects_nothing(void **state)
{
	struct m365_err err;
	struct m365_policy p;
	struct m365_endpoints *ep = m365_endpoints_load_file(WW, &err);
	struct m365_local *never =
	    m365_local_parse("never a.example\n", 16, "t.list", &err);
	struct m365_list *l;

	(void)state;
	assert_non_null(ep);
	assert_non_null(never);
	assert_int_equal(m365_policy_init(&p, "Optimize", "NoSuchArea", &err), 0);
	memset(&err, 0, sizeof(err));
	assert_null(m365_list_build(ep, never, &p, &err)); /* takes ep, never */
	assert_true(err.msg[0] != '\0');
	/* with a local bypass rule the same policy is usable */
	ep = m365_endpoints_load_file(WW, &err);
	l = m365_list_build(ep, m365_local_parse("bypass a.example\n", 17,
						 "t.list", &err), &p, &err);
	m365_policy_free(&p);
	assert_non_null(l);
	assert_int_equal(m365_list_selected(l), 0);
	expect(l, "a.example", "443", NULL, M365_OK, M365_WHY_LOCAL, NOSET, "Local");
	expect(l, "outlook.office365.com", "443", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 1, "Optimize");
	m365_list_unref(l);
}

static void
test_list_load_follows_the_options(void **state)
{
	struct m365_options o = {0};
	struct m365_err err;
	struct m365_list *l;

	(void)state;
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

	o.categories = "Bogus";
	assert_null(m365_list_load(&o, &err));
	assert_non_null(strstr(err.msg, "--categories"));
	o.categories = NULL;
	o.local = "tests/fixtures/no-such.list";
	assert_null(m365_list_load(&o, &err));
	assert_non_null(strstr(err.msg, "no-such.list"));
	o.local = NULL;
	o.list = FIXTURE("no-such.json");
	assert_null(m365_list_load(&o, &err));
	assert_non_null(strstr(err.msg, "no-such.json"));
	m365_list_unref(NULL);
	m365_thread_cleanup();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_name_matches_its_set),
	    cmocka_unit_test(test_best_category_wins_over_lower_id_and_lowest_id_breaks_ties),
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
	    cmocka_unit_test(test_default_only_match_is_err_with_category_default),
	    cmocka_unit_test(test_service_area_filter_leaves_other_areas_out),
	    cmocka_unit_test(test_sni_must_be_a_bypass_too),
	    cmocka_unit_test(test_sni_is_judged_at_the_same_port),
	    cmocka_unit_test(test_invalid_inputs_are_err_with_messages),
	    cmocka_unit_test(test_null_list_answers_no_list),
	    cmocka_unit_test(test_local_bypass_rules_answer_local),
	    cmocka_unit_test(test_microsoft_winner_is_preferred_over_local_bypass),
	    cmocka_unit_test(test_local_never_beats_everything),
	    cmocka_unit_test(test_explain_lists_every_hit_with_port_and_policy_flags),
	    cmocka_unit_test(test_explain_reports_local_rule_hits),
	    cmocka_unit_test(test_china_port_change_between_snapshots),
	    cmocka_unit_test(test_build_fails_when_policy_selects_nothing),
	    cmocka_unit_test(test_list_load_follows_the_options),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
