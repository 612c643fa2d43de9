/* classify.c - the contract's one question (see m365_classify.h). */
#include <stdint.h>
#include <string.h>

#include "hex.h"
#include "list_impl.h"
#include "m365_classify.h"

#define NONE UINT32_MAX

/* Best Microsoft match so far: the lowest rank whose set takes the port. */
struct best {
	const struct m365_list *l;
	int port; /* -1 unknown */
	uint32_t rank;
};

/* First local rule that matched. */
struct first {
	uint32_t rule;
};

static int
port_ok(const struct m365_set *s, int port)
{
	return port < 0 || m365_ports_contains(&s->tcp, (unsigned)port);
}

static void
on_set(void *ctx, const struct idx_item *items, size_t n)
{
	struct best *b = ctx;
	size_t i;

	for (i = 0; i < n && items[i].value < b->rank; i++) {
		if (port_ok(b->l->rank[items[i].value], b->port)) {
			b->rank = items[i].value;
			return;
		}
	}
}

static void
on_rule(void *ctx, const struct idx_item *items, size_t n)
{
	struct first *f = ctx;

	if (n > 0 && items[0].value < f->rule)
		f->rule = items[0].value;
}

static void
answer(struct m365_verdict *v, enum m365_result r, enum m365_why why,
       const char *message)
{
	memset(v, 0, sizeof(*v));
	v->result = r;
	v->why = why;
	v->message = message;
}

/*
 * Judges one normalised host (a NAME or an IP) at a port: never rules
 * first, then Microsoft's sets; the local bypass rules are consulted only
 * when no selected set matched.
 */
static void
judge(const struct m365_list *l, const struct m365_host *h, int port,
      struct m365_verdict *v)
{
	struct first never = {.rule = NONE}, bypass = {.rule = NONE};
	struct best b = {.l = l, .port = port, .rank = NONE};
	struct index_query q;

	index_query_init(&q, h);
	if (index_match(l->never, &q, on_rule, &never) < 0 ||
	    index_match(l->ms, &q, on_set, &b) < 0)
		return answer(v, M365_ERR, M365_WHY_NO_MATCH,
		              "pattern evaluation failed");
	if (never.rule != NONE) {
		answer(v, M365_ERR, M365_WHY_NEVER, "local never rule");
		v->rule = &l->local->rules[never.rule];
		return;
	}
	if (b.rank < l->n_selected) {
		answer(v, M365_OK, M365_WHY_SET, NULL);
	} else if (index_match(l->bypass, &q, on_rule, &bypass) < 0) {
		return answer(v, M365_ERR, M365_WHY_NO_MATCH,
		              "pattern evaluation failed");
	} else if (bypass.rule != NONE) {
		answer(v, M365_OK, M365_WHY_LOCAL, NULL);
		v->rule = &l->local->rules[bypass.rule];
		v->category = v->service = "Local";
		return;
	} else if (b.rank != NONE) {
		answer(v, M365_ERR, M365_WHY_UNSELECTED, NULL);
	} else {
		return answer(v, M365_ERR, M365_WHY_NO_MATCH, NULL);
	}
	v->set = l->rank[b.rank];
	v->category = v->set->category_name;
	v->service = v->set->service_area;
}

int
m365_port_parse(const char *s)
{
	char buf[8];
	size_t i, n = 0;
	int v = 0;

	/* unknown: absent, or "-" as received ("%2d" decodes to "-" but is
	 * not how Squid says "none": an error, as "" is) */
	if (s == NULL || strcmp(s, "-") == 0)
		return -1;
	/* percent-decode (Squid escapes rfc1738-style): "%34%34%33" is 443 */
	for (i = 0; s[i]; i++) {
		int c = (unsigned char)s[i], hi, lo;
		if (c == '%' && (hi = hex_value(s[i + 1])) >= 0 &&
		    (lo = hex_value(s[i + 2])) >= 0) {
			c = hi * 16 + lo;
			i += 2;
		}
		if (n == sizeof(buf) - 1)
			return 0;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9' || i >= 5)
			return 0;
		v = v * 10 + (buf[i] - '0');
	}
	return v >= 1 && v <= 65535 ? v : 0;
}

void
classify_norm(const struct m365_list *l, const struct m365_host *dst, int port,
              const struct m365_host *sni, struct m365_verdict *v)
{
	struct m365_verdict sv;

	if (l == NULL)
		return answer(v, M365_ERR, M365_WHY_NO_LIST, "no list loaded");
	if (dst->kind == M365_HOST_NONE)
		return answer(v, M365_ERR, M365_WHY_NO_DST,
		              "missing destination");
	if (dst->kind == M365_HOST_INVALID)
		return answer(v, M365_ERR, M365_WHY_BAD_DST,
		              "invalid destination");
	if (port == 0)
		return answer(v, M365_ERR, M365_WHY_BAD_PORT, "invalid port");
	if (sni->kind == M365_HOST_INVALID)
		return answer(v, M365_ERR, M365_WHY_BAD_SNI, "invalid SNI");
	judge(l, dst, port, v);
	if (v->result != M365_OK || sni->kind == M365_HOST_NONE ||
	    (sni->kind == dst->kind && strcmp(sni->name, dst->name) == 0))
		return;
	judge(l, sni, port, &sv);
	if (sv.result != M365_OK)
		answer(v, M365_ERR, M365_WHY_SNI, "SNI is not a bypass");
}

static void
normalise(const char *s, struct m365_host *h)
{
	m365_host_normalize(s, s ? strlen(s) : 0, h);
}

void
m365_classify(const struct m365_list *list, const char *dst, const char *port,
              const char *sni, struct m365_verdict *v)
{
	struct m365_host d, s;

	normalise(dst, &d);
	normalise(sni, &s);
	classify_norm(list, &d, m365_port_parse(port), &s, v);
}
