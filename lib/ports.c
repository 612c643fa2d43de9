/* ports.c - port sets as Microsoft writes them (see m365_ports.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m365_ports.h"

#define PORTS_MAX_RANGES 4096

/* Reads a decimal port at *p (1..65535); advances *p.  -1 on error. */
static long
read_port(const char **p)
{
	const char *s = *p;
	long v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return -1;
		s++;
	}
	*p = s;
	return v >= 1 ? v : -1;
}

static void
skip_spaces(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static int
cmp_range(const void *a, const void *b)
{
	const struct m365_port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sorts and merges overlapping or adjacent ranges in place. */
static void
normalise(struct m365_ports *out)
{
	uint32_t i, n = 0;

	if (out->n == 0)
		return;
	qsort(out->r, out->n, sizeof(*out->r), cmp_range);
	for (i = 1; i < out->n; i++) {
		struct m365_port_range *last = &out->r[n];
		if ((uint32_t)out->r[i].lo <= (uint32_t)last->hi + 1) {
			if (out->r[i].hi > last->hi)
				last->hi = out->r[i].hi;
		} else {
			out->r[++n] = out->r[i];
		}
	}
	out->n = n + 1;
}

int
m365_ports_parse(const char *text, struct m365_ports *out, struct m365_err *err)
{
	const char *p = text;
	uint32_t cap = 0;

	out->n = 0;
	out->r = NULL;
	if (*p == '\0')
		return 0; /* "" is the empty set; "  " is an error below */
	for (;;) {
		long lo, hi;
		const char *at = p;

		skip_spaces(&p);
		if ((lo = read_port(&p)) < 0)
			goto bad_port;
		hi = lo;
		skip_spaces(&p);
		if (*p == '-') {
			p++;
			skip_spaces(&p);
			at = p;
			if ((hi = read_port(&p)) < 0)
				goto bad_port;
			if (hi < lo) {
				m365_err_set(err, M365_E_INPUT,
				             "reversed port range %ld-%ld", lo,
				             hi);
				goto fail;
			}
			skip_spaces(&p);
		}
		if (out->n == cap) {
			struct m365_port_range *r;
			if (cap >= PORTS_MAX_RANGES) {
				m365_err_set(err, M365_E_INPUT,
				             "more than %d port ranges",
				             PORTS_MAX_RANGES);
				goto fail;
			}
			cap = cap ? cap * 2 : 4;
			if ((r = realloc(out->r, cap * sizeof(*r))) == NULL) {
				m365_err_set(err, M365_E_NOMEM,
				             "out of memory");
				goto fail;
			}
			out->r = r;
		}
		out->r[out->n].lo = (uint16_t)lo;
		out->r[out->n].hi = (uint16_t)hi;
		out->n++;
		if (*p == '\0')
			break;
		if (*p != ',') {
			m365_err_set(err, M365_E_INPUT,
			             "unexpected character '%c' at offset %zu",
			             isprint((unsigned char)*p) ? *p : '?',
			             (size_t)(p - text));
			goto fail;
		}
		p++;
		continue;
	bad_port:
		m365_err_set(
		    err, M365_E_INPUT,
		    "expected a port 1-65535 at offset %zu in \"%.32s\"",
		    (size_t)(at - text), text);
		goto fail;
	}
	normalise(out);
	return 0;
fail:
	m365_ports_free(out);
	return -1;
}

bool
m365_ports_contains(const struct m365_ports *p, unsigned port)
{
	uint32_t i;

	for (i = 0; i < p->n; i++) {
		if (port < p->r[i].lo)
			return false;
		if (port <= p->r[i].hi)
			return true;
	}
	return false;
}

char *
m365_ports_format(const struct m365_ports *p, char *buf, size_t len)
{
	size_t off = 0;
	uint32_t i;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < p->n; i++) {
		char one[16];
		int n;
		if (p->r[i].lo == p->r[i].hi)
			n = snprintf(one, sizeof(one), "%s%u", i ? "," : "",
			             p->r[i].lo);
		else
			n = snprintf(one, sizeof(one), "%s%u-%u", i ? "," : "",
			             p->r[i].lo, p->r[i].hi);
		if (off + (size_t)n + 4 > len) {
			if (off + 4 <= len)
				memcpy(buf + off, "...", 4);
			return buf;
		}
		memcpy(buf + off, one, (size_t)n + 1);
		off += (size_t)n;
	}
	return buf;
}

void
m365_ports_free(struct m365_ports *p)
{
	if (p == NULL)
		return;
	free(p->r);
	p->r = NULL;
	p->n = 0;
}
