/* classify.c - the contract's one question (see m365_classify.h). */
#include <stdint.h>
#include <string.h>

#include "hex.h"
#include "list_impl.h"
#include "m365_classify.h"

#define NONE UINT32_MAX

const struct fixed_verdict fixed_verdicts[FA_N] = {
    [FA_NO_MATCH] = {M365_WHY_NO_MATCH, NULL},
    [FA_EVAL_FAILED] = {M365_WHY_NO_MATCH, "pattern evaluation failed"},
    [FA_NEVER] = {M365_WHY_NEVER, "local never rule"},
    [FA_SNI] = {M365_WHY_SNI, "SNI is not a bypass"},
    [FA_NO_DST] = {M365_WHY_NO_DST, "missing destination"},
    [FA_BAD_DST] = {M365_WHY_BAD_DST, "invalid destination"},
    [FA_BAD_PORT] = {M365_WHY_BAD_PORT, "invalid port"},
    [FA_BAD_SNI] = {M365_WHY_BAD_SNI, "invalid SNI"},
};

/* What a walk found: the best set that takes the port, the first local
 * never and bypass rules, and which groups had a pattern that could not
 * be evaluated. */
struct judge {
	const struct m365_list *l;
	const struct m365_host *h;
	int port; /* -1 unknown */
	uint32_t rank, never, bypass;
	unsigned failed; /* bit per enum part_group */
};

/* True when the set of rank r takes the port (-1: unknown, any). */
static int
port_ok(const struct m365_list *l, uint32_t r, int port)
{
	if (port == 443)
		return l->web[r] & PORT_443;
	if (port == 80)
		return l->web[r] & PORT_80;
	return port < 0 ||
	       m365_ports_contains(&l->rank[r]->tcp, (unsigned)port);
}

static void
on_hit(void *ctx, const struct idx_item *it, size_t n)
{
	struct judge *j = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t v = it[i].value;
		switch (AUX_GROUP(it[i].aux)) {
		case G_MS:
			if (v < j->rank && port_ok(j->l, v, j->port))
				j->rank = v;
			break;
		case G_NEVER:
			if (v < j->never)
				j->never = v;
			break;
		default:
			if (v < j->bypass)
				j->bypass = v;
			break;
		}
	}
}

/* Tries each pattern of a run; one that cannot be evaluated marks its
 * group failed (the answer then depends on whether that group counts). */
static void
on_try(void *ctx, const struct part *p, const struct idx_item *it, size_t n)
{
	struct judge *j = ctx;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if ((rc = part_try(p, &it[i], j->h)) < 0)
			j->failed |= 1u << AUX_GROUP(it[i].aux);
		else if (rc > 0)
			on_hit(j, &it[i], 1);
	}
}

/* A verdict with no set or rule, with the list's text for it. */
static void
fixed(const struct m365_list *l, struct m365_verdict *v, enum fixed_answer fa)
{
	memset(v, 0, sizeof(*v));
	v->result = M365_ERR;
	v->why = fixed_verdicts[fa].why;
	v->message = fixed_verdicts[fa].message;
	if (l != NULL && l->ans != NULL) {
		v->text = l->ans->fixed[fa];
		v->text_len = l->ans->fixed_len[fa];
	}
}

/* A verdict about the set of rank r. */
static void
by_set(const struct m365_list *l, struct m365_verdict *v, uint32_t r, int ok)
{
	const struct m365_set *s = l->rank[r];

	memset(v, 0, sizeof(*v));
	v->result = ok ? M365_OK : M365_ERR;
	v->why = ok ? M365_WHY_SET : M365_WHY_UNSELECTED;
	v->set = s;
	v->category = s->category_name;
	v->service = s->service_area;
	if (l->ans != NULL) {
		v->text = ok ? l->ans->ok[r] : l->ans->err[r];
		v->text_len = ok ? l->ans->ok_len[r] : l->ans->err_len[r];
	}
}

/*
 * Judges one normalised host (a NAME or an IP) at a port: never rules
 * first, then Microsoft's sets; the local bypass rules count only when no
 * selected set matched.
 */
static void
judge(const struct m365_list *l, const struct m365_host *h,
      const struct host_labels *lb, int port, struct m365_verdict *v)
{
	struct judge j = {.l = l,
	                  .h = h,
	                  .port = port,
	                  .rank = NONE,
	                  .never = NONE,
	                  .bypass = NONE};
	struct host_labels own;
	struct part_query q;

	q.host = h;
	q.lb = lb;
	if (lb == NULL && h->kind == M365_HOST_NAME) {
		host_find_labels(h->name, h->len, &own);
		q.lb = &own;
	}
	part_walk(l->parts, 2, &q, on_hit, on_try, &j);
	if (j.failed & (1u << G_NEVER | 1u << G_MS))
		return fixed(l, v, FA_EVAL_FAILED);
	if (j.never != NONE) {
		fixed(l, v, FA_NEVER);
		v->rule = &l->local->rules[j.never];
		return;
	}
	if (j.rank < l->n_selected)
		return by_set(l, v, j.rank, 1);
	if (j.failed & 1u << G_BYPASS)
		return fixed(l, v, FA_EVAL_FAILED);
	if (j.bypass != NONE) {
		memset(v, 0, sizeof(*v));
		v->result = M365_OK;
		v->why = M365_WHY_LOCAL;
		v->rule = &l->local->rules[j.bypass];
		v->category = v->service = "Local";
		if (l->ans != NULL) {
			v->text = l->ans->local;
			v->text_len = l->ans->local_len;
		}
		return;
	}
	if (j.rank != NONE)
		return by_set(l, v, j.rank, 0);
	fixed(l, v, FA_NO_MATCH);
}

/* m365_port_parse() on s[0..len) (s NULL: none). */
static int
port_parse_n(const char *s, size_t len)
{
	char buf[8];
	size_t i, n = 0;
	int v = 0;

	/* unknown: absent, or "-" as received ("%2d" decodes to "-" but is
	 * not how Squid says "none": an error, as "" is) */
	if (s == NULL || (len == 1 && s[0] == '-'))
		return -1;
	/* the common case: plain decimal digits, no leading zero */
	for (i = 0; i < len && i < 5 && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	if (i == len && i > 0 && s[0] != '0')
		return v <= 65535 ? v : 0;
	v = 0;
	/* percent-decode (Squid escapes rfc1738-style): "%34%34%33" is 443 */
	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i], hi, lo;
		if (c == '%' && i + 2 < len &&
		    (hi = hex_value(s[i + 1])) >= 0 &&
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

int
m365_port_parse(const char *s)
{
	return port_parse_n(s, s ? strlen(s) : 0);
}

/* True when two valid hosts are the same (IP literals by address: their
 * text may not be written). */
static int
same_host(const struct m365_host *a, const struct m365_host *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == M365_HOST_IPV4)
		return memcmp(a->addr, b->addr, 4) == 0;
	if (a->kind == M365_HOST_IPV6)
		return memcmp(a->addr, b->addr, 16) == 0;
	return a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
}

/* True when a pattern of the list reads an IP literal's text (a loose
 * regex, tried on addresses too). */
static unsigned
ip_text(const struct m365_list *l)
{
	if (l == NULL)
		return 0;
	if (l->parts[0]->n_loose_ip > 0 ||
	    (l->parts[1] != NULL && l->parts[1]->n_loose_ip > 0))
		return HOST_IP_TEXT;
	return 0;
}

void
classify_norm(const struct m365_list *l, const struct m365_host *dst,
              const struct host_labels *dst_lb, int port,
              const struct m365_host *sni, const struct host_labels *sni_lb,
              struct m365_verdict *v)
{
	struct m365_verdict sv;

	if (l == NULL) {
		memset(v, 0, sizeof(*v));
		v->result = M365_ERR;
		v->why = M365_WHY_NO_LIST;
		v->message = "no list loaded";
		return;
	}
	if (dst->kind == M365_HOST_NONE)
		return fixed(l, v, FA_NO_DST);
	if (dst->kind == M365_HOST_INVALID)
		return fixed(l, v, FA_BAD_DST);
	if (port == 0)
		return fixed(l, v, FA_BAD_PORT);
	if (sni->kind == M365_HOST_INVALID)
		return fixed(l, v, FA_BAD_SNI);
	judge(l, dst, dst_lb, port, v);
	if (v->result != M365_OK || sni->kind == M365_HOST_NONE ||
	    same_host(sni, dst))
		return;
	judge(l, sni, sni_lb, port, &sv);
	if (sv.result != M365_OK)
		fixed(l, v, FA_SNI);
}

void
m365_classify_n(const struct m365_list *list, const char *dst, size_t dst_len,
                const char *port, size_t port_len, const char *sni,
                size_t sni_len, struct m365_verdict *v)
{
	struct host_labels dlb, slb;
	struct m365_host d, s;
	unsigned flags = ip_text(list);

	host_scan(dst, dst ? dst_len : 0, &d, &dlb, flags);
	host_scan(sni, sni ? sni_len : 0, &s, &slb, flags);
	classify_norm(list, &d, &dlb, port_parse_n(port, port_len), &s, &slb,
	              v);
}

void
m365_classify(const struct m365_list *list, const char *dst, const char *port,
              const char *sni, struct m365_verdict *v)
{
	m365_classify_n(list, dst, dst ? strlen(dst) : 0, port,
	                port ? strlen(port) : 0, sni, sni ? strlen(sni) : 0, v);
}
