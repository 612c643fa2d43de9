/*
 * redfa_write.c - a pattern redfa covers, written again as a JavaScript
 * regular expression (for PAC files) or a POSIX extended one (for
 * Squid's dstdom_regex) of the same meaning on a host's text (see
 * redfa.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redfa_impl.h"

struct out {
	char *buf;
	size_t len, at;
	int full;
	int ere; /* POSIX ERE, else JavaScript */
};

/* The bytes a host's text is made of, for POSIX (which has no \xHH):
 * printable ASCII without the space. */
#define ERE_LO 0x21
#define ERE_HI 0x7e

static void
put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->at + n >= o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->at, s, n + 1);
	o->at += n;
}

/* One byte, escaped unless a letter or digit. */
static void
put_byte(struct out *o, unsigned c)
{
	char b[8];

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		snprintf(b, sizeof(b), "%c", (char)c);
	else if (!o->ere)
		snprintf(b, sizeof(b), "\\x%02x", c);
	else if (c < ERE_LO || c > ERE_HI)
		snprintf(b, sizeof(b), "[ ]"); /* no host has it */
	else
		snprintf(b, sizeof(b), "\\%c", (char)c);
	put(o, b);
}

/* A POSIX bracket expression of the set's printable bytes: ']' first,
 * '^' not first, '-' last. */
static void
put_bracket(struct out *o, const struct byteset *s)
{
	char b[128];
	size_t n = 0;
	unsigned c;
	int caret = 0, dash = 0;

	b[n++] = '[';
	if (byteset_has(s, ']'))
		b[n++] = ']';
	for (c = ERE_LO; c <= ERE_HI; c++) {
		if (!byteset_has(s, c) || c == ']')
			continue;
		if (c == '^')
			caret = 1;
		else if (c == '-')
			dash = 1;
		else
			b[n++] = (char)c;
	}
	if (caret && n == 1 && dash) { /* "[-^]" */
		b[n++] = '-';
		dash = 0;
	}
	if (caret)
		b[n++] = '^';
	if (dash)
		b[n++] = '-';
	if (n == 1) /* none a host has */
		b[n++] = ' ';
	b[n++] = ']';
	b[n] = '\0';
	put(o, b);
}

/* A set of bytes: one byte alone, else a class of \xHH ranges. */
static void
put_set(struct out *o, const struct byteset *s)
{
	unsigned c, lo, n = 0, one = 0;
	char b[24];

	for (c = 0; c < 256; c++)
		if (byteset_has(s, c)) {
			n++;
			one = c;
		}
	if (n == 1) {
		put_byte(o, one);
		return;
	}
	if (o->ere) {
		put_bracket(o, s);
		return;
	}
	if (n == 0) { /* matches nothing a host is made of */
		put(o, "[^\\x00-\\xff]");
		return;
	}
	put(o, "[");
	for (c = 0; c < 256; c++) {
		if (!byteset_has(s, c))
			continue;
		for (lo = c; c + 1 < 256 && byteset_has(s, c + 1); c++)
			;
		if (lo == c)
			snprintf(b, sizeof(b), "\\x%02x", lo);
		else
			snprintf(b, sizeof(b), "\\x%02x-\\x%02x", lo, c);
		put(o, b);
	}
	put(o, "]");
}

static void put_node(struct out *o, const struct re_tree *t, int n);

/* The quantifier of n, min to max times. */
static void
put_count(struct out *o, int min, int max)
{
	char b[32];

	if (max == REP_INF && min <= 1)
		put(o, min == 0 ? "*" : "+");
	else if (max == REP_INF)
		snprintf(b, sizeof(b), "{%d,}", min), put(o, b);
	else if (min == 0 && max == 1)
		put(o, "?");
	else if (min == max)
		snprintf(b, sizeof(b), "{%d}", min), put(o, b);
	else
		snprintf(b, sizeof(b), "{%d,%d}", min, max), put(o, b);
}

static void
put_node(struct out *o, const struct re_tree *t, int n)
{
	const struct re_node *nd = &t->node[n];
	int k;

	switch (nd->kind) {
	case RE_SET: put_set(o, &t->set[nd->set]); break;
	case RE_CAT:
		for (k = nd->kid; k >= 0; k = t->node[k].next)
			put_node(o, t, k);
		break;
	case RE_ALT:
		put(o, o->ere ? "(" : "(?:");
		for (k = nd->kid; k >= 0; k = t->node[k].next) {
			if (k != nd->kid)
				put(o, "|");
			put_node(o, t, k);
		}
		put(o, ")");
		break;
	case RE_REP:
		put(o, o->ere ? "(" : "(?:");
		put_node(o, t, nd->kid);
		put(o, ")");
		put_count(o, nd->min, nd->max);
		break;
	default: break;
	}
}

/* The tree of src, written; 0 or -1. */
static int
write_re(const char *src, size_t len, char *buf, size_t buflen, int ere,
         int bracketed)
{
	struct re_tree *t = malloc(sizeof(*t));
	struct out o = {buf, buflen, 0, 0, ere};
	int b, rc = -1;

	if (buflen > 0)
		buf[0] = '\0';
	if (t != NULL && re_parse(src, len, t) == 0) {
		for (b = 0; b < t->n_branch; b++) {
			const struct re_branch *br = &t->branch[b];
			put(&o, b > 0 ? "|" : "");
			/* bracketed: the text is between "[" and "]" */
			if (bracketed)
				put(&o, br->at_start ? "^\\[" : "^\\[[^]]*");
			else
				put(&o, br->at_start ? "^" : "");
			put(&o, ere ? "(" : "(?:");
			put_node(&o, t, br->node);
			put(&o, ")");
			if (bracketed)
				put(&o, br->at_end ? "\\]$" : "[^]]*\\]$");
			else
				put(&o, br->at_end ? "$" : "");
		}
		rc = o.full ? -1 : 0;
	}
	free(t);
	return rc;
}

int
redfa_to_js(const char *src, size_t len, char *buf, size_t buflen)
{
	return write_re(src, len, buf, buflen, 0, 0);
}

int
redfa_to_ere(const char *src, size_t len, char *buf, size_t buflen)
{
	return write_re(src, len, buf, buflen, 1, 0);
}

int
redfa_to_ere_bracketed(const char *src, size_t len, char *buf, size_t buflen)
{
	return write_re(src, len, buf, buflen, 1, 1);
}
