/* tests/unit/test_redfa.c - the regex automaton (lib/redfa.h) answers what
 * pcre2_match() answers for the same pattern compiled with no options: on
 * realistic admin patterns, on the edges of the covered syntax and every
 * byte, and on 20,000 random patterns of that syntax; it refuses (NULL)
 * what it does not cover, and a pattern whose automaton would blow up,
 * quickly; a budget of steps bounds compilation; and it answers at once
 * where PCRE2 backtracks into its match limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "redfa.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* PCRE2's side of a comparison: the compiled pattern and what a match
 * needs. */
struct pcre {
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

/* Compiles src[0..len) with no options; 0, or -1 when PCRE2 refuses it. */
static int
pcre_open(struct pcre *p, const char *src, size_t len, uint32_t match_limit)
{
	int err;
	PCRE2_SIZE off;

	memset(p, 0, sizeof(*p));
	p->re = pcre2_compile((PCRE2_SPTR)src, len, 0, &err, &off, NULL);
	if (p->re == NULL)
		return -1;
	p->md = pcre2_match_data_create(16, NULL);
	p->mc = pcre2_match_context_create(NULL);
	assert_non_null(p->md);
	assert_non_null(p->mc);
	pcre2_set_match_limit(p->mc, match_limit);
	pcre2_set_depth_limit(p->mc, 1000);
	return 0;
}

static void
pcre_close(struct pcre *p)
{
	pcre2_match_context_free(p->mc);
	pcre2_match_data_free(p->md);
	pcre2_code_free(p->re);
}

/* pcre2_match()'s raw answer on s[0..len). */
static int
pcre_rc(const struct pcre *p, const char *s, size_t len)
{
	return pcre2_match(p->re, (PCRE2_SPTR)s, len, 0, 0, p->md, p->mc);
}

/* 1 (a match), 0 (none) or -1 (PCRE2 failed: a limit). */
static int
pcre_says(const struct pcre *p, const char *s, size_t len)
{
	int rc = pcre_rc(p, s, len);

	return rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* redfa_compile() of a NUL-terminated pattern. */
static struct redfa *
compile(const char *src)
{
	return redfa_compile(src, strlen(src), NULL);
}

/* A subject of the fixed tables: bytes and length (some hold a NUL). */
struct subject {
	const char *s;
	size_t len;
};

/* clang-format off */
#define SUBJ(lit) {lit, sizeof(lit) - 1}
/* clang-format on */

/* Hostnames, near misses, and bytes off the fast path. */
static const struct subject hosts[] = {
    SUBJ(""),
    SUBJ("a"),
    SUBJ("app1.rx12.com"),
    SUBJ("api42.rx12.com"),
    SUBJ("apx1.rx12.com"),
    SUBJ("app.rx12.com"),
    SUBJ("app1.rx12.com.evil.net"),
    SUBJ("xapp1.rx12.com"),
    SUBJ("app1.rx12xcom"),
    SUBJ("APP1.RX12.COM"),
    SUBJ("paris-12.eu.example.com"),
    SUBJ("paris-12345.eu.example.com"),
    SUBJ("paris-1.eu.example.com"),
    SUBJ("-12.eu.example.com"),
    SUBJ("www.shop.example.com"),
    SUBJ("shop42.example.com"),
    SUBJ("www.shop42.example.com.x"),
    SUBJ("wwwxshop.example.com"),
    SUBJ("img-01.cdn.example.com"),
    SUBJ("img_01.cdn.example.com"),
    SUBJ(".cdn.example.com"),
    SUBJ("a.b.cdn.example.com"),
    SUBJ("foo.example.net"),
    SUBJ("example.net"),
    SUBJ("fooexample.net"),
    SUBJ("example.org"),
    SUBJ("a.example.org"),
    SUBJ("aexample.org"),
    SUBJ("example.org.x"),
    SUBJ("]"),
    SUBJ("abc"),
    SUBJ("a-b"),
    SUBJ("a.c"),
    SUBJ("axc"),
    SUBJ("aaa"),
    SUBJ("ababab"),
    SUBJ("x"),
    SUBJ("1a "),
    SUBJ("a\tb"),
    SUBJ("A!_:"),
    SUBJ("\xff\x80z"),
    SUBJ("a\0c"),
    SUBJ("\r"),
    SUBJ("bc"),
    SUBJ("xa"),
    SUBJ("!a"),
    SUBJ("xbc"),
    SUBJ("c"),
    SUBJ("b.c"),
    SUBJ("x.com"),
    SUBJ(".com"),
    SUBJ("a.net"),
    SUBJ("foo.example.com"),
    SUBJ("203.0.113.7"),
    SUBJ("2001:db8::1"),
};

/* A pattern of the fixed table; realistic ones must be covered, refused
 * ones must not. */
struct fixed {
	const char *src;
	enum { EDGE, REALISTIC, REFUSED } kind;
};

static const struct fixed fixed_patterns[] = {
    {"^(app|api)[0-9]+\\.rx12\\.com$", REALISTIC},
    {"^[a-z]+-[0-9]{2,4}\\.eu\\.example\\.com$", REALISTIC},
    {"^(www\\.)?shop[0-9]*\\.example\\.com$", REALISTIC},
    {"^[a-z0-9-]+\\.cdn\\.example\\.com$", REALISTIC},
    {"\\.example\\.net$", REALISTIC},
    {"^example\\.org$|\\.example\\.org$", REALISTIC},
    {"^(?:[a-z0-9-]+\\.)*example\\.(com|net|org)$", REALISTIC},
    {"^[^.]+\\.rx12\\.com$", REALISTIC},
    {"rx12", REALISTIC},
    {"^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$", REALISTIC},
    {"(^|\\.)example\\.org$", REFUSED}, /* an anchor inside a group */
    {"[]a]", EDGE},
    {"[^a-c.]", EDGE},
    {"[a-]", EDGE},
    {"[\\.-z]", EDGE},
    {"a{0}", EDGE},
    {"^a{0}$", EDGE},
    {"a{2,}", EDGE},
    {"a{1,3}?", EDGE},
    {"^a{1,3}?$", EDGE},
    {"(?:ab)+", EDGE},
    {"^(?:ab)+$", EDGE},
    {"x|", EDGE},
    {"", EDGE},
    {"^$", EDGE},
    {"^", EDGE},
    {"$", EDGE},
    {"\\d\\w\\s\\D\\W\\S", EDGE},
    {"^[\\d\\s]+$", EDGE},
    {"^[^\\w]", EDGE},
    {"a.c", EDGE},
    {"^a.c$", EDGE},
    {"a\\-b", EDGE},
    {"^]$", EDGE},
    {"}", EDGE},
    {"^(|a)+$", EDGE},
    {"^()*x", EDGE},
    {"^(a*)*$", EDGE},
    {"[\\]]", EDGE},
    {"[a-c-]", EDGE},
    {"^[!-[]+$", EDGE},
    {"\\:", EDGE},
    {"^\\_", EDGE},
    {"a\\.c$|^x", EDGE},
    {"c$|bc$|abc$", EDGE},
    {"^a\\.c$|b\\.c$", EDGE},
    {"a.c$|.c$", EDGE},
    {"^abc$", EDGE},
    {"x|abc$", EDGE},
    {"a$|$", EDGE},
    {"(a|b)c$|^c$", EDGE},
    {"[^.]\\.com$", EDGE},
    {"\\.example\\.(com|net)$", EDGE},
    {"\\.com$|\\.net$", EDGE},
    /* PCRE2 skips a {0} group into its second alternative when it looks
     * for a leading .*, takes the pattern for one that can only match at
     * a line start and so tries it at offset 0 alone: the automaton must
     * refuse these (or answer as PCRE2 does) */
    {"(?:b|.*x){0}a", EDGE},
    {"(?:.|.*[\\W\\]]0){0}a$", EDGE},
    {"(b|.*?){0,0}a", EDGE},
};

/*
 * A copy of d (redfa_copy()) in a block of its own, REDFA_ALIGN bytes in,
 * the rest of the block poisoned; d is freed (the copy must not point
 * into it).  Free the copy's block with free(moved_block(copy)).
 */
static struct redfa *
moved(struct redfa *d)
{
	unsigned char *block;
	struct redfa *copy;

	if (d == NULL)
		return NULL;
	block = malloc(redfa_bytes(d) + 2 * REDFA_ALIGN);
	assert_non_null(block);
	memset(block, 0xa5, redfa_bytes(d) + 2 * REDFA_ALIGN);
	copy = redfa_copy(d, block + REDFA_ALIGN);
	assert_ptr_equal(copy, block + REDFA_ALIGN);
	redfa_free(d);
	return copy;
}

/* The block moved() put a copy in. */
static void *
moved_block(struct redfa *copy)
{
	return copy == NULL ? NULL : (unsigned char *)copy - REDFA_ALIGN;
}

/* Compares redfa and PCRE2 on every fixed subject, printing and counting
 * in *bad what goes wrong; returns whether redfa covered the pattern.  The
 * automaton is a copy (moved()): a copy is the same automaton (the
 * subjects' capitals and other bytes take its slow path, the table at its
 * end). */
static int
compare_fixed(const char *src, unsigned *bad)
{
	struct redfa *d = moved(compile(src));
	int covered = d != NULL;
	unsigned shown = 0;
	struct pcre p;
	size_t i;

	if (pcre_open(&p, src, strlen(src), 100000) < 0) {
		if (d != NULL) {
			printf("/%s/: PCRE2 refuses it, redfa compiles it\n",
			       src);
			++*bad;
		}
		free(moved_block(d));
		return 0;
	}
	for (i = 0; d != NULL && i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		int want = pcre_says(&p, hosts[i].s, hosts[i].len);
		int got = redfa_match(d, hosts[i].s, hosts[i].len);
		if (got != want && shown++ < 3) /* a few per pattern */
			printf("/%s/ on \"%.*s\": redfa %d, PCRE2 %d\n", src,
			       (int)hosts[i].len, hosts[i].s, got, want);
		*bad += got != want;
	}
	pcre_close(&p);
	free(moved_block(d));
	return covered;
}

/* Realistic and edge patterns: the automaton agrees with PCRE2 on every
 * hostname and near miss, and covers every realistic pattern. */
TEST(test_fixed_patterns_agree_with_pcre2)
{
	unsigned bad = 0;
	size_t i;

	for (i = 0; i < sizeof(fixed_patterns) / sizeof(fixed_patterns[0]);
	     i++) {
		const struct fixed *f = &fixed_patterns[i];
		int covered = compare_fixed(f->src, &bad);
		if (f->kind == REALISTIC && !covered) {
			printf("/%s/: realistic, but not covered\n", f->src);
			bad++;
		}
		if (f->kind == REFUSED && covered) {
			printf("/%s/: covered, but should be refused\n",
			       f->src);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* The answers of a few realistic patterns, spelled out (so that a bug
 * both sides shared would not hide). */
TEST(test_realistic_answers_are_the_expected_ones)
{
	struct redfa *d = compile("^(app|api)[0-9]+\\.rx12\\.com$");

	assert_non_null(d);
	assert_int_equal(redfa_match(d, "app1.rx12.com", 13), 1);
	assert_int_equal(redfa_match(d, "api42.rx12.com", 14), 1);
	assert_int_equal(redfa_match(d, "apx1.rx12.com", 13), 0);
	assert_int_equal(redfa_match(d, "app.rx12.com", 12), 0);
	assert_int_equal(redfa_match(d, "app1.rx12.com.x", 15), 0);
	assert_int_equal(redfa_match(d, "app1.rx12.coM", 13), 0);
	redfa_free(d);

	d = compile("\\.example\\.net$");
	assert_non_null(d);
	assert_int_equal(redfa_match(d, "foo.example.net", 15), 1);
	assert_int_equal(redfa_match(d, "FOO.example.net", 15), 1);
	assert_int_equal(redfa_match(d, "example.net", 11), 0);
	assert_int_equal(redfa_match(d, "foo.example.network", 19), 0);
	redfa_free(d);
}

/* Syntax the automaton does not cover, or not the way PCRE2 reads it,
 * is refused. */
TEST(test_uncovered_syntax_is_refused)
{
	static const char *const refused[] = {
	    "(?i)abc", "a(?=b)",  "a(?!b)",   "(?<=a)b", "(a)\\1",
	    "a*+",     "a++",     "a?+",      "a{2}+",   "[[:alpha:]]",
	    "\\bfoo",  "\\Bfoo",  "a{,3}",    "a{65}",   "a{1,99}",
	    "a{65,}",  "\\x41",   "\\101",    "\\0",     "\\n",
	    "a^b",     "a$b",     "(^a)",     "(a$)",    "\\Qa\\E",
	    "(*UTF)a", "(?#c)a",  "a**",      "a{2}{3}", "a{2}?{3}",
	    "\\",      "(a",      "a)",       "[a",      "[\\b]",
	    "(?>a)",   "(?|a)",   "(?P<n>a)", "\\A",     "\\z",
	    "\\p{L}",  "*a",      "a|*",      "{2}",     "x{",
	    "[z-a]",   "[a-\\d]", "[\\d-z]",  "$a",      "a$$",
	    "^^a",     "\\Ka",
	};
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct redfa *d = compile(refused[i]);
		if (d != NULL) {
			redfa_free(d);
			fail_msg("/%s/: compiled, should be refused",
			         refused[i]);
		}
	}
}

/* Every byte, as a literal, escaped, in a class, negated, anchored: the
 * automaton agrees with PCRE2 on that byte, its neighbours and a few
 * others (the fast path's bytes and the slow path's alike). */
TEST(test_every_byte_agrees_with_pcre2)
{
	static const char *const shape[] = {"%s",     "\\%s",   "[%s]",
	                                    "[^%s]",  "[\\%s]", "^%s$",
	                                    "[%s-~]", "[!-%s]"};
	unsigned long covered = 0, bad = 0;
	int b, k, j;

	for (b = 0; b < 256; b++) {
		for (k = 0; k < (int)(sizeof(shape) / sizeof(shape[0])); k++) {
			const char *f = shape[k], *pct_s = strstr(f, "%s");
			char src[16], subj[2] = {0, 0};
			const int other[] = {b,    b - 1, b + 1, b ^ 0x20,
			                     'a',  '0',   '.',   0xff,
			                     0x00, 'A',   ' ',   '~'};
			struct redfa *d;
			struct pcre p;
			size_t n = 0, pre = (size_t)(pct_s - f), i;
			/* the shape with b in place of %s */
			for (i = 0; i < pre; i++)
				src[n++] = f[i];
			src[n++] = (char)b;
			for (i = pre + 2; f[i] != '\0'; i++)
				src[n++] = f[i];
			if (pcre_open(&p, src, n, 100000) < 0) {
				d = redfa_compile(src, n, NULL);
				redfa_free(d);
				continue;
			}
			if ((d = redfa_compile(src, n, NULL)) != NULL)
				covered++;
			for (j = -1; d != NULL && j < 12; j++) {
				size_t len = j < 0 ? 0 : 1;
				int want, got;
				if (j >= 0 && (other[j] < 0 || other[j] > 255 ||
				               other[j] == '\n'))
					continue;
				if (j >= 0)
					subj[0] = (char)other[j];
				want = pcre_says(&p, subj, len);
				got = redfa_match(d, subj, len);
				if (got != want && bad++ < 10)
					printf(
					    "/%.*s/ (byte 0x%02x) on 0x%02x: "
					    "redfa %d, PCRE2 %d\n",
					    (int)n, src, b,
					    (unsigned char)subj[0], got, want);
			}
			redfa_free(d);
			pcre_close(&p);
		}
	}
	assert_int_equal(bad, 0);
	/* most shapes of most bytes are covered (not the escapes of
	 * letters and digits, nor a lone '(' or '*', for instance) */
	assert_true(covered > 256 * 5);
}

/* A budget of steps: spent by each compilation, and once spent, nothing
 * more is compiled (a load of many costly patterns stays bounded). */
TEST(test_budget_is_spent_and_then_refuses)
{
	static const char src[] = "^(app|api)[0-9]+\\.rx12\\.com$";
	long budget = 1000000, before = budget;
	struct redfa *d;

	d = redfa_compile(src, sizeof(src) - 1, &budget);
	assert_non_null(d);
	assert_true(budget < before && budget > 0);
	redfa_free(d);

	budget = 10; /* less than this pattern needs */
	assert_null(redfa_compile("(a|b)*a(a|b){5}", 15, &budget));
	assert_true(budget <= 0);
	assert_null(redfa_compile("abc", 3, &budget));      /* spent */
	assert_non_null(d = redfa_compile("abc", 3, NULL)); /* no budget */
	redfa_free(d);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A pattern whose automaton needs more than REDFA_STATES_MAX states is
 * refused, and within a second. */
TEST(test_state_blowup_is_refused_quickly)
{
	static const char *const blowup[] = {
	    "(a|b)*a(a|b){20}",
	    "(a|b)*a(a|b){64}",
	    "[ab]*a[ab]{8}c",
	    "^(a|b)*a(a|b){10}$|x",
	};
	size_t i;

	for (i = 0; i < sizeof(blowup) / sizeof(blowup[0]); i++) {
		double t0 = now(), dt;
		struct redfa *d = compile(blowup[i]);
		dt = now() - t0;
		if (d != NULL) {
			redfa_free(d);
			fail_msg("/%s/: compiled, should be refused",
			         blowup[i]);
		}
		if (dt >= 1.0)
			fail_msg("/%s/: refused after %.2f s", blowup[i], dt);
	}
	/* a window of 5 (some 64 states) fits */
	{
		struct redfa *d = compile("(a|b)*a(a|b){5}");
		assert_non_null(d);
		assert_int_equal(redfa_match(d, "abbbbb", 6), 1);
		assert_int_equal(redfa_match(d, "babbbb", 6), 0);
		redfa_free(d);
	}
}

/* Catastrophic backtracking: where PCRE2 runs into its match limit, the
 * automaton answers no at once (it never fails to evaluate). */
TEST(test_automaton_answers_where_pcre2_backtracks_out)
{
	static const char src[] = "^(a+)+$";
	static const char subject[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
	struct redfa *d = compile(src);
	struct pcre p;
	double t0;

	assert_non_null(d);
	t0 = now();
	assert_int_equal(redfa_match(d, subject, sizeof(subject) - 1), 0);
	assert_true(now() - t0 < 0.1);
	assert_int_equal(redfa_match(d, subject, sizeof(subject) - 2), 1);
	assert_int_equal(pcre_open(&p, src, sizeof(src) - 1, 1000), 0);
	assert_int_equal(pcre_rc(&p, subject, sizeof(subject) - 1),
	                 PCRE2_ERROR_MATCHLIMIT);
	pcre_close(&p);
	redfa_free(d);
}

/* --- the randomized differential ------------------------------------ */

/* xorshift64*, from fixed seeds: one stream for the patterns, one for
 * the subjects. */
static uint64_t pattern_rng, subject_rng, *rng = &pattern_rng;

static unsigned
rnd(unsigned n)
{
	*rng ^= *rng >> 12;
	*rng ^= *rng << 25;
	*rng ^= *rng >> 27;
	return (unsigned)((*rng * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static int
pct(unsigned p)
{
	return rnd(100) < p;
}

/* A pattern being generated. */
struct gen {
	char s[256];
	size_t len;
	int full; /* a write did not fit: the pattern is dropped */
};

static void
put(struct gen *g, const char *text)
{
	size_t n = strlen(text);

	if (g->len + n >= sizeof(g->s)) {
		g->full = 1;
		return;
	}
	memcpy(g->s + g->len, text, n);
	g->len += n;
	g->s[g->len] = '\0';
}

static void
put_one(struct gen *g, const char *const *choice, size_t n)
{
	put(g, choice[rnd((unsigned)n)]);
}

#define PUT_ONE(g, arr) put_one(g, arr, sizeof(arr) / sizeof(arr[0]))

/* Outside the covered syntax, now and then: the automaton must refuse
 * these or agree anyway. */
static const char *const noise[] = {
    "{",     "}",        "]",     "\\b",         "(?=a)", "a{,2}", "^",
    "$",     "\\x61",    "*+",    "[[:digit:]]", "(?i)",  "\\1",   "a{1,2",
    "(?#x)", "\\Qa.\\E", "[\\b]", "[a-\\d]",     "|",     "(?>a)", "\\z",
};

static void gen_alt(struct gen *g, int depth, int top);

/* A class [...] of the small alphabet. */
static void
gen_class(struct gen *g)
{
	static const char *const item[] = {
	    "a",   "b",   "c",   "0",   "1",   ".",    "\\.", "\\-",
	    "a-c", "0-1", "a-b", "\\d", "\\w", "\\s",  "\\D", "-",
	    "]",   "^",   "!",   "A-Z", "b-z", "\\]",  "+",   "\\W",
	    ".-1", "*",   "$",   "(",   "|",   "\\\\", "\\S", "-0",
	};
	int n = 1 + (int)rnd(3);

	put(g, "[");
	if (pct(30))
		put(g, "^");
	while (n-- > 0)
		PUT_ONE(g, item);
	if (pct(10))
		put(g, "-");
	put(g, "]");
}

/* An atom: a literal, an escape, a class, '.' or a group. */
static void
gen_atom(struct gen *g, int depth)
{
	static const char *const lit[] = {"a",   "b",   "c", "0", "1",  "-",
	                                  "\\.", "\\-", "A", "_", "\\!"};
	static const char *const esc[] = {"\\d", "\\w", "\\s",
	                                  "\\D", "\\W", "\\S"};
	unsigned r = rnd(100);

	if (r < 45)
		PUT_ONE(g, lit);
	else if (r < 55)
		PUT_ONE(g, esc);
	else if (r < 70)
		gen_class(g);
	else if (r < 80)
		put(g, ".");
	else if (depth < 3) {
		put(g, pct(50) ? "(" : "(?:");
		gen_alt(g, depth + 1, 0);
		put(g, ")");
	} else {
		put(g, "b");
	}
}

/* A quantifier, or none. */
static void
gen_quant(struct gen *g)
{
	static const char *const simple[] = {"*", "+", "?"};
	char buf[32];
	unsigned r = rnd(100), n = rnd(8) == 0 ? 0 : 1 + rnd(3), m = n + rnd(4);

	if (r < 55)
		return;
	if (r < 80) {
		PUT_ONE(g, simple);
	} else {
		if (r < 87)
			snprintf(buf, sizeof(buf), "{%u}", n);
		else if (r < 93)
			snprintf(buf, sizeof(buf), "{%u,}", n);
		else
			snprintf(buf, sizeof(buf), "{%u,%u}", n, m);
		put(g, buf);
	}
	if (pct(20))
		put(g, "?");
}

/* 0 to 4 pieces. */
static void
gen_seq(struct gen *g, int depth)
{
	int n = (int)rnd(5);

	while (n-- > 0) {
		if (pct(2))
			PUT_ONE(g, noise);
		gen_atom(g, depth);
		gen_quant(g);
	}
}

/*
 * One to three alternatives; at the top, each may be anchored.  Now and
 * then every top-level alternative ends with the same few literal bytes
 * and '$' (as "\.example\.com$" does), the literal end the automaton
 * cuts off and compares on its own.
 */
static void
gen_alt(struct gen *g, int depth, int top)
{
	static const char *const lit[] = {"a", "b",   "c",   "0",
	                                  "1", "\\.", "\\-", "-"};
	int n = pct(60) ? 1 : 2 + (int)rnd(2), same_end = top && pct(30);
	struct gen end = {{0}, 0, 0};
	int k = (int)rnd(4);

	while (same_end && k-- > 0)
		PUT_ONE(&end, lit);
	while (n-- > 0) {
		if (top && pct(35))
			put(g, "^");
		gen_seq(g, depth);
		if (same_end)
			put(g, end.s);
		if (same_end || (top && pct(35)))
			put(g, "$");
		if (n > 0)
			put(g, "|");
	}
}

/* A subject of 0 to 12 bytes, mostly of the small alphabet, now and then
 * a byte off the fast path (never '\n'). */
static size_t
gen_subject(char *s)
{
	static const char common[] = "abc01.-";
	static const char other[] = "A! \xff_x\t\r\0:z\x80\\";
	uint64_t *was = rng;
	size_t len, i;

	rng = &subject_rng; /* the patterns do not depend on the subjects */
	len = rnd(13);
	for (i = 0; i < len; i++)
		s[i] = pct(90) ? common[rnd(sizeof(common) - 1)]
		               : other[rnd(sizeof(other) - 1)];
	rng = was;
	return len;
}

#define N_PATTERNS 20000
#define N_SUBJECTS 40

/* 20,000 random patterns of the covered syntax (and a little noise):
 * wherever the automaton compiles a pattern, it answers as PCRE2 does on
 * 40 random subjects each; and it covers most of them. */
TEST(test_random_patterns_agree_with_pcre2)
{
	unsigned long generated = 0, pcre_ok = 0, covered = 0, compared = 0,
	              skipped = 0, bad = 0, lax = 0;
	int i, j;

	/* fixed: the same patterns and subjects every run */
	pattern_rng = 0x6d333635u;
	subject_rng = 0x73756a62u;
	rng = &pattern_rng;
	for (i = 0; i < N_PATTERNS; i++) {
		struct gen g = {{0}, 0, 0};
		struct redfa *d;
		struct pcre p;
		gen_alt(&g, 0, 1);
		if (g.full)
			continue;
		generated++;
		if (pcre_open(&p, g.s, g.len, 100000) < 0) {
			/* not a disagreement (the list loader hands redfa
			 * only what PCRE2 compiled), but counted */
			d = redfa_compile(g.s, g.len, NULL);
			if (d != NULL && lax++ < 1)
				printf("/%s/: PCRE2 refuses, redfa compiles\n",
				       g.s);
			redfa_free(d);
			continue;
		}
		pcre_ok++;
		if ((d = redfa_compile(g.s, g.len, NULL)) == NULL) {
			pcre_close(&p);
			continue;
		}
		covered++;
		for (j = 0; j < N_SUBJECTS; j++) {
			char s[16];
			size_t len = gen_subject(s);
			int want = pcre_says(&p, s, len), got;
			if (want < 0) {
				skipped++;
				continue;
			}
			compared++;
			got = redfa_match(d, s, len);
			if (got != want && bad++ < 5) {
				size_t k;
				printf("/%s/ on \"", g.s);
				for (k = 0; k < len; k++)
					printf(s[k] >= 0x20 && s[k] < 0x7f
					           ? "%c"
					           : "\\x%02x",
					       (unsigned char)s[k]);
				printf("\": redfa %d, PCRE2 %d\n", got, want);
			}
		}
		redfa_free(d);
		pcre_close(&p);
	}
	printf("redfa random: %lu patterns, %lu PCRE2 compiles, %lu covered "
	       "(%.1f%% of all), %lu subjects compared, %lu skipped, %lu "
	       "disagreements; %lu compiled that PCRE2 refuses\n",
	       generated, pcre_ok, covered,
	       100.0 * (double)covered / (double)generated, compared, skipped,
	       bad, lax);
	assert_int_equal(bad, 0);
	assert_true(generated >= N_PATTERNS * 9 / 10);
	assert_true(covered * 10 >= generated * 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixed_patterns_agree_with_pcre2),
	    cmocka_unit_test(test_realistic_answers_are_the_expected_ones),
	    cmocka_unit_test(test_every_byte_agrees_with_pcre2),
	    cmocka_unit_test(test_uncovered_syntax_is_refused),
	    cmocka_unit_test(test_budget_is_spent_and_then_refuses),
	    cmocka_unit_test(test_state_blowup_is_refused_quickly),
	    cmocka_unit_test(test_automaton_answers_where_pcre2_backtracks_out),
	    cmocka_unit_test(test_random_patterns_agree_with_pcre2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
