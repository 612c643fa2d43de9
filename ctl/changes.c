/* changes.c - the change report of two lists (see changes.h). */
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "m365_text.h"

/* A set's names (ips == 0) or ranges (ips == 1), sorted; *n of them.
 * NULL for none (or no memory: then *n is 0 too). */
static const char **
items(const struct m365_set *s, int ips, size_t *n)
{
	size_t i, k = ips ? s->n_ips : s->n_urls;
	const char **v;

	*n = 0;
	if (k == 0 || (v = calloc(k, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < k; i++)
		v[i] = ips ? s->ips[i].text : s->urls[i];
	qsort(v, k, sizeof(*v), m365_strptr_cmp);
	*n = k;
	return v;
}

/* {"added": [b less a], "removed": [a less b]}, adding to the totals. */
static json_t *
diff_strings(const char **a, size_t na, const char **b, size_t nb,
             json_int_t tot[2])
{
	json_t *add = json_array(), *del = json_array();
	size_t i = 0, j = 0;

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);
		if (c == 0) {
			i++, j++;
			continue;
		}
		if (c < 0)
			json_array_append_new(del, json_string(a[i++]));
		else
			json_array_append_new(add, json_string(b[j++]));
	}
	tot[0] += (json_int_t)json_array_size(add);
	tot[1] += (json_int_t)json_array_size(del);
	return json_pack("{s:o,s:o}", "added", add, "removed", del);
}

/* The ports of one protocol as a 65536-bit map. */
static void
port_map(const struct m365_set *s, int udp, unsigned char *map)
{
	const struct m365_ports *p = s ? (udp ? &s->udp : &s->tcp) : NULL;
	uint32_t i;
	unsigned v;

	memset(map, 0, 8192);
	for (i = 0; p && i < p->n; i++)
		for (v = p->r[i].lo; v <= p->r[i].hi; v++)
			map[v >> 3] |= (unsigned char)(1u << (v & 7));
}

#define BIT(m, v) (((m)[(v) >> 3] >> ((v)&7)) & 1)

/* The ranges of ports in a and not in b, as "lo" or "lo-hi" strings. */
static json_t *
port_ranges(const unsigned char *a, const unsigned char *b)
{
	json_t *out = json_array();
	unsigned v = 1, lo;
	char buf[16];

	while (v < 65536) {
		if (!(BIT(a, v) && !BIT(b, v))) {
			v++;
			continue;
		}
		for (lo = v; v < 65536 && BIT(a, v) && !BIT(b, v); v++)
			;
		if (lo == v - 1)
			snprintf(buf, sizeof(buf), "%u", lo);
		else
			snprintf(buf, sizeof(buf), "%u-%u", lo, v - 1);
		json_array_append_new(out, json_string(buf));
	}
	return out;
}

static json_t *
diff_ports(const struct m365_set *o, const struct m365_set *n, int udp)
{
	static unsigned char a[8192], b[8192];

	port_map(o, udp, a);
	port_map(n, udp, b);
	return json_pack("{s:o,s:o}", "added", port_ranges(b, a), "removed",
	                 port_ranges(a, b));
}

static int
empty_side(const json_t *d, const char *side)
{
	return json_array_size(json_object_get(d, side)) == 0;
}

static int
unchanged(const json_t *d)
{
	return empty_side(d, "added") && empty_side(d, "removed");
}

/* The entry of one set (o or n NULL when it was added or removed), or
 * NULL when nothing changed; adds to the totals (urls, ips). */
static json_t *
set_entry(const struct m365_set *o, const struct m365_set *n,
          json_int_t tot[2][2])
{
	const struct m365_set *s = n ? n : o;
	const char **a, **b;
	size_t na, nb;
	json_t *e, *d[4];
	int k, same = 1;

	for (k = 0; k < 2; k++) {
		a = o ? items(o, k, &na) : (na = 0, NULL);
		b = n ? items(n, k, &nb) : (nb = 0, NULL);
		d[k] = diff_strings(a, na, b, nb, tot[k]);
		free(a);
		free(b);
	}
	d[2] = diff_ports(o, n, 0);
	d[3] = diff_ports(o, n, 1);
	for (k = 0; k < 4; k++)
		same = same && unchanged(d[k]);
	if (o && n && o->category == n->category && same) {
		for (k = 0; k < 4; k++)
			json_decref(d[k]);
		return NULL;
	}
	e = json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "id",
	              (json_int_t)s->id, "serviceArea", s->service_area,
	              "category", s->category_name, "change",
	              !o   ? "added"
	              : !n ? "removed"
	                   : "changed",
	              "urls", d[0], "ips", d[1], "tcpPorts", d[2], "udpPorts",
	              d[3]);
	if (e && o && n && o->category != n->category)
		json_object_set_new(e, "categoryWas",
		                    json_string(o->category_name));
	return e;
}

static const struct m365_set *
find(const struct m365_endpoints *ep, int64_t id)
{
	size_t i;

	for (i = 0; ep && i < ep->n_sets; i++)
		if (ep->sets[i].id == id)
			return &ep->sets[i];
	return NULL;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = json_integer_value(json_object_get(*(json_t **)a, "id"));
	int64_t y = json_integer_value(json_object_get(*(json_t **)b, "id"));

	return x < y ? -1 : x > y;
}

/* The "sets" array, sorted by id. */
static json_t *
sorted(json_t **v, size_t n)
{
	json_t *out = json_array();
	size_t i;

	qsort(v, n, sizeof(*v), cmp_id);
	for (i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	return out;
}

static json_t *
pair(json_int_t add, json_int_t del)
{
	return json_pack("{s:I,s:I}", "added", add, "removed", del);
}

json_t *
changes_report(const struct m365_endpoints *old, const char *previous,
               const struct m365_endpoints *neu)
{
	size_t cap = neu->n_sets + (old ? old->n_sets : 0), n = 0, i;
	json_int_t tot[2][2] = {{0, 0}, {0, 0}}, sets[3] = {0, 0, 0};
	json_t **v = calloc(cap + 1, sizeof(*v)), *e, *r;

	if (v == NULL)
		return NULL;
	for (i = 0; i < neu->n_sets; i++) {
		const struct m365_set *o = find(old, neu->sets[i].id);
		if ((e = set_entry(o, &neu->sets[i], tot)) != NULL) {
			v[n++] = e;
			sets[o ? 2 : 0]++;
		}
	}
	for (i = 0; old && i < old->n_sets; i++)
		if (find(neu, old->sets[i].id) == NULL &&
		    (e = set_entry(&old->sets[i], NULL, tot)) != NULL) {
			v[n++] = e;
			sets[1]++;
		}
	r = json_pack("{s:o,s:{s:{s:I,s:I,s:I},s:o,s:o},s:o}", "previous",
	              old && previous && previous[0] ? json_string(previous)
	                                             : json_null(),
	              "totals", "sets", "added", sets[0], "removed", sets[1],
	              "changed", sets[2], "urls", pair(tot[0][0], tot[0][1]),
	              "ips", pair(tot[1][0], tot[1][1]), "sets", sorted(v, n));
	free(v);
	return r;
}

void
changes_describe(json_t *report, const struct m365_snapshot *s)
{
	json_object_set_new(report, "version", json_string(s->version));
	json_object_set_new(report, "publishedAt",
	                    json_integer((json_int_t)s->published_at));
	json_object_set_new(report, "params", json_string(s->params));
	json_object_set_new(report, "source", json_string(s->source));
}

void
changes_not_asked(json_t *report, const char *why)
{
	json_object_set_new(report, "microsoft",
	                    json_pack("{s:b,s:s}", "asked", 0, "why", why));
}
