/* tests/unit/test_part.c - the layout of a part's pattern blocks.
 *
 * part_try() fetches a block's second cache line with its first only when
 * the block is before the part's dfa_end: an automaton's rows run into
 * that line, a glob's text does not.  So every automaton must lie before
 * dfa_end, on a cache line of its own start, and every other block after
 * it, whatever order the list gives the patterns in; and each pattern
 * must still answer as its text says.
 */
#include <stdio.h>
#include <string.h>

#include "bigmem.h"
#include "host_impl.h"
#include "part.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* Regexes (automatons) and irregular globs, mixed, under their domains. */
static const struct {
	const char *text; /* "re:" for a regex */
	const char *domain;
} pats[] = {
    {"api*.gv1.io", NULL},
    {"re:^(app|api)[0-9]+\\.rx1\\.com$", "rx1.com"},
    {"*-cdn.gv2.net", NULL},
    {"img*.static.gv3.org", NULL},
    {"re:^[a-z]+-[0-9]{2,4}\\.eu\\.rx2\\.de$", "rx2.de"},
    {"autodiscover.*.gv4.com", NULL},
    {"re:^(www\\.)?shop[0-9]*\\.rx3\\.net$", "rx3.net"},
};
#define N_PATS (sizeof(pats) / sizeof(pats[0]))

static pcre2_code *code[N_PATS];

static int
feed(struct part_builder *b, void *ctx, struct m365_err *err)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < N_PATS; i++) {
		const char *t = pats[i].text;
		int rc = strncmp(t, "re:", 3) == 0
		             ? part_add_regex(b, code[i], t + 3, pats[i].domain,
		                              G_BYPASS, (uint32_t)i, t, err)
		             : part_add_glob(b, t, G_BYPASS, (uint32_t)i,
		                             (uint32_t)i, t, err);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The part of pats[], regexes compiled as the local list does. */
static struct part *
build(void)
{
	struct m365_err err;
	size_t i;
	int e;
	PCRE2_SIZE off;
	struct part *p;

	memset(&err, 0, sizeof(err));
	for (i = 0; i < N_PATS; i++) {
		if (strncmp(pats[i].text, "re:", 3) != 0)
			continue;
		code[i] =
		    pcre2_compile((PCRE2_SPTR)pats[i].text + 3,
		                  PCRE2_ZERO_TERMINATED, 0, &e, &off, NULL);
		assert_non_null(code[i]);
	}
	p = part_build(feed, NULL, N_PATS, &err);
	assert_non_null(p);
	return p;
}

static void
free_all(struct part *p)
{
	size_t i;

	part_free(p);
	for (i = 0; i < N_PATS; i++) {
		pcre2_code_free(code[i]);
		code[i] = NULL;
	}
}

/* What a walk met: the pattern items worth trying, and what they say. */
struct met {
	const struct m365_host *h;
	size_t n_tried, n_dfa;
	uint32_t matched; /* bit per pattern (item value) */
};

/* Direct hits: a part of patterns only has none to report. */
static void
on_hit(void *ctx, const struct idx_item *it, size_t n)
{
	(void)ctx;
	(void)it;
	(void)n;
}

/* Checks each item's block against dfa_end, then tries it. */
static void
on_try(void *ctx, const struct part *p, const struct idx_item *it, size_t n)
{
	struct met *m = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t at = AUX_INDEX(it[i].aux);
		const struct pat_head *r = part_block(p, at);
		if (r->how == PAT_DFA) {
			m->n_dfa++;
			assert_true(at < p->dfa_end);
			assert_int_equal((size_t)at * PAT_UNIT % CACHE_LINE, 0);
		} else {
			assert_true(at >= p->dfa_end);
		}
		m->n_tried++;
		if (part_try(p, &it[i], m->h) > 0)
			m->matched |= 1u << it[i].value;
	}
}

/* Walks name through p, adding to m what it met. */
static void
walk(const struct part *p, const char *name, struct met *m)
{
	struct m365_host h;
	struct host_labels lb;
	struct part_query q = {.host = &h, .lb = &lb};

	assert_int_equal(host_scan(name, strlen(name), &h, &lb, 0),
	                 M365_HOST_NAME);
	m->h = &h;
	part_walk((const struct part *const *)&p, 1, &q, on_hit, on_try, m);
	m->h = NULL;
}

TEST(test_automatons_lie_before_dfa_end_and_the_rest_after)
{
	static const char *const names[] = {
	    "api7.gv1.io",        "api12.rx1.com",
	    "x-cdn.gv2.net",      "img9.static.gv3.org",
	    "node-123.eu.rx2.de", "autodiscover.a.gv4.com",
	    "www.shop5.rx3.net",
	};
	struct part *p = build();
	struct met m = {0};
	size_t i;

	/* each name reaches its own pattern, whose block on_try() checks */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		walk(p, names[i], &m);
	assert_int_equal(m.matched, (1u << N_PATS) - 1);
	/* the three regexes are automatons: both sides were checked */
	assert_int_equal(m.n_dfa, 3);
	assert_int_equal(m.n_tried, N_PATS);
	assert_true(p->dfa_end > 0 && p->dfa_end * PAT_UNIT < p->hot_bytes);
	free_all(p);
}

TEST(test_each_pattern_answers_as_its_text_says)
{
	static const struct {
		const char *name;
		int pat; /* the pattern that matches it, -1: none */
	} cases[] = {
	    {"api7.gv1.io", 0},
	    {"xapi7.gv1.io", -1},
	    {"api12.rx1.com", 1},
	    {"apx12.rx1.com", -1},
	    {"x-cdn.gv2.net", 2},
	    {"xcdn.gv2.net", -1},
	    {"img9.static.gv3.org", 3},
	    {"img9.gv3.org", -1},
	    {"node-123.eu.rx2.de", 4},
	    {"node-123.us.rx2.de", -1},
	    {"autodiscover.a.gv4.com", 5},
	    {"autodiscovery.a.gv4.com", -1},
	    {"www.shop5.rx3.net", 6},
	    {"web.shop5.rx3.net", -1},
	};
	struct part *p = build();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct met m = {0};
		uint32_t want = cases[i].pat < 0 ? 0 : 1u << cases[i].pat;
		walk(p, cases[i].name, &m);
		if (m.matched != want)
			fail_msg("%s: matched %#x, expected %#x", cases[i].name,
			         m.matched, want);
	}
	free_all(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_automatons_lie_before_dfa_end_and_the_rest_after),
	    cmocka_unit_test(test_each_pattern_answers_as_its_text_says),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
