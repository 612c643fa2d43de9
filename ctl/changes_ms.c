/*
 * changes_ms.c - the change report cross-checked with Microsoft's
 * /changes/<Instance>/<version> answer (see changes.h).
 *
 * Microsoft's entries are folded, per set, into the names and ranges it
 * says were added and removed after the previous version (one added then
 * removed again counts as neither), and compared with the report, which
 * was computed from the two lists.  Whole sets added or removed are
 * compared as such.  Ports and categories are not in Microsoft's
 * add/remove members and are not compared.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"

/* The most differences listed; the rest are counted. */
#define DIFF_MAX 100

static const char *const kinds[2] = {"urls", "ips"};
static const char *const sides[2] = {"added", "removed"};

/* The lowercase of item into low[ITEM_MAX] (cut there). */
#define ITEM_MAX 512
static const char *
lower(const char *item, char *low)
{
	size_t i;

	for (i = 0; item[i] && i < ITEM_MAX - 1; i++)
		low[i] = (char)tolower((unsigned char)item[i]);
	low[i] = '\0';
	return low;
}

/* Microsoft's account of set id: ms[id], made when missing. */
static json_t *
set_of(json_t *ms, const char *id)
{
	json_t *s = json_object_get(ms, id);

	if (s == NULL)
		json_object_set_new(ms, id, s = json_object());
	return s;
}

/* ms[set id][kind][side][item] = true, and ms[set id]["whole"] = "added"
 * or "removed" for a whole set added or removed. */
static json_t *
slot(json_t *ms, const char *id, const char *kind, const char *side)
{
	json_t *s = set_of(ms, id), *k, *d;

	if ((k = json_object_get(s, kind)) == NULL)
		json_object_set_new(s, kind, k = json_object());
	if ((d = json_object_get(k, side)) == NULL)
		json_object_set_new(k, side, d = json_object());
	return d;
}

static void
mark(json_t *ms, const char *id, int kind, int side, const char *item,
     bool no_ipv6)
{
	char low[ITEM_MAX];

	if (kind == 1 && no_ipv6 && strchr(item, ':'))
		return;
	json_object_set_new(slot(ms, id, kinds[kind], sides[side]),
	                    lower(item, low), json_true());
}

/* One of Microsoft's entries, when its version is in (from, to]. */
static void
fold(json_t *ms, const json_t *e, const char *from, const char *to,
     bool no_ipv6)
{
	const json_t *id = json_object_get(e, "endpointSetId");
	const char *v = json_string_value(json_object_get(e, "version"));
	const char *disp = json_string_value(json_object_get(e, "disposition"));
	char ids[32];
	int side, kind;
	size_t i;

	if (!json_is_integer(id) || v == NULL || strlen(v) != 10 ||
	    strcmp(v, from) <= 0 || strcmp(v, to) > 0)
		return;
	snprintf(ids, sizeof(ids), "%lld", (long long)json_integer_value(id));
	if (disp &&
	    (strcasecmp(disp, "Add") == 0 || strcasecmp(disp, "Remove") == 0))
		json_object_set_new(
		    set_of(ms, ids), "whole",
		    json_string(strcasecmp(disp, "Add") ? "removed" : "added"));
	for (side = 0; side < 2; side++) {
		const json_t *m =
		    json_object_get(e, side == 0 ? "add" : "remove");
		for (kind = 0; kind < 2; kind++) {
			const json_t *a = json_object_get(m, kinds[kind]);
			for (i = 0; i < json_array_size(a); i++)
				if (json_is_string(json_array_get(a, i)))
					mark(ms, ids, kind, side,
					     json_string_value(
					         json_array_get(a, i)),
					     no_ipv6);
		}
	}
}

/* An item both added and removed by Microsoft counts as neither. */
static void
net(json_t *ms)
{
	const char *id, *item;
	json_t *s, *add, *del, *val;
	void *tmp;
	int kind;

	json_object_foreach(ms, id, s) for (kind = 0; kind < 2; kind++)
	{
		add = json_object_get(json_object_get(s, kinds[kind]), "added");
		del =
		    json_object_get(json_object_get(s, kinds[kind]), "removed");
		json_object_foreach_safe(add, tmp, item, val)
		{
			if (json_object_get(del, item)) {
				json_object_del(del, item);
				json_object_del(add, item);
			}
		}
	}
}

struct diffs {
	json_t *list;
	json_int_t total;
};

static void
differ(struct diffs *d, const char *fmt, const char *id, const char *kind,
       const char *item, const char *side)
{
	char buf[900];

	d->total++;
	if (json_array_size(d->list) >= DIFF_MAX)
		return;
	snprintf(buf, sizeof(buf), fmt, id, kind[0] == 'u' ? "name" : "range",
	         item, side);
	json_array_append_new(d->list, json_string(buf));
}

static int
listed(const struct m365_endpoints *ep, long long id)
{
	size_t i;

	for (i = 0; ep && i < ep->n_sets; i++)
		if (ep->sets[i].id == id)
			return 1;
	return 0;
}

/* True when Microsoft's account s and the report's entry e (or NULL) both
 * have the set added whole, or both removed: nothing more to compare. */
static int
same_whole(const json_t *s, const json_t *e)
{
	const char *w = json_string_value(json_object_get(s, "whole"));
	const char *c = json_string_value(json_object_get(e, "change"));

	return w != NULL && c != NULL && strcmp(w, c) == 0;
}

/* What Microsoft says of set id that the report does not (e: the
 * report's entry for it, or NULL). */
static void
microsoft_only(struct diffs *d, const char *id, const json_t *s,
               const json_t *e)
{
	char low[ITEM_MAX];
	const char *item;
	json_t *v;
	size_t i;
	int k, side, found;

	if (same_whole(s, e))
		return;
	for (k = 0; k < 2; k++)
		for (side = 0; side < 2; side++) {
			const json_t *ours = json_object_get(
			    json_object_get(e, kinds[k]), sides[side]);
			json_object_foreach(
			    json_object_get(json_object_get(s, kinds[k]),
			                    sides[side]),
			    item, v)
			{
				found = 0;
				for (i = 0; i < json_array_size(ours); i++)
					found |=
					    strcmp(lower(json_string_value(
					                     json_array_get(
					                         ours, i)),
					                 low),
					           item) == 0;
				if (!found)
					differ(
					    d,
					    "set %s: Microsoft's /changes has "
					    "%s %s %s; the lists do not",
					    id, kinds[k], item, sides[side]);
			}
		}
}

/* What the report says of set entry e that Microsoft does not. */
static void
ours_only(struct diffs *d, const json_t *ms, const json_t *e)
{
	char id[32], low[ITEM_MAX];
	const json_t *s, *a, *theirs;
	const char *item;
	size_t i;
	int k, side;

	snprintf(id, sizeof(id), "%lld",
	         (long long)json_integer_value(json_object_get(e, "id")));
	s = json_object_get(ms, id);
	if (same_whole(s, e))
		return;
	for (k = 0; k < 2; k++)
		for (side = 0; side < 2; side++) {
			a = json_object_get(json_object_get(e, kinds[k]),
			                    sides[side]);
			theirs = json_object_get(json_object_get(s, kinds[k]),
			                         sides[side]);
			for (i = 0; i < json_array_size(a); i++) {
				item = json_string_value(json_array_get(a, i));
				if (!json_object_get(theirs, lower(item, low)))
					differ(d,
					       "set %s: the lists have %s %s "
					       "%s; Microsoft's /changes does "
					       "not",
					       id, kinds[k], item, sides[side]);
			}
		}
}

const json_t *
changes_set(const json_t *report, long long id)
{
	const json_t *sets = json_object_get(report, "sets");
	size_t i;

	for (i = 0; i < json_array_size(sets); i++)
		if (json_integer_value(
		        json_object_get(json_array_get(sets, i), "id")) == id)
			return json_array_get(sets, i);
	return NULL;
}

void
changes_crosscheck(json_t *report, const struct m365_endpoints *old,
                   const struct m365_endpoints *neu, const char *json,
                   size_t len, const char *from, const char *to, bool no_ipv6)
{
	struct diffs d = {json_array(), 0};
	json_t *root = json_loadb(json, len, 0, NULL), *ms = json_object();
	const json_t *sets = json_object_get(report, "sets"), *s;
	const char *id;
	size_t i;

	if (!json_is_array(root)) {
		changes_not_asked(report, "Microsoft's /changes answer is not "
		                          "a JSON array");
		goto out;
	}
	for (i = 0; i < json_array_size(root); i++)
		fold(ms, json_array_get(root, i), from, to, no_ipv6);
	net(ms);
	json_object_foreach(ms, id, s)
	{
		long long n = strtoll(id, NULL, 10);
		if (listed(old, n) || listed(neu, n))
			microsoft_only(&d, id, s, changes_set(report, n));
	}
	for (i = 0; i < json_array_size(sets); i++)
		ours_only(&d, ms, json_array_get(sets, i));
	json_object_set_new(report, "microsoft",
	                    json_pack("{s:b,s:b,s:O,s:I}", "asked", 1, "agrees",
	                              d.total == 0, "differences", d.list,
	                              "differencesTotal", d.total));
out:
	json_decref(d.list);
	json_decref(ms);
	json_decref(root);
}
