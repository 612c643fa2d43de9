/* pattern.c - glob and CIDR validation (see pattern.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_impl.h"
#include "m365_host.h"
#include "pattern.h"

int
glob_check(const char *pat, char *out, size_t cap, struct m365_err *err)
{
	size_t i, len = strlen(pat), stars = 0;
	char prev = '.';

	if (len == 0)
		return m365_err_set(err, M365_E_INPUT, "empty pattern");
	if (len > M365_HOST_MAX || len + 1 > cap)
		return m365_err_set(err, M365_E_INPUT,
		                    "pattern longer than %d characters",
		                    M365_HOST_MAX);
	for (i = 0; i < len; i++) {
		char c = pat[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_' || c == '*'))
			return m365_err_set(
			    err, M365_E_INPUT,
			    "invalid character 0x%02x at offset %zu in "
			    "pattern",
			    (unsigned char)pat[i], i);
		if (c == '.' && prev == '.' && i > 0)
			return m365_err_set(err, M365_E_INPUT,
			                    "empty label in pattern \"%s\"",
			                    pat);
		if (c == '.' && i == 0)
			return m365_err_set(err, M365_E_INPUT,
			                    "pattern starts with a dot");
		stars += c == '*';
		prev = c;
		out[i] = c;
	}
	out[len] = '\0';
	if (prev == '.')
		return m365_err_set(err, M365_E_INPUT,
		                    "pattern ends with a dot");
	if (stars == 0)
		return GLOB_EXACT;
	if (stars == 1 && len > 2 && out[0] == '*' && out[1] == '.')
		return GLOB_SUFFIX;
	return GLOB_IRREGULAR;
}

bool
glob_is_broad(const char *lower)
{
	const char *tail = strrchr(lower, '*');
	const char *dot;

	if (tail == NULL)
		return false;
	tail++;
	if (*tail == '.')
		tail++;
	/* the tail must hold "label.label" with both labels non-empty */
	dot = strchr(tail, '.');
	return dot == NULL || dot == tail || dot[1] == '\0';
}

int
cidr_parse(const char *text, struct m365_cidr *out, struct m365_err *err)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	long plen, max;
	int i;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return m365_err_set(err, M365_E_INPUT,
		                    "invalid address in \"%.64s\"", text);
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return m365_err_set(err, M365_E_INPUT, "invalid address \"%s\"",
		                    addr);
	}
	plen = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		/* decimal without leading zeros: "/008" and "/0024" are both
		 * refused (inet_net_pton and humans disagree on them) */
		if (*p < '0' || *p > '9' || strlen(p) > 3 ||
		    (*p == '0' && p[1] != '\0'))
			return m365_err_set(
			    err, M365_E_INPUT,
			    "invalid prefix length in \"%.64s\"", text);
		plen = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return m365_err_set(
				    err, M365_E_INPUT,
				    "invalid prefix length in \"%.64s\"", text);
			plen = plen * 10 + (*p - '0');
		}
		if (plen > max)
			return m365_err_set(
			    err, M365_E_INPUT,
			    "prefix length %ld exceeds %ld in \"%.64s\"", plen,
			    max, text);
	}
	out->plen = (uint8_t)plen;
	for (i = 0; i < 16; i++) {
		long bit = (long)i * 8;
		if (bit >= plen)
			out->addr[i] = 0;
		else if (bit + 8 > plen)
			out->addr[i] &= (uint8_t)(0xff << (8 - (plen - bit)));
	}
	return 0;
}

const char *
glob_domain(const char *glob)
{
	const char *tail = strrchr(glob, '*') + 1, *dot;

	if (*tail == '.')
		dot = tail;
	else if ((dot = strchr(tail, '.')) == NULL)
		return NULL;
	dot++;
	/* a domain no host has: nothing to look up */
	return host_valid_name(dot, strlen(dot)) ? dot : NULL;
}

enum m365_cidr_v4
m365_cidr_v4_part(const struct m365_cidr *c, struct m365_cidr *v4)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
	                                   0, 0, 0, 0, 0xff, 0xff};
	unsigned k;

	if (c->family != AF_INET6)
		return M365_CIDR_V4_NONE;
	for (k = 0; k < c->plen && k < 96; k++) /* the /96's bits it fixes */
		if ((c->addr[k / 8] ^ mapped[k / 8]) & (0x80 >> (k % 8)))
			return M365_CIDR_V4_NONE;
	memset(v4, 0, sizeof(*v4));
	v4->family = AF_INET;
	v4->text = c->text;
	if (c->plen < 96)
		return M365_CIDR_V4_TOO; /* 0.0.0.0/0 */
	memcpy(v4->addr, c->addr + 12, 4);
	v4->plen = (uint8_t)(c->plen - 96);
	return M365_CIDR_V4_ONLY;
}
