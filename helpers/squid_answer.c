/* squid_answer.c - a verdict as Squid reads it (see squid_answer.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "m365_text.h"
#include "squid_answer.h"

/* True when v needs no quotes in Squid's reply parser. */
static int
plain_value(const char *v)
{
	return m365_token(v, strlen(v), SIZE_MAX, "._-");
}

/* The escape letter of a byte that needs a backslash, or 0. */
static char
escape_of(unsigned char c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '\r': return 'r';
	case '\n': return 'n';
	case '\t': return 't';
	default: return 0;
	}
}

int
squid_quote(const char *value, char *buf, size_t len)
{
	size_t o = 0;
	const unsigned char *v;

	if (plain_value(value)) {
		size_t n = strlen(value);
		if (n + 1 > len)
			return -1;
		memcpy(buf, value, n + 1);
		return (int)n;
	}
	if (len < 3)
		return -1;
	buf[o++] = '"';
	for (v = (const unsigned char *)value; *v; v++) {
		char e = escape_of(*v);
		if (o + (e ? 2 : 1) + 2 > len)
			return -1;
		if (e) {
			buf[o++] = '\\';
			buf[o++] = e;
		} else {
			buf[o++] = *v < 0x20 || *v == 0x7f ? '?' : (char)*v;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return (int)o;
}

int
squid_answer_format(const struct m365_verdict *v, const char *message,
                    char *buf, size_t len)
{
	struct m365_note notes[M365_NOTES_MAX];
	size_t n = m365_verdict_notes(v, message, notes), i, off;
	int w;

	w = snprintf(buf, len, "%s", v->result == M365_OK ? "OK" : "ERR");
	if (w < 0 || (size_t)w >= len)
		return -1;
	off = (size_t)w;
	for (i = 0; i < n; i++) {
		w = snprintf(buf + off, len - off, " %s=", notes[i].key);
		if (w < 0 || (size_t)w >= len - off)
			return -1;
		off += (size_t)w;
		if ((w = squid_quote(notes[i].value, buf + off, len - off)) < 0)
			return -1;
		off += (size_t)w;
	}
	return (int)off;
}

int
squid_answer_text(const struct m365_verdict *v, char *buf, size_t len)
{
	return squid_answer_format(v, NULL, buf, len);
}
