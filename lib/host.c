/* host.c - the host normaliser of contract.md (see m365_host.h). */
#include <arpa/inet.h>
#include <string.h>

#include "m365_host.h"

/* Longest raw input worth decoding: an encoded 253-char name plus slack. */
#define RAW_MAX (3 * (M365_HOST_MAX + 3))

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes in[0..len) into out (capacity cap).  Returns the decoded
 * length, or -1 when it does not fit.  A '%' not followed by two hex digits
 * is kept literally (and later makes the host invalid).
 */
static long
percent_decode(const char *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)in[i];
		if (c == '%' && i + 2 < len && hexval(in[i + 1]) >= 0 &&
		    hexval(in[i + 2]) >= 0) {
			c = hexval(in[i + 1]) * 16 + hexval(in[i + 2]);
			i += 2;
		}
		if (o >= cap)
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

/* Tries inet_pton on s (NUL-terminated); fills out on success. */
static int
ip_literal(const char *s, struct m365_host *out)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0,
					   0, 0, 0, 0, 0xff, 0xff};
	char buf[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->kind = M365_HOST_IPV4;
		return 1;
	}
	if (inet_pton(AF_INET6, s, out->addr) != 1)
		return 0;
	if (memcmp(out->addr, mapped, sizeof(mapped)) == 0) {
		memmove(out->addr, out->addr + 12, 4);
		out->kind = M365_HOST_IPV4;
		inet_ntop(AF_INET, out->addr, buf, sizeof(buf));
	} else {
		out->kind = M365_HOST_IPV6;
		inet_ntop(AF_INET6, out->addr, buf, sizeof(buf));
	}
	/* canonical text, e.g. "2603:1006::1" for any spelling */
	out->len = strlen(buf);
	memcpy(out->name, buf, out->len + 1);
	return 1;
}

enum m365_host_kind
m365_host_normalize(const char *in, size_t len, struct m365_host *out)
{
	char buf[RAW_MAX + 1];
	char *s = buf;
	long n;
	size_t i;
	int bracketed = 0;

	memset(out->addr, 0, sizeof(out->addr));
	out->name[0] = '\0';
	out->len = 0;
	out->kind = M365_HOST_INVALID;
	if (in == NULL || len == 0 || (len == 1 && in[0] == '-'))
		return out->kind = M365_HOST_NONE;
	if (len > RAW_MAX || (n = percent_decode(in, len, buf, RAW_MAX)) < 0)
		return out->kind;
	if (n == 0 || (n == 1 && buf[0] == '-'))
		return out->kind = M365_HOST_NONE;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		bracketed = 1;
	}
	for (i = 0; i < (size_t)n; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
		else if (s[i] == '\0')
			return out->kind; /* NUL inside: invalid */
	}
	if (n > 0 && s[n - 1] == '.')
		n--;
	s[n] = '\0';
	if ((size_t)n <= M365_HOST_MAX) {
		memcpy(out->name, s, (size_t)n + 1);
		out->len = (size_t)n;
	}
	if (n <= INET6_ADDRSTRLEN + 16 && ip_literal(s, out)) {
		if (bracketed && out->kind != M365_HOST_IPV6 &&
		    strchr(s, ':') == NULL)
			goto invalid; /* "[1.2.3.4]" is no IPv6 literal */
		return out->kind;
	}
	if (bracketed || !valid_hostname(s, (size_t)n)) {
invalid:
		out->name[0] = '\0';
		out->len = 0;
		return out->kind = M365_HOST_INVALID;
	}
	return out->kind = M365_HOST_NAME;
}

const char *
m365_host_kind_name(enum m365_host_kind kind)
{
	switch (kind) {
	case M365_HOST_NONE:
		return "none";
	case M365_HOST_NAME:
		return "hostname";
	case M365_HOST_IPV4:
		return "IPv4";
	case M365_HOST_IPV6:
		return "IPv6";
	case M365_HOST_INVALID:
		break;
	}
	return "invalid";
}
