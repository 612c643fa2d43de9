/* fuzz_redfa.c - libFuzzer: the regex automaton (lib/redfa.h) against
 * pcre2_match() on the same pattern.
 *
 * The input is a pattern, a NUL byte, then subjects separated by NUL
 * bytes (with no NUL, the whole input is the pattern, tried on a few
 * fixed subjects).  Where PCRE2 compiles the pattern (no options) and
 * redfa covers it, both must answer alike on every subject without a
 * newline that PCRE2 evaluates within its limits; any disagreement
 * aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "redfa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Tried when the input holds no subject. */
static const char *const fixed[] = {
    "",
    "a",
    "app1.rx12.com",
    "apx1.rx12.com",
    "www.shop42.example.com",
    "foo.example.net",
    "aaaaaaaaaaaaaaab",
    "abcabc-01.",
    "A-Z_0:9",
    "\xff x!\t\r",
    "203.0.113.7",
    "2001:db8::1",
};

/* Both sides on s[0..len); traps when they disagree. */
static void
compare(const struct redfa *d, const pcre2_code *re, pcre2_match_data *md,
        pcre2_match_context *mc, const char *s, size_t len)
{
	int rc, want;

	if (memchr(s, '\n', len) != NULL)
		return;
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, mc);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
		return; /* a limit: PCRE2 has no answer */
	want = rc >= 0;
	if (redfa_match(d, s, len) != want)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *end = in + size, *nul;
	pcre2_match_context *mc;
	pcre2_match_data *md;
	pcre2_code *re;
	struct redfa *d;
	PCRE2_SIZE off;
	size_t plen, i;
	int err;

	nul = memchr(in, '\0', size);
	plen = nul != NULL ? (size_t)(nul - in) : size;
	re = pcre2_compile((PCRE2_SPTR)in, plen, 0, &err, &off, NULL);
	if (re == NULL)
		return 0;
	if ((d = redfa_compile(in, plen, NULL)) == NULL) {
		pcre2_code_free(re);
		return 0;
	}
	md = pcre2_match_data_create(16, NULL);
	mc = pcre2_match_context_create(NULL);
	if (md == NULL || mc == NULL)
		goto out;
	pcre2_set_match_limit(mc, 100000);
	pcre2_set_depth_limit(mc, 1000);
	if (nul == NULL) {
		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			compare(d, re, md, mc, fixed[i], strlen(fixed[i]));
	} else {
		const char *s = nul + 1;
		for (;;) {
			const char *e = memchr(s, '\0', (size_t)(end - s));
			if (e == NULL)
				e = end;
			compare(d, re, md, mc, s, (size_t)(e - s));
			if (e == end)
				break;
			s = e + 1;
		}
	}
out:
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	redfa_free(d);
	pcre2_code_free(re);
	return 0;
}
