/*
 * redfa.h - simple regular expressions run as a deterministic automaton
 * (internal).
 *
 * Most regexes admins write for hostnames (^(app|api)[0-9]+\.example\.net$)
 * are plain regular expressions.  Compiled to a small DFA they match in one
 * table step per byte, with no backtracking, no match limit that could make
 * them fail, and no machine code per pattern to crowd the instruction
 * cache, which is what a thousand JIT-compiled patterns do.  Whatever the
 * automaton does not cover stays with PCRE2: redfa_compile() says NULL.
 *
 * A compiled automaton is immutable and safe to run from many threads.
 */
#ifndef M365_REDFA_H
#define M365_REDFA_H

#include <stddef.h>

struct redfa;

/*
 * Compiles src[0..len), a pattern as PCRE2 compiles it with no options,
 * into an automaton that answers as pcre2_match() does (is there a match
 * anywhere in the subject?) on subjects without a newline.  Covered:
 * literal bytes and escaped punctuation; \d \D \w \W \s \S; '.'; classes
 * [...] and [^...] with ranges and those escapes; groups (...) and
 * (?:...); alternation; the quantifiers * + ? {n} {n,} {n,m} (counts up
 * to REDFA_COUNT_MAX), greedy or lazy; '^' at the start and '$' at the
 * end of a top-level alternative.  Returns NULL for anything else (other
 * escapes, option settings, lookarounds, back references, possessive
 * quantifiers, POSIX classes), for an automaton over REDFA_STATES_MAX
 * states, and when out of memory.  Building takes at most about 2 million
 * steps (a few milliseconds); with budget, the steps taken are subtracted
 * from *budget, and nothing is built once it is spent (patterns that
 * each need a great many steps, by the thousand, must not stall a load).
 * Free with redfa_free().
 */
struct redfa *redfa_compile(const char *src, size_t len, long *budget);

/* 1 when d matches somewhere in s[0..len) (no newline in it), else 0. */
int redfa_match(const struct redfa *d, const char *s, size_t len);

/*
 * Writes pattern src[0..len) as the source of a JavaScript regular
 * expression with the same matches (for RegExp.test() on a host's text)
 * into buf (of buflen bytes), when redfa covers it: every byte as
 * itself or \xHH, classes as \xHH ranges, groups non-capturing.
 * Returns 0, or -1 when redfa does not cover it or buf is too small.
 */
int redfa_to_js(const char *src, size_t len, char *buf, size_t buflen);

/*
 * The same as a POSIX extended regular expression (for Squid's
 * dstdom_regex), on hosts' text: printable ASCII bytes (a byte outside
 * it never matches), bracket expressions, plain groups.
 */
int redfa_to_ere(const char *src, size_t len, char *buf, size_t buflen);

/*
 * The same, matching the text between "[" and "]" of the whole subject
 * ("[2001:db8::1]": how Squid shows an IPv6 literal to dstdom_regex).
 */
int redfa_to_ere_bracketed(const char *src, size_t len, char *buf,
                           size_t buflen);

/* Frees d; NULL is a no-op. */
void redfa_free(struct redfa *d);

/* Bytes d holds: all of it, in one block. */
size_t redfa_bytes(const struct redfa *d);

/*
 * Copies d into to (redfa_bytes(d) bytes, aligned to REDFA_ALIGN), where
 * the caller wants it (next to what is read with it), and returns the
 * copy: the same automaton, to run as long as those bytes last, never to
 * be given to redfa_free().
 */
struct redfa *redfa_copy(const struct redfa *d, void *to);

/* The alignment a copy needs. */
#define REDFA_ALIGN 8

/* The largest count of a {n,m} quantifier an automaton takes. */
#define REDFA_COUNT_MAX 64
/* The most states an automaton may have (the dead state included). */
#define REDFA_STATES_MAX 255

#endif
