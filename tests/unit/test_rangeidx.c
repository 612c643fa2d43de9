/* tests/unit/test_rangeidx.c - the range index against a plain scan, on
 * many prefixes gathered in one corner of the address space (where the
 * jump table must look past the bits they all share) and spread over all
 * of it; and the items of prefixes added once and several times. */
#include <stdio.h>
#include <string.h>

#include "rangeidx.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define N_PRE 3000
#define N_ASK 20000

struct pre {
	uint8_t addr[16];
	unsigned plen;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random bytes, the first `fixed` bits taken from corner. */
static void
random_addr(uint8_t *a, size_t len, const uint8_t *corner, unsigned fixed)
{
	size_t i;

	for (i = 0; i < len; i++)
		a[i] = (uint8_t)next();
	for (i = 0; i < fixed; i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));
		a[i / 8] = (uint8_t)((a[i / 8] & ~bit) | (corner[i / 8] & bit));
	}
}

/* True when a lies in p (len bytes). */
static int
inside(const struct pre *p, const uint8_t *a)
{
	unsigned i;

	for (i = 0; i < p->plen; i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));
		if ((p->addr[i / 8] ^ a[i / 8]) & bit)
			return 0;
	}
	return 1;
}

/* The longest prefix length holding a, or -1 (a plain scan). */
static int
deepest(const struct pre *p, size_t n, const uint8_t *a)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (inside(&p[i], a) && (int)p[i].plen > best)
			best = (int)p[i].plen;
	return best;
}

/* Builds N_PRE prefixes of len-byte addresses under corner/fixed, with
 * lengths from minlen up, and checks N_ASK lookups near and away from
 * them. */
static void
check(size_t len, const uint8_t *corner, unsigned fixed, unsigned minlen)
{
	static struct pre p[N_PRE];
	struct range_builder *b = range_builder_new((unsigned)len * 8);
	struct rangeidx *ix;
	size_t i;

	assert_non_null(b);
	for (i = 0; i < N_PRE; i++) {
		struct idx_item it = {(uint32_t)i, 0};
		random_addr(p[i].addr, len, corner, fixed);
		p[i].plen =
		    minlen + (unsigned)(next() % (len * 8 - minlen + 1));
		assert_int_equal(range_add(b, p[i].addr, p[i].plen, it), 0);
	}
	ix = range_finish(b);
	assert_non_null(ix);
	for (i = 0; i < N_ASK; i++) {
		uint8_t a[16];
		uint32_t at;
		int want;
		if (i % 2) { /* inside a prefix, or next to one */
			memcpy(a, p[next() % N_PRE].addr, len);
			a[len - 1 - next() % 2] ^= (uint8_t)(next() % 4);
		} else {
			random_addr(a, len, corner, i % 4 ? fixed : 0);
		}
		want = deepest(p, N_PRE, a);
		at = range_find(ix, a);
		if (want < 0) {
			assert_int_equal(at, RANGE_NONE);
			continue;
		}
		assert_int_not_equal(at, RANGE_NONE);
		{
			size_t n;
			const struct idx_item *it =
			    range_items(ix, range_prefix(ix, at), &n);
			assert_true(n > 0);
			assert_int_equal(p[it[0].value].plen, (unsigned)want);
			assert_true(inside(&p[it[0].value], a));
		}
	}
	range_free(ix);
}

/* In 2400::/6 (as Microsoft's and most allocations are under 2000::/3),
 * then anywhere. */
TEST(test_ipv6_ranges_are_found_as_a_scan_finds_them)
{
	static const uint8_t corner[16] = {0x24};

	check(16, corner, 6, 24);
	check(16, corner, 0, 8);
}

/* In 10.0.0.0/8, then anywhere. */
TEST(test_ipv4_ranges_are_found_as_a_scan_finds_them)
{
	static const uint8_t corner[4] = {10};

	check(4, corner, 8, 12);
	check(4, corner, 0, 4);
}

/* The items of the prefix at, as values, into v; their number. */
static size_t
values(const struct rangeidx *ix, uint32_t at, uint32_t *v)
{
	size_t n, i;
	const struct idx_item *it = range_items(ix, range_prefix(ix, at), &n);

	for (i = 0; i < n; i++)
		v[i] = it[i].value;
	return n;
}

/* A prefix added several times gives every item, sorted; one added once
 * gives its own (kept in the prefix); the chain goes up through both. */
TEST(test_every_item_of_a_prefix_up_the_chain)
{
	static const uint8_t net8[4] = {10}, net16[4] = {10, 1},
	                     net24[4] = {10, 1, 2}, ask[4] = {10, 1, 2, 3},
	                     beside[4] = {10, 1, 3, 1};
	struct range_builder *b = range_builder_new(32);
	struct rangeidx *ix;
	uint32_t v[4], at;
	size_t n;

	assert_non_null(b);
	assert_int_equal(range_add(b, net16, 16, (struct idx_item){7, 70}), 0);
	assert_int_equal(range_add(b, net8, 8, (struct idx_item){1, 10}), 0);
	assert_int_equal(range_add(b, net16, 16, (struct idx_item){3, 30}), 0);
	assert_int_equal(range_add(b, net24, 24, (struct idx_item){9, 90}), 0);
	assert_int_equal(range_add(b, net16, 16, (struct idx_item){5, 50}), 0);
	assert_non_null(ix = range_finish(b));
	assert_int_equal(range_size(ix), 5);

	at = range_find(ix, ask);
	assert_int_not_equal(at, RANGE_NONE);
	assert_int_equal(values(ix, at, v), 1);
	assert_int_equal(v[0], 9);
	assert_int_equal(range_items(ix, range_prefix(ix, at), &n)->aux, 90);
	at = range_prefix(ix, at)->parent;
	assert_int_equal(values(ix, at, v), 3);
	assert_int_equal(v[0], 3);
	assert_int_equal(v[1], 5);
	assert_int_equal(v[2], 7);
	at = range_prefix(ix, at)->parent;
	assert_int_equal(values(ix, at, v), 1);
	assert_int_equal(v[0], 1);
	assert_int_equal(range_prefix(ix, at)->parent, RANGE_NONE);

	at = range_find(ix, beside); /* the /16's, not the /24's */
	assert_int_equal(values(ix, at, v), 3);
	assert_int_equal(v[0], 3);
	range_free(ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv6_ranges_are_found_as_a_scan_finds_them),
	    cmocka_unit_test(test_ipv4_ranges_are_found_as_a_scan_finds_them),
	    cmocka_unit_test(test_every_item_of_a_prefix_up_the_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
