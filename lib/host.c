/* host.c - the host normaliser of contract.md (see m365_host.h). */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "hex.h"
#include "host_impl.h"

/* Longest raw input worth decoding: an encoded 253-char name plus slack. */
#define RAW_MAX (3 * (M365_HOST_MAX + 3))

/*
 * Percent-decodes in[0..len) into out (capacity cap) and lowercases ASCII
 * on the way.  Returns the decoded length, or -1 when it does not fit or
 * holds a NUL byte.  A '%' not followed by two hex digits is kept literally
 * (and later makes the host invalid).
 */
static long
decode_lower(const char *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)in[i], hi, lo;
		if (c == '%' && i + 2 < len &&
		    (hi = hex_value(in[i + 1])) >= 0 &&
		    (lo = hex_value(in[i + 2])) >= 0) {
			c = hi * 16 + lo;
			i += 2;
		}
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c == '\0' || o >= cap)
			return -1;
		out[o++] = (char)c;
	}
	return (long)o;
}

int
host_valid_name(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > M365_HOST_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		           c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

void
host_find_labels(const char *s, size_t len, struct host_labels *lb)
{
	size_t i;

	lb->n = 1;
	lb->start[0] = 0;
	for (i = 0; i < len && lb->n < HOST_LABELS_MAX; i++)
		if (s[i] == '.')
			lb->start[lb->n++] = (uint8_t)(i + 1);
}

/*
 * Character classes of the fast path: C_OK for every byte it takes (a
 * byte without it is left to the general path), C_DOT a dot, C_NAME a
 * byte no IPv4 address has, and C_UPPER the bit that lowercases a letter.
 */
enum { C_DOT = 1, C_DIGIT = 2, C_NAME = 4, C_UPPER = 0x20, C_OK = 0x40 };

/* [A-Za-z0-9._-]: what a name may hold before lowercasing. */
static const unsigned char char_class[256] = {['0' ... '9'] = C_OK | C_DIGIT,
                                              ['a' ... 'z'] = C_OK | C_NAME,
                                              ['A' ... 'Z'] =
                                                  C_OK | C_NAME | C_UPPER,
                                              ['-'] = C_OK | C_NAME,
                                              ['_'] = C_OK | C_NAME,
                                              ['.'] = C_OK | C_DOT};

void
host_pad(struct m365_host *out, size_t len)
{
	static const char zero[8];

	memcpy(out->name + len, zero, sizeof(zero));
}

/*
 * The common case in one pass: a name or dotted quad of [A-Za-z0-9._-]
 * with no escapes, brackets or empty labels, validated, lowercased and
 * copied into out at once, its labels noted in lb.  Returns 1 when it
 * decided, 0 to leave the input to the general path.
 */
/* SWAR: eight bytes of a word at once (each below 0x80). */
#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* The high bit of each byte of w that is at least c (1 <= c <= 0x80). */
static inline uint64_t
at_least(uint64_t w, unsigned c)
{
	return (w + ONES * (0x80u - c)) & HIGH;
}

/*
 * Eight bytes of a name at once: lowercases w into *low and returns the
 * high bit of each dot in *dots and of each byte no IPv4 address has in
 * *name; 0 when a byte is not [A-Za-z0-9._-] (the general path decides),
 * else 1.
 */
static inline int
word_scan(uint64_t w, uint64_t *low, uint64_t *dots, uint64_t *name)
{
	uint64_t lt_slash, lt_colon, digit, alpha, ok;

	if (w & HIGH)
		return 0;
	w |= (at_least(w, 'A') & ~at_least(w, 'Z' + 1)) >> 2;
	lt_slash = ~at_least(w, '/');
	lt_colon = ~at_least(w, ':');
	digit = at_least(w, '0') & lt_colon;
	alpha = at_least(w, 'a') & ~at_least(w, 'z' + 1);
	*dots = at_least(w, '.') & lt_slash;
	ok = (at_least(w, '-') & lt_slash) | digit | alpha |
	     (at_least(w, '_') & ~at_least(w, '_' + 1));
	*name |= ok & ~digit & ~*dots;
	*low = w;
	return ok == HIGH;
}

#ifdef __SSE2__
/* Byte lanes of v in [lo, hi] (both below 0x80): all ones, else zero. */
static inline __m128i
in_range(__m128i v, char lo, char hi)
{
	return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)(lo - 1))),
	                     _mm_cmplt_epi8(v, _mm_set1_epi8((char)(hi + 1))));
}

/*
 * word_scan() on sixteen bytes at once (SSE2): lowercases in[0..16) into
 * out[0..16), returns a bit per dot in *dots and sets *name when a byte
 * no IPv4 address has is there; 0 when a byte is not [A-Za-z0-9._-].
 */
static inline int
block_scan(const unsigned char *in, char *out, unsigned *dots, uint64_t *name)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)in);
	__m128i digit, dot, ok;

	v = _mm_or_si128(
	    v, _mm_and_si128(in_range(v, 'A', 'Z'), _mm_set1_epi8(0x20)));
	digit = in_range(v, '0', '9');
	dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
	ok = _mm_or_si128(_mm_or_si128(in_range(v, 'a', 'z'), digit),
	                  _mm_or_si128(in_range(v, '-', '.'),
	                               _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
	if (_mm_movemask_epi8(ok) != 0xffff)
		return 0;
	*name |= _mm_movemask_epi8(_mm_or_si128(digit, dot)) != 0xffff;
	*dots = (unsigned)_mm_movemask_epi8(dot);
	_mm_storeu_si128((__m128i *)(void *)out, v);
	return 1;
}
#endif

/*
 * The common case: a name or dotted quad of [A-Za-z0-9._-] with no
 * escapes, brackets or empty labels, validated, lowercased and copied into
 * out in one pass (eight bytes at a time, then the rest one by one), its
 * labels noted in lb.  Returns 1 when it decided, 0 to leave the input to
 * the general path.
 */
static int
fast_path(const char *in, size_t len, struct m365_host *out,
          struct host_labels *lb)
{
	const unsigned char *s = (const unsigned char *)in;
	char *o = out->name;
	uint8_t *st = lb->start;
	uint64_t name = 0, w, dots;
	unsigned any = 0, all = C_OK, n = 0, j;
	size_t i = 0;

	if (len > M365_HOST_MAX + 1)
		return 0;
	st[0] = 0;
#ifdef __SSE2__
	for (; i + 16 <= len; i += 16) {
		unsigned dm;
		if (!block_scan(s + i, o + i, &dm, &name))
			return 0;
		for (; dm != 0; dm &= dm - 1)
			st[++n] =
			    (uint8_t)(i + (unsigned)__builtin_ctz(dm) + 1);
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, sizeof(w));
		if (!word_scan(w, &w, &dots, &name))
			return 0;
		memcpy(o + i, &w, sizeof(w));
		for (; dots != 0; dots &= dots - 1) /* little-endian order */
			st[++n] =
			    (uint8_t)(i + (unsigned)__builtin_ctzll(dots) / 8 +
			              1);
	}
#endif
	for (; i < len; i++) { /* the rest, a byte at a time */
		unsigned c = s[i], k = char_class[c];
		o[i] = (char)(c | (k & C_UPPER));
		any |= k;
		all &= k;
		st[n + 1] = (uint8_t)(i + 1);
		n += k & C_DOT;
	}
	if (!(all & C_OK))
		return 0;
	if (st[n] == len) { /* one trailing dot */
		if (n == 0)
			return 0;
		len--;
		n--;
	}
	if (len > M365_HOST_MAX)
		return 0;
	for (j = 0; j <= n; j++) { /* labels of 1 to 63 bytes */
		size_t end = j < n ? (size_t)st[j + 1] - 1 : len;
		if (end <= st[j] || end - st[j] > 63)
			return 0;
	}
	host_pad(out, len);
	lb->n = n + 1;
	out->len = len;
	out->kind = M365_HOST_NAME;
	if (!(any & C_NAME) && name == 0 && lb->n == 4 &&
	    host_dotted_quad(o, len, out->addr)) {
		out->kind = M365_HOST_IPV4;
		lb->n = 0;
	}
	return 1;
}

enum m365_host_kind
host_scan(const char *in, size_t len, struct m365_host *out,
          struct host_labels *lb, unsigned flags)
{
	char buf[RAW_MAX + 1];
	char *s = buf;
	long n;
	int bracketed = 0;

	lb->n = 0;
	if (in == NULL || len == 0 || (len == 1 && in[0] == '-')) {
		out->name[0] = '\0';
		out->len = 0;
		return out->kind = M365_HOST_NONE;
	}
	if (fast_path(in, len, out, lb))
		return out->kind;
	lb->n = 0;
	if (host_ip_direct(in, len, out, flags)) /* an IPv6 literal as is */
		return out->kind;
	out->name[0] = '\0';
	out->len = 0;
	out->kind = M365_HOST_INVALID;
	if (len > RAW_MAX || (n = decode_lower(in, len, buf, RAW_MAX)) < 0)
		return out->kind;
	if (n == 0 || (n == 1 && buf[0] == '-'))
		return out->kind = M365_HOST_NONE;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		bracketed = 1;
	}
	if (n > 0 && s[n - 1] == '.')
		n--;
	s[n] = '\0';
	if (host_ip_literal(s, (size_t)n, out, flags)) {
		if (bracketed && out->kind == M365_HOST_IPV4 &&
		    memchr(s, ':', (size_t)n) == NULL)
			goto invalid; /* "[1.2.3.4]" is no IPv6 literal */
		host_pad(out, out->len);
		return out->kind;
	}
	if (bracketed || !host_valid_name(s, (size_t)n))
		goto invalid;
	memcpy(out->name, s, (size_t)n);
	host_pad(out, (size_t)n);
	out->len = (size_t)n;
	host_find_labels(out->name, out->len, lb);
	return out->kind = M365_HOST_NAME;
invalid:
	out->name[0] = '\0';
	out->len = 0;
	return out->kind = M365_HOST_INVALID;
}

enum m365_host_kind
m365_host_normalize(const char *in, size_t len, struct m365_host *out)
{
	struct host_labels lb;

	return host_scan(in, len, out, &lb, HOST_IP_TEXT);
}

const char *
m365_host_kind_name(enum m365_host_kind kind)
{
	switch (kind) {
	case M365_HOST_NONE: return "none";
	case M365_HOST_NAME: return "hostname";
	case M365_HOST_IPV4: return "IPv4";
	case M365_HOST_IPV6: return "IPv6";
	case M365_HOST_INVALID: break;
	}
	return "invalid";
}
