/* tests/unit/test_bytes.c - bytes_same(), the word-at-a-time comparison
 * the request path uses for a pattern's literal head and tail.
 *
 * It reads runs shorter than a word as two words that overlap, so every
 * length from 0 to past two words, every place a difference can be, and
 * every alignment are tried against memcmp(); each run sits at the very
 * end of a buffer of its own size, so that a read past it is an error
 * under AddressSanitizer. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define LONGEST 40

/* How a byte is made different: its low bit, its high bit, a letter's
 * case. */
static const unsigned char flip[] = {1, 0x80, 0x20};

/* A copy of s[0..n) at the end of a buffer of pad + n bytes (pad puts it
 * at each alignment); free(*base) frees it. */
static char *
at_end(const char *s, size_t n, size_t pad, char **base)
{
	*base = malloc(pad + n > 0 ? pad + n : 1);
	assert_non_null(*base);
	memset(*base, 'x', pad);
	memcpy(*base + pad, s, n);
	return *base + pad;
}

TEST(test_equal_runs_are_the_same_at_every_length_and_alignment)
{
	const char *text = "autodiscover.teams.microsoft.com.example-";
	size_t n, pa, pb;

	for (n = 0; n <= LONGEST; n++)
		for (pa = 0; pa < 8; pa++)
			for (pb = 0; pb < 8; pb += 3) {
				char *ba, *bb;
				char *a = at_end(text, n, pa, &ba);
				char *b = at_end(text, n, pb, &bb);
				assert_true(bytes_same(a, b, n));
				free(ba);
				free(bb);
			}
}

TEST(test_one_different_byte_anywhere_is_seen)
{
	const char *text = "autodiscover.teams.microsoft.com.example-";
	size_t n, at, pa;

	for (n = 1; n <= LONGEST; n++)
		for (at = 0; at < n; at++)
			for (pa = 0; pa < 8; pa++) {
				char *ba, *bb;
				char *a = at_end(text, n, pa, &ba);
				char *b = at_end(text, n, 7 - pa, &bb);
				size_t k;
				for (k = 0; k < sizeof(flip); k++) {
					b[at] = (char)(text[at] ^ flip[k]);
					assert_false(bytes_same(a, b, n));
					assert_false(bytes_same(b, a, n));
				}
				b[at] = text[at];
				assert_true(bytes_same(a, b, n));
				free(ba);
				free(bb);
			}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_equal_runs_are_the_same_at_every_length_and_alignment),
	    cmocka_unit_test(test_one_different_byte_anywhere_is_seen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
