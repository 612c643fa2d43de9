/* host.c - the host normaliser of contract.md (see m365_host.h). */
#include <arpa/inet.h>
#include <string.h>

#include "hex.h"
#include "m365_host.h"

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

/* True when s[0..len) is a valid hostname per contract.md step 6. */
static int
valid_hostname(const char *s, size_t len)
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

/* Writes a.b.c.d for addr into out; returns its length. */
static size_t
format_ipv4(const uint8_t *addr, char *out)
{
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = addr[i];
		if (i)
			out[n++] = '.';
		if (v >= 100)
			out[n++] = (char)('0' + v / 100);
		if (v >= 10)
			out[n++] = (char)('0' + v / 10 % 10);
		out[n++] = (char)('0' + v % 10);
	}
	out[n] = '\0';
	return n;
}

/*
 * Writes the RFC 5952 text of an IPv6 address into out (at least 40
 * bytes): lowercase hex, no leading zeros, the longest run of two or more
 * zero groups as "::".  Returns its length.
 */
static size_t
format_ipv6(const uint8_t *a, char *out)
{
	static const char hex[] = "0123456789abcdef";
	int g[8], i, best = -1, best_len = 1, run = 0;
	size_t n = 0;

	for (i = 0; i < 8; i++) {
		g[i] = a[2 * i] << 8 | a[2 * i + 1];
		run = g[i] == 0 ? run + 1 : 0;
		if (run > best_len) {
			best_len = run;
			best = i - run + 1;
		}
	}
	i = 0;
	while (i < 8) {
		int shift, started = 0;
		if (i == best) {
			out[n++] = ':';
			out[n++] = ':';
			i += best_len;
			continue;
		}
		if (n > 0 && out[n - 1] != ':')
			out[n++] = ':';
		for (shift = 12; shift >= 0; shift -= 4) {
			int d = (g[i] >> shift) & 15;
			if (d || started || shift == 0) {
				out[n++] = hex[d];
				started = 1;
			}
		}
		i++;
	}
	out[n] = '\0';
	return n;
}

/*
 * Tries inet_pton on s[0..n) (NUL-terminated) when it can be an address at
 * all: digits and dots for IPv4, a ':' for IPv6.  Fills out on success.
 */
static int
ip_literal(const char *s, size_t n, struct m365_host *out)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
	                                   0, 0, 0, 0, 0xff, 0xff};
	if (memchr(s, ':', n) == NULL) {
		if (n > 15 || strspn(s, "0123456789.") != n ||
		    inet_pton(AF_INET, s, out->addr) != 1)
			return 0;
		out->kind = M365_HOST_IPV4;
		out->len = format_ipv4(out->addr, out->name);
		return 1;
	}
	if (n >= INET6_ADDRSTRLEN || inet_pton(AF_INET6, s, out->addr) != 1)
		return 0;
	if (memcmp(out->addr, mapped, sizeof(mapped)) == 0) {
		memmove(out->addr, out->addr + 12, 4);
		out->kind = M365_HOST_IPV4;
		out->len = format_ipv4(out->addr, out->name);
		return 1;
	}
	out->kind = M365_HOST_IPV6;
	/* canonical text, e.g. "2603:1006::1" for any spelling */
	out->len = format_ipv6(out->addr, out->name);
	return 1;
}

/*
 * The common case in one pass: a lowercase name or dotted quad with no
 * escapes, brackets or doubled dots, copied straight into out.  Returns 1
 * when it decided, 0 to leave the input to the general path.
 */
/* Character classes of the fast path. */
enum { C_BAD = 0, C_DIGIT, C_NAME, C_DOT };

static const unsigned char char_class[256] = {
    ['0'] = C_DIGIT, ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT,
    ['4'] = C_DIGIT, ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT,
    ['8'] = C_DIGIT, ['9'] = C_DIGIT, ['.'] = C_DOT,   ['-'] = C_NAME,
    ['_'] = C_NAME,  ['a'] = C_NAME,  ['b'] = C_NAME,  ['c'] = C_NAME,
    ['d'] = C_NAME,  ['e'] = C_NAME,  ['f'] = C_NAME,  ['g'] = C_NAME,
    ['h'] = C_NAME,  ['i'] = C_NAME,  ['j'] = C_NAME,  ['k'] = C_NAME,
    ['l'] = C_NAME,  ['m'] = C_NAME,  ['n'] = C_NAME,  ['o'] = C_NAME,
    ['p'] = C_NAME,  ['q'] = C_NAME,  ['r'] = C_NAME,  ['s'] = C_NAME,
    ['t'] = C_NAME,  ['u'] = C_NAME,  ['v'] = C_NAME,  ['w'] = C_NAME,
    ['x'] = C_NAME,  ['y'] = C_NAME,  ['z'] = C_NAME};

/*
 * The common case in one pass: a lowercase name or dotted quad with no
 * escapes, brackets or doubled dots, copied straight into out.  Returns 1
 * when it decided, 0 to leave the input to the general path.
 */
static int
fast_path(const char *in, size_t len, struct m365_host *out)
{
	size_t i, label = 0, n = len;
	unsigned names = 0;

	if (len > M365_HOST_MAX + 1)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned c = char_class[(unsigned char)in[i]];
		if (c == C_BAD)
			return 0;
		if (c == C_DOT) {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > 63) {
			return 0;
		}
		names |= c == C_NAME;
	}
	if (label == 0)
		n--; /* one trailing dot */
	if (n == 0 || n > M365_HOST_MAX)
		return 0;
	memcpy(out->name, in, n);
	out->name[n] = '\0';
	out->len = n;
	out->kind = M365_HOST_NAME;
	if (!names && n <= 15 && inet_pton(AF_INET, out->name, out->addr) == 1)
		out->kind = M365_HOST_IPV4;
	return 1;
}

enum m365_host_kind
m365_host_normalize(const char *in, size_t len, struct m365_host *out)
{
	char buf[RAW_MAX + 1];
	char *s = buf;
	long n;
	int bracketed = 0;

	out->name[0] = '\0';
	out->len = 0;
	out->kind = M365_HOST_INVALID;
	if (in == NULL || len == 0 || (len == 1 && in[0] == '-'))
		return out->kind = M365_HOST_NONE;
	if (fast_path(in, len, out))
		return out->kind;
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
	if (ip_literal(s, (size_t)n, out)) {
		if (bracketed && out->kind == M365_HOST_IPV4 &&
		    memchr(s, ':', (size_t)n) == NULL)
			goto invalid; /* "[1.2.3.4]" is no IPv6 literal */
		return out->kind;
	}
	if (bracketed || !valid_hostname(s, (size_t)n))
		goto invalid;
	memcpy(out->name, s, (size_t)n + 1);
	out->len = (size_t)n;
	return out->kind = M365_HOST_NAME;
invalid:
	out->name[0] = '\0';
	out->len = 0;
	return out->kind = M365_HOST_INVALID;
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
