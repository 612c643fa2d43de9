/*
 * host_ip.c - IP literals for the normaliser (host_impl.h): parsed as
 * inet_pton parses them, and written in their canonical text.
 */
#include <string.h>

#include "host_impl.h"

/* Each byte's value as a hex digit, or 16. */
static const uint8_t hex_digit[256] = {[0 ... '0' - 1] = 16,
                                       ['0'] = 0,
                                       ['1'] = 1,
                                       ['2'] = 2,
                                       ['3'] = 3,
                                       ['4'] = 4,
                                       ['5'] = 5,
                                       ['6'] = 6,
                                       ['7'] = 7,
                                       ['8'] = 8,
                                       ['9'] = 9,
                                       [':' ... '@'] = 16,
                                       ['A'] = 10,
                                       ['B'] = 11,
                                       ['C'] = 12,
                                       ['D'] = 13,
                                       ['E'] = 14,
                                       ['F'] = 15,
                                       ['G' ... '`'] = 16,
                                       ['a'] = 10,
                                       ['b'] = 11,
                                       ['c'] = 12,
                                       ['d'] = 13,
                                       ['e'] = 14,
                                       ['f'] = 15,
                                       ['g' ... 255] = 16};

/* Where no "::" was seen. */
#define NO_GAP ((size_t)-1)

/* Longest IPv6 text inet_pton takes, with an IPv4 tail: 45 bytes. */
#define V6_TEXT_MAX 45

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
		int v;
		if (i == best) {
			out[n++] = ':';
			out[n++] = ':';
			i += best_len;
			continue;
		}
		if (n > 0 && out[n - 1] != ':')
			out[n++] = ':';
		v = g[i++];
		if (v >= 0x1000)
			out[n++] = hex[v >> 12];
		if (v >= 0x100)
			out[n++] = hex[v >> 8 & 15];
		if (v >= 0x10)
			out[n++] = hex[v >> 4 & 15];
		out[n++] = hex[v & 15];
	}
	out[n] = '\0';
	return n;
}

int
host_dotted_quad(const char *s, size_t len, uint8_t *addr)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || i - start > 3 || v > 255 ||
		    (i - start > 1 && s[start] == '0'))
			return 0;
		addr[part] = (uint8_t)v;
		if (part < 3 && (i >= len || s[i++] != '.'))
			return 0;
	}
	return i == len;
}

/*
 * Parses s[0..n) as inet_pton(AF_INET6) does: groups of one to four hex
 * digits (either case), one "::" at most (standing for at least one zero
 * group), an optional dotted quad in the last 32 bits.  Fills a; 1 or 0.
 */
static int
parse_ipv6(const char *s, size_t n, uint8_t *a)
{
	uint16_t w[8];
	size_t i = 0, tok = 0, count = 0, digits = 0, gap = NO_GAP, k;
	unsigned val = 0;

	if (n > 0 && s[0] == ':') { /* a leading ':' must be "::" */
		if (n < 2 || s[1] != ':')
			return 0;
		i = tok = 1;
	}
	while (i < n) {
		char c = s[i++];
		unsigned d = hex_digit[(unsigned char)c];
		if (d < 16) {
			if (digits++ == 4)
				return 0;
			val = val << 4 | d;
			continue;
		}
		if (c == ':') {
			tok = i;
			if (digits == 0) {
				if (gap != NO_GAP)
					return 0;
				gap = count;
				continue;
			}
			if (i == n || count == 8)
				return 0;
			w[count++] = (uint16_t)val;
			val = 0;
			digits = 0;
			continue;
		}
		if (c == '.' && count <= 6 &&
		    host_dotted_quad(s + tok, n - tok, a)) {
			w[count++] = (uint16_t)(a[0] << 8 | a[1]);
			w[count++] = (uint16_t)(a[2] << 8 | a[3]);
			digits = 0;
			break;
		}
		return 0;
	}
	if (digits > 0) {
		if (count == 8)
			return 0;
		w[count++] = (uint16_t)val;
	}
	if (gap != NO_GAP) { /* "::" stands for the zero groups missing */
		if (count == 8)
			return 0;
		memmove(w + 8 - (count - gap), w + gap,
		        (count - gap) * sizeof(w[0]));
		for (k = gap; k < 8 - (count - gap); k++)
			w[k] = 0;
		count = 8;
	}
	if (count != 8)
		return 0;
	for (k = 0; k < 8; k++) {
		a[2 * k] = (uint8_t)(w[k] >> 8);
		a[2 * k + 1] = (uint8_t)w[k];
	}
	return 1;
}

int
host_ip_literal(const char *s, size_t n, struct m365_host *out, unsigned flags)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
	                                   0, 0, 0, 0, 0xff, 0xff};

	if (memchr(s, ':', n) == NULL) {
		if (!host_dotted_quad(s, n, out->addr))
			return 0;
		out->kind = M365_HOST_IPV4;
	} else if (n > V6_TEXT_MAX || !parse_ipv6(s, n, out->addr)) {
		return 0;
	} else if (memcmp(out->addr, mapped, sizeof(mapped)) == 0) {
		memmove(out->addr, out->addr + 12, 4);
		out->kind = M365_HOST_IPV4;
	} else {
		out->kind = M365_HOST_IPV6;
	}
	out->len = 0;
	if (!(flags & HOST_IP_TEXT))
		out->name[0] = '\0';
	else if (out->kind == M365_HOST_IPV4)
		out->len = format_ipv4(out->addr, out->name);
	else /* canonical text, e.g. "2603:1006::1" for any spelling */
		out->len = format_ipv6(out->addr, out->name);
	host_pad(out, out->len);
	return 1;
}

int
host_ip_direct(const char *in, size_t len, struct m365_host *out,
               unsigned flags)
{
	size_t n = len;

	if (len > V6_TEXT_MAX + 3 || memchr(in, ':', len) == NULL ||
	    memchr(in, '%', len) != NULL)
		return 0;
	/* with a ':' it is an IP literal, brackets or not, or nothing */
	if (n >= 2 && in[0] == '[' && in[n - 1] == ']') {
		in++;
		n -= 2;
	}
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (host_ip_literal(in, n, out, flags))
		return 1;
	out->name[0] = '\0';
	out->len = 0;
	out->kind = M365_HOST_INVALID;
	return 1;
}
