/* tests/unit/test_nameidx.c - the name index's key comparison, on names
 * whose hashes collide with a key's.
 *
 * A probe reaches an entry by hash: the filter, the home slot and a tag of
 * the hash must agree before the key's bytes are compared, so names that
 * differ from a key almost never get as far as the comparison, and the
 * answers of the other tests would stay right with a comparison that
 * looked at nothing.  The pairs below were searched for offline: each
 * name has its key's length, tag and home slot in the table a one-key
 * builder makes (65 slots), so only the bytes tell them apart.  The
 * short key is kept whole in its entry (24 bytes or less); the long ones
 * as 16 bytes and a pointer: one collider shares those 16 bytes, another
 * the bytes after them. */
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

TEST(test_a_long_key_is_compared_in_its_head)
{
	apart("teams-meet-and-files-0001.example",
	      "000000000000000000bcde32b.example");
	/* the same bytes from the 17th on */
	apart("teams-meet-and-files-0001.example",
	      "0000000006872d97iles-0001.example");
}

TEST(test_a_long_key_is_compared_past_its_head)
{
	apart("teams-meet-and-files-0001.example",
	      "teams-meet-and-f00334b069.example");
	apart("teams-meet-01.example.0a0b", "teams-meet-01.exa003ddfab0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_short_key_is_compared_whole),
	    cmocka_unit_test(test_a_long_key_is_compared_in_its_head),
	    cmocka_unit_test(test_a_long_key_is_compared_past_its_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
