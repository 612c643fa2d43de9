/* explain.c - every match behind a verdict (see m365_classify.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list_impl.h"
#include "m365_classify.h"

struct collect {
	const struct m365_list *l;
	struct m365_explanation *out;
	enum m365_on on;
	int port;
	int kind; /* the host's kind: which pattern an item names */
	const struct m365_host *host; /* the host being walked */
	const char *pattern;          /* set for pattern items */
	size_t cap;
	int oom;
};

/* The text of the url, range or rule an item stands for. */
static const char *
item_text(const struct collect *c, const struct idx_item *it)
{
	const struct m365_set *s;

	if (c->pattern != NULL)
		return c->pattern;
	if (AUX_GROUP(it->aux) != G_MS)
		return c->l->local->rules[it->value].text;
	s = c->l->rank[it->value];
	return c->kind == M365_HOST_NAME ? s->urls[AUX_INDEX(it->aux)]
	                                 : s->ips[AUX_INDEX(it->aux)].text;
}

static void
on_items(void *ctx, const struct idx_item *items, size_t n)
{
	struct collect *c = ctx;
	size_t i;

	for (i = 0; i < n && !c->oom; i++) {
		struct m365_hit *h;
		if (c->out->n_hits == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 16;
			h = realloc(c->out->hits, cap * sizeof(*h));
			if (h == NULL) {
				c->oom = 1;
				return;
			}
			c->out->hits = h;
			c->cap = cap;
		}
		h = &c->out->hits[c->out->n_hits++];
		memset(h, 0, sizeof(*h));
		h->on = c->on;
		h->pattern = item_text(c, &items[i]);
		if (AUX_GROUP(items[i].aux) != G_MS) {
			h->rule = &c->l->local->rules[items[i].value];
			h->port_ok = h->selected = true;
			continue;
		}
		h->set = c->l->rank[items[i].value];
		h->selected = items[i].value < c->l->n_selected;
		h->port_ok =
		    c->port < 0 ||
		    m365_ports_contains(&h->set->tcp, (unsigned)c->port);
	}
}

/* Reports each pattern of a run that matches. */
static void
on_try(void *ctx, const struct part *p, const struct idx_item *it, size_t n)
{
	struct collect *c = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		if (part_try(p, &it[i], c->host) <= 0)
			continue;
		c->pattern = part_pattern_text(p, &it[i]);
		on_items(c, &it[i], 1);
		c->pattern = NULL;
	}
}

static void
collect_host(struct collect *c, const struct m365_host *h, enum m365_on on)
{
	struct part_query q = {.host = h};
	struct host_labels lb;

	if (h->kind != M365_HOST_NAME && h->kind != M365_HOST_IPV4 &&
	    h->kind != M365_HOST_IPV6)
		return;
	if (h->kind == M365_HOST_NAME) {
		host_find_labels(h->name, h->len, &lb);
		q.lb = &lb;
	}
	c->on = on;
	c->kind = h->kind;
	c->host = h;
	c->pattern = NULL;
	part_walk(c->l->parts, 2, &q, on_items, on_try, c);
}

int
m365_explain(const struct m365_list *list, const char *dst, const char *port,
             const char *sni, struct m365_explanation *out)
{
	struct collect c = {.l = list, .out = out, .on = M365_ON_DST};

	memset(out, 0, sizeof(*out));
	m365_host_normalize(dst, dst ? strlen(dst) : 0, &out->dst);
	m365_host_normalize(sni, sni ? strlen(sni) : 0, &out->sni);
	out->port = c.port = m365_port_parse(port);
	classify_norm(list, &out->dst, NULL, c.port, &out->sni, NULL,
	              &out->verdict);
	if (list == NULL || c.port == 0)
		return 0;
	collect_host(&c, &out->dst, M365_ON_DST);
	collect_host(&c, &out->sni, M365_ON_SNI);
	if (c.oom) {
		m365_explanation_free(out);
		return -1;
	}
	return 0;
}

void
m365_explanation_free(struct m365_explanation *out)
{
	if (out == NULL)
		return;
	free(out->hits);
	out->hits = NULL;
	out->n_hits = 0;
}

char *
m365_verdict_reason(const struct m365_verdict *v, char *buf, size_t len)
{
	const struct m365_set *s = v->set;
	const struct m365_rule *r = v->rule;

	switch (v->why) {
	case M365_WHY_SET:
		snprintf(buf, len,
		         "set %lld (%s, %s) is the best selected match: "
		         "Optimize before Allow before Default, then the "
		         "lowest id",
		         (long long)s->id, s->service_area, s->category_name);
		break;
	case M365_WHY_LOCAL:
		snprintf(buf, len,
		         "local bypass rule on line %u (%s); no selected "
		         "Microsoft set matches",
		         r->line, r->text);
		break;
	case M365_WHY_NEVER:
		snprintf(buf, len,
		         "local never rule on line %u (%s) wins over "
		         "everything",
		         r->line, r->text);
		break;
	case M365_WHY_UNSELECTED:
		snprintf(buf, len,
		         "only sets the policy leaves out match (best: set "
		         "%lld, %s, %s)",
		         (long long)s->id, s->service_area, s->category_name);
		break;
	case M365_WHY_NO_MATCH:
		snprintf(buf, len, "%s",
		         v->message ? v->message
		                    : "no endpoint set or local rule matches "
		                      "(at this port)");
		break;
	case M365_WHY_SNI:
		snprintf(buf, len,
		         "the destination is a bypass but the SNI is not: "
		         "the SNI only ever narrows");
		break;
	default:
		snprintf(buf, len, "%s", v->message ? v->message : "error");
		break;
	}
	return buf;
}
