/* host.c - the host normaliser of contract.md (see m365_host.h). */
#include <arpa/inet.h>
#include <string.h>

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

/*
 * A dotted quad in the labels of a digits-and-dots name: four labels of
 * one to three digits, no leading zero, each at most 255 (what inet_pton
 * accepts).  Fills addr; returns 1, or 0 when it is no address.
 */
static int
dotted_quad(const char *s, size_t len, const struct host_labels *lb,
            uint8_t *addr)
{
	unsigned i;

	if (lb->n != 4)
		return 0;
	for (i = 0; i < 4; i++) {
		size_t a = lb->start[i];
		size_t b = i < 3 ? (size_t)lb->start[i + 1] - 1 : len;
		unsigned v = 0;
		if (b - a > 3 || (b - a > 1 && s[a] == '0'))
			return 0;
		for (; a < b; a++)
			v = v * 10 + (unsigned)(s[a] - '0');
		if (v > 255)
			return 0;
		addr[i] = (uint8_t)v;
	}
	return 1;
}

/* Zeroes the spare word after a name of len bytes (host_impl.h). */
static void
pad_name(struct m365_host *out, size_t len)
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
static int
fast_path(const char *in, size_t len, struct m365_host *out,
          struct host_labels *lb)
{
	const unsigned char *s = (const unsigned char *)in;
	char *o = out->name;
	unsigned any = 0, all = C_OK, n = 0, j;
	size_t i;

	if (len > M365_HOST_MAX + 1)
		return 0;
	/* no branch but the loop's: a dot only moves the label count on */
	lb->start[0] = 0;
	for (i = 0; i < len; i++) {
		unsigned c = s[i], k = char_class[c];
		o[i] = (char)(c | (k & C_UPPER));
		any |= k;
		all &= k;
		lb->start[n + 1] = (uint8_t)(i + 1);
		n += k & C_DOT;
	}
	if (!(all & C_OK))
		return 0;
	if (lb->start[n] == len) { /* one trailing dot */
		if (n == 0)
			return 0;
		len--;
		n--;
	}
	if (len > M365_HOST_MAX)
		return 0;
	for (j = 0; j <= n; j++) { /* labels of 1 to 63 bytes */
		size_t end = j < n ? (size_t)lb->start[j + 1] - 1 : len;
		if (end <= lb->start[j] || end - lb->start[j] > 63)
			return 0;
	}
	pad_name(out, len);
	lb->n = n + 1;
	out->len = len;
	out->kind = M365_HOST_NAME;
	if (!(any & C_NAME) && dotted_quad(o, len, lb, out->addr)) {
		out->kind = M365_HOST_IPV4;
		lb->n = 0;
	}
	return 1;
}

enum m365_host_kind
host_scan(const char *in, size_t len, struct m365_host *out,
          struct host_labels *lb)
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
	if (ip_literal(s, (size_t)n, out)) {
		if (bracketed && out->kind == M365_HOST_IPV4 &&
		    memchr(s, ':', (size_t)n) == NULL)
			goto invalid; /* "[1.2.3.4]" is no IPv6 literal */
		pad_name(out, out->len);
		return out->kind;
	}
	if (bracketed || !host_valid_name(s, (size_t)n))
		goto invalid;
	memcpy(out->name, s, (size_t)n);
	pad_name(out, (size_t)n);
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

	return host_scan(in, len, out, &lb);
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
