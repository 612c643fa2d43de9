/* changes_text.c - the change report as text (see changes.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "changes.h"

/* The most sets the brief form lists. */
#define BRIEF_MAX 20

/* A string element, or "?" for anything else. */
static const char *
sv(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "?";
}

static const char *
str(const json_t *o, const char *k, const char *none)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && s[0] ? s : none;
}

static json_int_t
num(const json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

static size_t
count(const json_t *e, const char *kind, const char *side)
{
	return json_array_size(json_object_get(json_object_get(e, kind), side));
}

static void
head(FILE *f, const json_t *r)
{
	const json_t *t = json_object_get(r, "totals");
	time_t at =
	    (time_t)json_integer_value(json_object_get(r, "publishedAt"));
	char when[64] = "unknown";
	struct tm tm;

	if (at > 0 && gmtime_r(&at, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "version %s, was %s, published %s\n", str(r, "version", "?"),
	        str(r, "previous", "none"), when);
	fprintf(f, "parameters: %s\n", str(r, "params", "unknown"));
	fprintf(f, "source: %s\n", str(r, "source", "unknown"));
	fprintf(f,
	        "sets +%lld -%lld changed %lld, names +%lld -%lld, "
	        "ranges +%lld -%lld\n",
	        (long long)num(t, "sets", "added"),
	        (long long)num(t, "sets", "removed"),
	        (long long)num(t, "sets", "changed"),
	        (long long)num(t, "urls", "added"),
	        (long long)num(t, "urls", "removed"),
	        (long long)num(t, "ips", "added"),
	        (long long)num(t, "ips", "removed"));
}

static void
microsoft(FILE *f, const json_t *r)
{
	const json_t *m = json_object_get(r, "microsoft"), *d;
	size_t i;

	if (!json_is_true(json_object_get(m, "asked"))) {
		fprintf(f, "Microsoft's /changes: not asked (%s)\n",
		        str(m, "why", "no report"));
		return;
	}
	if (json_is_true(json_object_get(m, "agrees"))) {
		fprintf(f, "Microsoft's /changes: agrees\n");
		return;
	}
	d = json_object_get(m, "differences");
	fprintf(f, "Microsoft's /changes: differs in %lld places\n",
	        (long long)json_integer_value(
	            json_object_get(m, "differencesTotal")));
	for (i = 0; i < json_array_size(d); i++)
		fprintf(f, "  %s\n", sv(json_array_get(d, i)));
}

/* "  + name  X" lines of one kind and side. */
static void
items(FILE *f, const json_t *e, const char *kind, const char *side,
      const char *label)
{
	const json_t *a = json_object_get(json_object_get(e, kind), side);
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		fprintf(f, "  %c %-5s %s\n", side[0] == 'a' ? '+' : '-', label,
		        sv(json_array_get(a, i)));
}

static void
set_title(FILE *f, const json_t *e)
{
	fprintf(f, "set %lld (%s, %s) %s",
	        (long long)json_integer_value(json_object_get(e, "id")),
	        str(e, "serviceArea", "?"), str(e, "category", "?"),
	        str(e, "change", "?"));
}

static void
set_whole(FILE *f, const json_t *e)
{
	static const char *const kinds[4] = {"urls", "ips", "tcpPorts",
	                                     "udpPorts"};
	static const char *const labels[4] = {"name", "range", "tcp", "udp"};
	int k, s;

	set_title(f, e);
	fputc('\n', f);
	if (json_object_get(e, "categoryWas"))
		fprintf(f, "  category %s, was %s\n", str(e, "category", "?"),
		        str(e, "categoryWas", "?"));
	for (k = 0; k < 4; k++)
		for (s = 0; s < 2; s++)
			items(f, e, kinds[k], s ? "removed" : "added",
			      labels[k]);
}

static void
set_brief(FILE *f, const json_t *e)
{
	fputs("  ", f);
	set_title(f, e);
	fprintf(f, ": names +%zu -%zu, ranges +%zu -%zu, ports +%zu -%zu%s\n",
	        count(e, "urls", "added"), count(e, "urls", "removed"),
	        count(e, "ips", "added"), count(e, "ips", "removed"),
	        count(e, "tcpPorts", "added") + count(e, "udpPorts", "added"),
	        count(e, "tcpPorts", "removed") +
	            count(e, "udpPorts", "removed"),
	        json_object_get(e, "categoryWas") ? ", category changed" : "");
}

void
changes_clean(json_t *v)
{
	const char *s, *k;
	json_t *e;
	size_t i;

	if (json_is_object(v))
		json_object_foreach(v, k, e) changes_clean(e);
	else if (json_is_array(v))
		json_array_foreach(v, i, e) changes_clean(e);
	else if ((s = json_string_value(v)) != NULL &&
	         s[strcspn(s, "\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b"
	                      "\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
	                      "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f")]) {
		char *c = strdup(s);
		for (i = 0; c && c[i]; i++)
			if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
				c[i] = '?';
		if (c)
			json_string_set(v, c);
		free(c);
	}
}

void
changes_print(FILE *f, const json_t *report, bool brief)
{
	const json_t *sets = json_object_get(report, "sets");
	size_t i, n = json_array_size(sets);

	if (brief) {
		for (i = 0; i < n && i < BRIEF_MAX; i++)
			set_brief(f, json_array_get(sets, i));
		if (n > BRIEF_MAX)
			fprintf(f, "  ... %zu more sets\n", n - BRIEF_MAX);
		if (n > 0)
			fprintf(f, "  (m365ctl changes %s: the whole report)\n",
			        str(report, "version", "VERSION"));
		return;
	}
	head(f, report);
	microsoft(f, report);
	for (i = 0; i < n; i++) {
		fputc('\n', f);
		set_whole(f, json_array_get(sets, i));
	}
}
