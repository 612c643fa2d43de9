/* tests/unit/test_differential.c - the compiled matcher (m365_classify(),
 * m365_explain()) against a plain one-pattern-at-a-time scan of the same
 * lists (tests/unit/ref_scan.c), on generated endpoint lists, local lists,
 * policies and queries (tests/unit/ref_gen.c, ref_query.c), and on a few
 * hand-written cases that pin the trickiest rules of the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ref_check.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

static const char *const fixtures[] = {
    FIXTURE("worldwide-2025-12-01.json"),
    FIXTURE("worldwide-2025-12-01-with-MEM.json"),
    FIXTURE("worldwide-2024-04-17.json"),
    FIXTURE("worldwide-2021-10-11.json"),
    FIXTURE("usgovdod-2025-12-01.json"),
    FIXTURE("usgovdod-2025-12-01-with-MEM.json"),
    FIXTURE("usgovgcchigh-2025-12-01.json"),
    FIXTURE("china-2025-12-01a.json"),
    FIXTURE("china-2025-12-01b.json")};

/* What the generated runs saw. */
struct stats {
	unsigned lists, built, refused, unselected;
	unsigned long queries, why[M365_WHY_NO_LIST + 1], hits;
};

/*
 * Builds the list of a case.  NULL when a safety check refuses it (a
 * breadth limit: M365_E_REFUSED) or when the policy selects nothing the
 * list has (M365_E_INPUT from the build), counted in st; any other
 * failure is a bug of the generator and fails the test.
 */
static struct m365_list *
build_case(const struct ref_case *c, struct stats *st)
{
	struct m365_endpoints *ep;
	struct m365_local *local = NULL;
	struct m365_policy p;
	struct m365_list *l;
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	st->lists++;
	ep = m365_endpoints_parse(c->json, strlen(c->json), "gen.json", &err);
	if (ep == NULL)
		fail_msg("generated list does not parse: %s\n%s", err.msg,
		         c->json);
	if (c->local != NULL &&
	    (local = m365_local_parse(c->local, strlen(c->local), "gen.list",
	                              &err)) == NULL) {
		m365_endpoints_free(ep);
		if (err.code != M365_E_REFUSED)
			fail_msg("generated local list does not parse: %s\n%s",
			         err.msg, c->local);
		st->refused++;
		return NULL;
	}
	if (m365_policy_init(&p, c->categories, c->areas, NULL, &err) < 0)
		fail_msg("policy: %s", err.msg);
	l = m365_list_build(ep, local, &p, &err);
	m365_policy_free(&p);
	if (l == NULL && err.code == M365_E_REFUSED)
		st->refused++;
	else if (l == NULL && err.code == M365_E_INPUT)
		st->unselected++;
	else if (l == NULL)
		fail_msg("build: %s", err.msg);
	else
		st->built++;
	return l;
}

static struct ref_scan *
ref_for(const struct m365_list *l)
{
	struct ref_scan *rs = ref_scan_new(
	    m365_list_endpoints(l), m365_list_local(l), m365_list_policy(l));

	assert_non_null(rs);
	return rs;
}

/* n_lists generated cases from seed, per_list queries each. */
static void
run_generated(uint64_t seed, unsigned n_lists, size_t per_list,
              const struct ref_gen_opts *o, const json_t *pool,
              struct stats *st)
{
	struct ref_query *q = calloc(per_list, sizeof(*q));
	struct ref_diff d = {.out = stdout, .max_reports = 3};
	struct ref_rng r;
	unsigned i;
	size_t j, n;

	assert_non_null(q);
	ref_rng_seed(&r, seed);
	for (i = 0; i < n_lists; i++) {
		struct ref_case c;
		struct m365_list *l;
		struct ref_scan *rs;
		ref_gen_case(&r, o, pool, &c);
		if ((l = build_case(&c, st)) == NULL) {
			ref_case_free(&c);
			continue;
		}
		rs = ref_for(l);
		d.c = &c;
		n = ref_gen_queries(&r, o, l, c.hints, c.n_hints, q, per_list);
		for (j = 0; j < n; j++)
			ref_check_query(l, rs, &q[j], &d);
		ref_scan_free(rs);
		m365_list_unref(l);
		ref_case_free(&c);
		if (d.mismatches > 0)
			break; /* the first list that differs is reported */
	}
	st->queries += d.queries;
	st->hits += d.hits;
	for (j = 0; j <= M365_WHY_NO_LIST; j++)
		st->why[j] += d.why[j];
	free(q);
	if (d.mismatches > 0)
		fail_msg("%lu of %lu queries differ (list %u of seed %llu)",
		         d.mismatches, d.queries, i, (unsigned long long)seed);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
report_stats(const char *what, const struct stats *st, double t0)
{
	printf("differential %s: %u lists (%u built, %u refused by a breadth "
	       "limit, %u selecting nothing), %lu queries, %.1f s\n",
	       what, st->lists, st->built, st->refused, st->unselected,
	       st->queries, now() - t0);
	printf("  answers: %lu set, %lu local, %lu no match, %lu unselected, "
	       "%lu never, %lu sni, %lu bad input; %lu hits\n",
	       st->why[M365_WHY_SET], st->why[M365_WHY_LOCAL],
	       st->why[M365_WHY_NO_MATCH], st->why[M365_WHY_UNSELECTED],
	       st->why[M365_WHY_NEVER], st->why[M365_WHY_SNI],
	       st->why[M365_WHY_NO_DST] + st->why[M365_WHY_BAD_DST] +
	           st->why[M365_WHY_BAD_PORT] + st->why[M365_WHY_BAD_SNI],
	       st->hits);
	/* most cases must build, or the generators test nothing */
	assert_true(st->built * 10 >= st->lists * 8);
}

/* Microsoft's sets sampled from every fixture, synthetic sets, local
 * lists and policies. */
TEST(test_generated_lists_agree_with_the_reference)
{
	const struct ref_gen_opts o = {
	    .max_stars = 3, .max_fill = 12, .max_sets = 6, .max_rules = 10};
	json_t *pool = ref_gen_load_fixtures(fixtures, sizeof(fixtures) /
	                                                   sizeof(fixtures[0]));
	struct stats st = {0};
	double t0 = now();

	assert_non_null(pool);
	run_generated(20251201, 320, 400, &o, pool, &st);
	json_decref(pool);
	report_stats("with fixtures", &st, t0);
}

/* Synthetic lists only, with long local lists: the local rules' order,
 * overlaps and regexes. */
TEST(test_generated_local_lists_agree_with_the_reference)
{
	const struct ref_gen_opts o = {
	    .max_stars = 3, .max_fill = 20, .max_sets = 12, .max_rules = 30};
	struct stats st = {0};
	double t0 = now();

	run_generated(7, 160, 400, &o, NULL, &st);
	report_stats("synthetic", &st, t0);
}

/* Rules appended to a generated local list to make it large: names,
 * suffixes, never rules and host routes, all narrow enough to pass. */
#define FILLER 20000

/* Appends the filler rules to the case's local list. */
static void
add_filler(struct ref_case *c)
{
	size_t len = c->local ? strlen(c->local) : 0, cap = len + FILLER * 48;
	char *s = malloc(cap);
	size_t n = len;
	unsigned k;

	assert_non_null(s);
	if (len > 0)
		memcpy(s, c->local, len);
	for (k = 0; k < FILLER; k++) {
		unsigned z = k % 500;
		switch (k % 4) {
		case 0:
			n += (size_t)snprintf(s + n, cap - n,
			                      "bypass host%u.fill%u.example\n",
			                      k, z);
			break;
		case 1:
			n += (size_t)snprintf(
			    s + n, cap - n, "bypass *.zone%u.fill%u.example\n",
			    k, z);
			break;
		case 2:
			n += (size_t)snprintf(s + n, cap - n,
			                      "never host%u.fill%u.example\n",
			                      k, z);
			break;
		default:
			n += (size_t)snprintf(s + n, cap - n,
			                      "bypass 198.51.%u.%u/32\n",
			                      k / 256 % 256, k % 256);
			break;
		}
	}
	s[n] = '\0';
	free(c->local);
	c->local = s;
}

/* Queries at the filler rules: hits, apexes, neighbours, near misses. */
static size_t
filler_queries(uint64_t seed, struct ref_query *q, size_t max)
{
	size_t i;

	for (i = 0; i < max; i++) {
		unsigned k = (unsigned)((seed + i * 7919) % FILLER);
		unsigned z = k % 500, how = (unsigned)(i % 8);
		memset(&q[i], 0, sizeof(q[i]));
		q[i].has_dst = q[i].has_port = true;
		snprintf(q[i].port, sizeof(q[i].port), "%s",
		         i % 3 ? "443" : "-");
		if (how == 0)
			snprintf(q[i].dst, sizeof(q[i].dst),
			         "host%u.fill%u.example", k, z);
		else if (how == 1)
			snprintf(q[i].dst, sizeof(q[i].dst),
			         "a.b.zone%u.fill%u.example", k, z);
		else if (how == 2)
			snprintf(q[i].dst, sizeof(q[i].dst),
			         "zone%u.fill%u.example", k, z);
		else if (how == 3)
			snprintf(q[i].dst, sizeof(q[i].dst),
			         "host%u.fill%u.example", k, (z + 1) % 500);
		else if (how == 4)
			snprintf(q[i].dst, sizeof(q[i].dst), "198.51.%u.%u",
			         k / 256 % 256, k % 256);
		else if (how >= 6) /* an address beside a host route, or on */
			snprintf(q[i].dst, sizeof(q[i].dst), "198.51.%u.%u",
			         (k | 3) / 256 % 256,
			         ((k | 3) + (how == 6 ? 1 : 255)) % 256);
		else
			snprintf(q[i].dst, sizeof(q[i].dst),
			         "x.host%u.fill%u.example", k, z);
	}
	return max;
}

/*
 * Large local lists: generated cases with 20,000 more rules, queried at
 * the generated patterns and at the filler.
 */
TEST(test_large_local_lists_agree_with_the_reference)
{
	const struct ref_gen_opts o = {
	    .max_stars = 3, .max_fill = 12, .max_sets = 6, .max_rules = 12};
	struct ref_diff d = {.out = stdout, .max_reports = 3};
	struct ref_query q[300];
	struct stats st = {0};
	struct ref_rng r;
	double t0 = now();
	unsigned i, built = 0;
	size_t j, n;

	ref_rng_seed(&r, 99);
	for (i = 0; i < 12 && built < 4; i++) {
		struct ref_case c;
		struct m365_list *l;
		struct ref_scan *rs;
		ref_gen_case(&r, &o, NULL, &c);
		add_filler(&c);
		if ((l = build_case(&c, &st)) == NULL) {
			ref_case_free(&c);
			continue;
		}
		built++;
		rs = ref_for(l);
		d.c = &c;
		n = ref_gen_queries(&r, &o, l, c.hints, c.n_hints, q, 150);
		n += filler_queries(i * 1000003u, q + n, 150);
		for (j = 0; j < n; j++)
			ref_check_query(l, rs, &q[j], &d);
		ref_scan_free(rs);
		m365_list_unref(l);
		ref_case_free(&c);
	}
	printf("differential large: %u lists built of %u, %lu queries, %lu "
	       "local OK, %lu never, %.1f s\n",
	       built, i, d.queries, d.why[M365_WHY_LOCAL],
	       d.why[M365_WHY_NEVER], now() - t0);
	assert_true(built >= 4);
	assert_true(d.why[M365_WHY_LOCAL] > 50 && d.why[M365_WHY_NEVER] > 20);
	if (d.mismatches > 0)
		fail_msg("%lu of %lu queries differ", d.mismatches, d.queries);
}

/* --- hand-written cases -------------------------------------------------- */

static struct m365_list *
build_text(const char *json, const char *local, const char *cats,
           const char *areas)
{
	const struct ref_case c = {.json = (char *)json,
	                           .local = (char *)local,
	                           .categories = (char *)cats,
	                           .areas = (char *)areas};
	struct stats st = {0};
	struct m365_list *l = build_case(&c, &st);

	assert_non_null(l);
	return l;
}

/*
 * Checks one query against the reference and against what the contract
 * says: result, why, the set's id (0: none) and the category (NULL: none).
 */
static void
expect(const struct m365_list *l, const char *dst, const char *port,
       const char *sni, enum m365_result res, enum m365_why why, int64_t set,
       const char *cat)
{
	struct ref_scan *rs = ref_for(l);
	struct ref_diff d = {.out = stdout, .max_reports = 1};
	struct ref_query q;
	struct m365_verdict v;

	memset(&q, 0, sizeof(q));
	q.has_dst = dst != NULL;
	q.has_port = port != NULL;
	q.has_sni = sni != NULL;
	snprintf(q.dst, sizeof(q.dst), "%s", dst ? dst : "");
	snprintf(q.port, sizeof(q.port), "%s", port ? port : "");
	snprintf(q.sni, sizeof(q.sni), "%s", sni ? sni : "");
	if (!ref_check_query(l, rs, &q, &d))
		fail_msg("%s %s %s: the reference differs", dst, port, sni);
	ref_scan_free(rs);
	m365_classify(l, dst, port, sni, &v);
	if (v.result != res || v.why != why ||
	    (set ? v.set == NULL || v.set->id != set : v.set != NULL) ||
	    (cat ? v.category == NULL || strcmp(v.category, cat) != 0
	         : v.category != NULL)) {
		ref_print_verdict(stdout, "got", &v);
		fail_msg("%s %s %s: want result %d why %d set %lld category %s",
		         dst, port, sni, (int)res, (int)why, (long long)set,
		         cat ? cat : "(none)");
	}
}

#define SET(id, cat, area, ports, urls, ips)                                   \
	"{\"id\":" #id ",\"serviceArea\":\"" area "\",\"category\":\"" cat     \
	"\"" ports ",\"urls\":[" urls "],\"ips\":[" ips "]}"
#define TCP(p) ",\"tcpPorts\":\"" p "\""

/* Four sets: nested ranges, overlapping names, port lists and ranges. */
static const char four_sets[] =
    "[" SET(20, "Optimize", "Skype", TCP("443,3478-3481"),
            "\"teams.microsoft.com\",\"*.teams.microsoft.com\"",
            "\"52.112.0.0/14\",\"2603:1063::/38\"") ","
    /* a range inside set 20's, and the same suffix */
    SET(5, "Allow", "Exchange", TCP("80,443"),
        "\"*.teams.microsoft.com\",\"autodiscover.*.onmicrosoft.com\"",
        "\"52.112.4.0/24\"") ","
    /* irregular globs, and a host route inside both ranges */
    SET(3, "Default", "Common", TCP("443"),
        "\"*cdn.onenote.net\",\"*-files.sharepoint.com\"",
        "\"52.112.4.7/32\"") ","
    /* no tcpPorts at all */
    SET(9, "Allow", "Common", "", "\"udp.example.net\"", "") "]";

TEST(test_ranking_and_ports)
{
	struct m365_list *l = build_text(four_sets, NULL, NULL, NULL);

	/* Optimize before Allow, whatever the ids */
	expect(l, "a.teams.microsoft.com", "443", NULL, M365_OK, M365_WHY_SET,
	       20, "Optimize");
	/* the best set must take the port: only set 5 takes 80 */
	expect(l, "a.teams.microsoft.com", "80", NULL, M365_OK, M365_WHY_SET, 5,
	       "Allow");
	/* port ranges: 3478-3481, both ends in, beside them out */
	expect(l, "teams.microsoft.com", "3478", NULL, M365_OK, M365_WHY_SET,
	       20, "Optimize");
	expect(l, "teams.microsoft.com", "3481", NULL, M365_OK, M365_WHY_SET,
	       20, "Optimize");
	expect(l, "teams.microsoft.com", "3482", NULL, M365_ERR,
	       M365_WHY_NO_MATCH, 0, NULL);
	expect(l, "teams.microsoft.com", "-", NULL, M365_OK, M365_WHY_SET, 20,
	       "Optimize");
	expect(l, "teams.microsoft.com", "%2d", NULL, M365_ERR,
	       M365_WHY_BAD_PORT, 0, NULL);
	/* a set without tcpPorts takes only an unknown port */
	expect(l, "udp.example.net", NULL, NULL, M365_OK, M365_WHY_SET, 9,
	       "Allow");
	expect(l, "udp.example.net", "443", NULL, M365_ERR, M365_WHY_NO_MATCH,
	       0, NULL);
	/* nested ranges: the /32 is in three sets, the best takes it */
	expect(l, "52.112.4.7", "443", NULL, M365_OK, M365_WHY_SET, 20,
	       "Optimize");
	expect(l, "::ffff:52.112.4.7", "80", NULL, M365_OK, M365_WHY_SET, 5,
	       "Allow");
	expect(l, "[2603:1063:0::1]", "443", NULL, M365_OK, M365_WHY_SET, 20,
	       "Optimize");
	expect(l, "52.116.0.0", "443", NULL, M365_ERR, M365_WHY_NO_MATCH, 0,
	       NULL);
	/* the apex is not under its own suffix, but has its own entry */
	expect(l, "teams.microsoft.com", "80", NULL, M365_ERR,
	       M365_WHY_NO_MATCH, 0, NULL);
	/* irregular globs, stars empty or not */
	expect(l, "autodiscover.contoso.onmicrosoft.com", "443", NULL, M365_OK,
	       M365_WHY_SET, 5, "Allow");
	expect(l, "autodiscover.onmicrosoft.com", "443", NULL, M365_ERR,
	       M365_WHY_NO_MATCH, 0, NULL);
	expect(l, "cdn.onenote.net", "443", NULL, M365_ERR, M365_WHY_UNSELECTED,
	       3, "Default");
	expect(l, "a.bcdn.onenote.net", "443", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 3, "Default");
	expect(l, "contoso-files.sharepoint.com", "443", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 3, "Default");
	expect(l, "contosofiles.sharepoint.com", "443", NULL, M365_ERR,
	       M365_WHY_NO_MATCH, 0, NULL);
	m365_list_unref(l);
}

TEST(test_sni_only_narrows)
{
	struct m365_list *l = build_text(four_sets, NULL, NULL, NULL);

	expect(l, "teams.microsoft.com", "443", "evil.example", M365_ERR,
	       M365_WHY_SNI, 0, NULL);
	expect(l, "evil.example", "443", "teams.microsoft.com", M365_ERR,
	       M365_WHY_NO_MATCH, 0, NULL);
	expect(l, "teams.microsoft.com", "443", "TEAMS.microsoft.com.", M365_OK,
	       M365_WHY_SET, 20, "Optimize");
	/* the SNI is judged at the same port: set 5 takes 80, 20 does not */
	expect(l, "teams.microsoft.com", "443", "x.teams.microsoft.com",
	       M365_OK, M365_WHY_SET, 20, "Optimize");
	expect(l, "52.112.0.1", "3478", "x.teams.microsoft.com", M365_OK,
	       M365_WHY_SET, 20, "Optimize");
	expect(l, "52.112.4.1", "80", "teams.microsoft.com", M365_ERR,
	       M365_WHY_SNI, 0, NULL);
	expect(l, "teams.microsoft.com", "443", "bad..sni", M365_ERR,
	       M365_WHY_BAD_SNI, 0, NULL);
	/* an unselected SNI is no bypass either */
	expect(l, "teams.microsoft.com", "443", "cdn.onenote.net", M365_ERR,
	       M365_WHY_SNI, 0, NULL);
	m365_list_unref(l);
}

TEST(test_local_rules_against_sets)
{
	static const char local[] =
	    "never  Never.Example.net\n"
	    "bypass *.teams.microsoft.com\n"
	    "never  A.Teams.Microsoft.com\n"
	    "bypass cdn.onenote.net\n"
	    "bypass re:^(a+)+\\.example\\.net$\n"
	    "bypass re:^zz\\.org$|^[a-z]\\.example\\.net$\n"
	    "never  re:^10\\.\n";
	static const char json[] =
	    "[" SET(1, "Optimize", "Skype", TCP("443"), "\"*.example.net\"",
	            "") "," SET(2, "Default", "Common", TCP("443"),
	                        "\"*cdn.onenote.net\"", "\"10.20.0.0/16\"") "]";
	struct m365_list *l = build_text(json, local, NULL, NULL);

	/* never wins over a selected set and over a bypass rule */
	expect(l, "never.example.net", "443", NULL, M365_ERR, M365_WHY_NEVER, 0,
	       NULL);
	expect(l, "a.teams.microsoft.com", "443", NULL, M365_ERR,
	       M365_WHY_NEVER, 0, NULL);
	expect(l, "10.20.0.1", "443", NULL, M365_ERR, M365_WHY_NEVER, 0, NULL);
	/* a local bypass is consulted only when no selected set matched */
	expect(l, "b.teams.microsoft.com", "443", NULL, M365_OK, M365_WHY_LOCAL,
	       0, "Local");
	expect(l, "cdn.onenote.net", "443", NULL, M365_OK, M365_WHY_LOCAL, 0,
	       "Local");
	/* an expression that cannot be evaluated fails the answer, unless
	 * a selected set decided first */
	expect(l, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab.example.net", "443", NULL,
	       M365_OK, M365_WHY_SET, 1, "Optimize");
	expect(l, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab.example.net", "80", NULL,
	       M365_ERR, M365_WHY_NO_MATCH, 0, NULL);
	/* a bypass expression only ever matches in its domain */
	expect(l, "zz.org", "443", NULL, M365_ERR, M365_WHY_NO_MATCH, 0, NULL);
	expect(l, "q.example.net", "80", NULL, M365_OK, M365_WHY_LOCAL, 0,
	       "Local");
	m365_list_unref(l);
}

TEST(test_unselected_sets_carry_their_category)
{
	struct m365_list *l = build_text(four_sets, NULL, "Optimize", "Skype");

	expect(l, "x.teams.microsoft.com", "80", NULL, M365_ERR,
	       M365_WHY_UNSELECTED, 5, "Allow");
	expect(l, "52.112.4.7", "443", NULL, M365_OK, M365_WHY_SET, 20,
	       "Optimize");
	m365_list_unref(l);
	l = build_text(four_sets, NULL, "Allow,Default", "Common");
	expect(l, "52.112.4.7", "443", NULL, M365_OK, M365_WHY_SET, 3,
	       "Default");
	expect(l, "52.112.4.8", "443", NULL, M365_ERR, M365_WHY_UNSELECTED, 20,
	       "Optimize");
	m365_list_unref(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranking_and_ports),
	    cmocka_unit_test(test_sni_only_narrows),
	    cmocka_unit_test(test_local_rules_against_sets),
	    cmocka_unit_test(test_unselected_sets_carry_their_category),
	    cmocka_unit_test(test_generated_lists_agree_with_the_reference),
	    cmocka_unit_test(
	        test_generated_local_lists_agree_with_the_reference),
	    cmocka_unit_test(test_large_local_lists_agree_with_the_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
