/*
 * bytes.h - comparing short runs of bytes a word at a time (internal).
 *
 * The request path compares a name's head or tail with a pattern's
 * literal one: a few bytes to a few dozen, at unaligned places, where a
 * call to memcmp() costs more than the comparison.  These read only the
 * bytes they compare: runs shorter than a word are read as two words
 * that overlap.
 */
#ifndef M365_BYTES_H
#define M365_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The 8 bytes at p as a word in the machine's byte order (any
 * alignment). */
static inline uint64_t
bytes_word(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* The 4 bytes at p (any alignment). */
static inline uint32_t
bytes_half(const char *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* True when a[0..n) and b[0..n) hold the same bytes (n 0: true). */
static inline int
bytes_same(const char *a, const char *b, size_t n)
{
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8)
			if (bytes_word(a + i) != bytes_word(b + i))
				return 0;
		return bytes_word(a + n - 8) == bytes_word(b + n - 8);
	}
	if (n >= 4)
		return ((bytes_half(a) ^ bytes_half(b)) |
		        (bytes_half(a + n - 4) ^ bytes_half(b + n - 4))) == 0;
	if (n == 0)
		return 1;
	/* 1 to 3 bytes: the first, the middle and the last cover them */
	return ((a[0] ^ b[0]) | (a[n / 2] ^ b[n / 2]) |
	        (a[n - 1] ^ b[n - 1])) == 0;
}

#endif
