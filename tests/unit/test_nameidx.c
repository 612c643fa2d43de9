/* tests/unit/test_nameidx.c - the name index's key comparison, on names
 * whose hashes collide with a key's.
 *
 * A probe reaches an entry by hash: the filter, the home slot and a tag of
 * the hash must agree before the key's bytes are compared, so names that
 * differ from a key almost never get as far as the comparison, and the
 * answers of the other tests would stay right with a comparison that
 * looked at nothing.  The pairs below were searched for offline: each
 * name has its key's length, tag and home slot in the table a one-key
 * builder makes (65 slots), so only the bytes tell them apart.  A short
 * key is kept whole in its entry (24 bytes or less), a long one as a
 * pointer to it; the colliders differ from their keys at the start, at
 * the end, or only in the middle. */
#include <stdio.h>
#include <string.h>

#include "nameidx_impl.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* An index of the one key, an exact name with item value 7. */
static struct nameidx *
one_key(const char *key)
{
	struct nameidx_builder *b = nameidx_builder_new(1);
	struct idx_item it = {7, 0};

	assert_non_null(b);
	assert_int_equal(nameidx_count(b, key, NK_EXACT), 0);
	assert_int_equal(nameidx_layout(b), 0);
	nameidx_place(b, key, NK_EXACT, it);
	return nameidx_finish(b);
}

/* True when the probe finds name in ix (name copied, padded as a
 * normalised name is). */
static int
found(const struct nameidx *ix, const char *name)
{
	char buf[M365_HOST_MAX + 8] = {0};
	size_t len = strlen(name);
	struct name_hit h;
	int rc;

	memcpy(buf, name, len);
	rc = nameidx_probe(ix, name_key_hash(name, len), buf, len, &h);
	if (rc)
		assert_int_equal(h.it[NK_EXACT]->value, 7);
	return rc;
}

/* key and other share length, tag and home slot, and the probe tells
 * them apart. */
static void
apart(const char *key, const char *other)
{
	struct nameidx *ix = one_key(key);
	uint64_t fk = name_key_hash(key, strlen(key));
	uint64_t fo = name_key_hash(other, strlen(other));

	assert_non_null(ix);
	/* the pair still collides (else the hash changed: search again) */
	assert_int_equal(strlen(key), strlen(other));
	assert_int_equal(ENTRY_TAG(fk), ENTRY_TAG(fo));
	assert_int_equal(name_range(fk, ix->n_slots),
	                 name_range(fo, ix->n_slots));
	assert_true(found(ix, key));
	assert_false(found(ix, other));
	nameidx_free(ix);
}

TEST(test_a_short_key_is_compared_whole)
{
	apart("teams-meet-01.example", "0000003a60c9a.example");
	/* the same first 16 bytes: only the last, partial word differs */
	apart("teams-meet-01.example-a", "teams-meet-01.ex52e3e0a");
}

TEST(test_a_long_key_is_compared_from_its_start)
{
	apart("teams-meet-and-files-0001.example",
	      "000000000000000000bcde32b.example");
	/* the same bytes from the 17th on: only the first 16 differ */
	apart("teams-meet-and-files-0001.example",
	      "0000000006872d97iles-0001.example");
}

TEST(test_a_long_key_is_compared_to_its_end)
{
	apart("teams-meet-and-files-0001.example",
	      "teams-meet-and-f00334b069.example");
	apart("teams-meet-01.example.0a0b", "teams-meet-01.exa003ddfab0");
}

/* A key with items of every kind, placed interleaved: each kind's items
 * come back in the order they were placed. */
TEST(test_a_key_keeps_its_items_by_kind_in_order)
{
	static const struct {
		enum name_kind k;
		uint32_t value;
	} add[] = {{NK_BUCKET, 40}, {NK_EXACT, 10},  {NK_SUFFIX, 30},
	           {NK_EXACT, 20},  {NK_BUCKET, 50}, {NK_EXACT, 5}};
	struct nameidx_builder *b = nameidx_builder_new(4);
	struct nameidx *ix;
	char key[32] = "teams.example.net";
	struct name_hit h;
	size_t i, n = sizeof(add) / sizeof(add[0]);

	assert_non_null(b);
	for (i = 0; i < n; i++)
		assert_int_equal(nameidx_count(b, key, add[i].k), 0);
	assert_int_equal(nameidx_count(b, "other.example.net", NK_EXACT), 0);
	assert_int_equal(nameidx_layout(b), 0);
	for (i = 0; i < n; i++) {
		struct idx_item it = {add[i].value, 0};
		nameidx_place(b, key, add[i].k, it);
	}
	nameidx_place(b, "other.example.net", NK_EXACT,
	              (struct idx_item){99, 0});
	ix = nameidx_finish(b);
	assert_non_null(ix);
	assert_true(nameidx_probe(ix, name_key_hash(key, strlen(key)), key,
	                          strlen(key), &h));
	assert_int_equal(h.n[NK_EXACT], 3);
	assert_int_equal(h.it[NK_EXACT][0].value, 10);
	assert_int_equal(h.it[NK_EXACT][1].value, 20);
	assert_int_equal(h.it[NK_EXACT][2].value, 5);
	assert_int_equal(h.n[NK_SUFFIX], 1);
	assert_int_equal(h.it[NK_SUFFIX][0].value, 30);
	assert_int_equal(h.n[NK_BUCKET], 2);
	assert_int_equal(h.it[NK_BUCKET][0].value, 40);
	assert_int_equal(h.it[NK_BUCKET][1].value, 50);
	nameidx_free(ix);
}

/* ENTRY_MAX exact items on one key are taken, one more is refused. */
TEST(test_a_key_takes_at_most_entry_max_items_of_a_kind)
{
	struct nameidx_builder *b = nameidx_builder_new(16);
	unsigned i;

	assert_non_null(b);
	for (i = 0; i < ENTRY_MAX; i++)
		assert_int_equal(nameidx_count(b, "a.example", NK_SUFFIX), 0);
	assert_int_equal(nameidx_layout(b), 0);
	nameidx_builder_free(b);
	b = nameidx_builder_new(16);
	assert_non_null(b);
	for (i = 0; i <= ENTRY_MAX; i++)
		assert_int_equal(nameidx_count(b, "a.example", NK_EXACT), 0);
	assert_int_equal(nameidx_layout(b), -2);
	nameidx_builder_free(b);
}

/* The keys hostI.vendorJ.example, eight to a vendor (they outlive the
 * index: a long one is kept as a pointer). */
#define N_VENDOR_KEYS 5000
static char vendor_key[N_VENDOR_KEYS][40];

/* An index of the vendor keys, key I an exact name with item value I,
 * from a builder told to expect hint items. */
static struct nameidx *
vendor_keys(size_t hint)
{
	struct nameidx_builder *b = nameidx_builder_new(hint);
	struct nameidx *ix;
	unsigned i;

	assert_non_null(b);
	for (i = 0; i < N_VENDOR_KEYS; i++) {
		snprintf(vendor_key[i], sizeof(vendor_key[i]),
		         "host%u.vendor%u.example", i, i / 8);
		assert_int_equal(nameidx_count(b, vendor_key[i], NK_EXACT), 0);
	}
	assert_int_equal(nameidx_layout(b), 0);
	for (i = 0; i < N_VENDOR_KEYS; i++)
		nameidx_place(b, vendor_key[i], NK_EXACT,
		              (struct idx_item){i, 0});
	ix = nameidx_finish(b);
	assert_non_null(ix);
	return ix;
}

/* A small table is at most half full however far it grew from its hint
 * (the keys close to their home slot), and every key is found in it. */
TEST(test_a_small_table_is_at_most_half_full)
{
	struct nameidx *ix = vendor_keys(10);
	struct name_hit h;
	unsigned i;

	assert_int_equal(ix->n_keys, N_VENDOR_KEYS);
	assert_true(ix->n_slots >= 2 * (uint64_t)ix->n_keys);
	for (i = 0; i < N_VENDOR_KEYS; i++) {
		char padded[M365_HOST_MAX + 8] = {0};
		size_t len = strlen(vendor_key[i]);
		memcpy(padded, vendor_key[i], len);
		assert_true(nameidx_probe(ix, name_key_hash(padded, len),
		                          padded, len, &h));
		assert_int_equal(h.it[NK_EXACT][0].value, i);
	}
	nameidx_free(ix);
}

/* Every pattern of the filter sets three bits, and they are varied: with
 * one pattern for all, or fewer bits, the filter would let through most
 * names, and the walk would probe the table for each. */
TEST(test_the_filter_patterns_are_three_varied_bits)
{
	unsigned i, j, distinct = 0;

	for (i = 0; i < NAME_MASKS; i++) {
		assert_int_equal(__builtin_popcountll(name_bloom_mask[i]), 3);
		for (j = 0; j < i && name_bloom_mask[j] != name_bloom_mask[i];
		     j++)
			;
		distinct += j == i;
	}
	/* 1024 draws of 3 bits among 64 repeat about a dozen times */
	assert_true(distinct > NAME_MASKS - 40);
}

/* The filter turns away names that are not keys: of 100,000 names beside
 * 5,000 keys (same domains), fewer than 3% may be keys (about 1% is its
 * design). */
TEST(test_the_filter_turns_away_almost_every_other_name)
{
	struct nameidx *ix = vendor_keys(N_VENDOR_KEYS);
	unsigned i, maybe = 0;

	for (i = 0; i < 100000; i++) {
		char padded[M365_HOST_MAX + 8] = {0};
		int len = snprintf(padded, sizeof(padded),
		                   "other%u.vendor%u.example", i, i % 625);
		uint64_t f = name_key_hash(padded, (size_t)len);
		maybe += nameidx_may_be_key(nameidx_word(ix, f), f);
	}
	assert_true(maybe < 3000);
	nameidx_free(ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_short_key_is_compared_whole),
	    cmocka_unit_test(test_a_long_key_is_compared_from_its_start),
	    cmocka_unit_test(test_a_long_key_is_compared_to_its_end),
	    cmocka_unit_test(test_a_key_keeps_its_items_by_kind_in_order),
	    cmocka_unit_test(
	        test_a_key_takes_at_most_entry_max_items_of_a_kind),
	    cmocka_unit_test(test_a_small_table_is_at_most_half_full),
	    cmocka_unit_test(test_the_filter_patterns_are_three_varied_bits),
	    cmocka_unit_test(
	        test_the_filter_turns_away_almost_every_other_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
