/* breadth.c - how much of the Internet a list may let bypass
 * (see m365_breadth.h). */
#include <arpa/inet.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "m365_breadth.h"
#include "m365_host.h"
#include "matchdata.h"

/* IPv6 coverage is counted in /64s: at most a /24's worth (32 /29s);
 * Microsoft's lists cover a few /32s' worth. */
#define V6_TOTAL_64S (1ull << 40)

static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* The newest Public Suffix List on the system (Debian's publicsuffix
 * package) or the one built into libpsl.  Loaded once, never freed: it is
 * read-only and shared by every thread. */
static void
psl_load(void)
{
	psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
}

/* The fixed domain of a glob: its literal tail after the last '*', from
 * its first whole label; "" when nothing is fixed. */
static const char *
fixed_domain(const char *lower)
{
	const char *tail = strrchr(lower, '*'), *dot;

	if (tail == NULL)
		return lower;
	tail++;
	if (*tail == '.')
		return tail + 1;
	/* "*cdn.example.com": the first label is partial */
	dot = strchr(tail, '.');
	return dot ? dot + 1 : "";
}

bool
m365_glob_is_public(const char *lower)
{
	const char *d;

	if (strchr(lower, '*') == NULL)
		return false;
	d = fixed_domain(lower);
	if (*d == '\0' || strchr(d, '.') == NULL)
		return true; /* everything, or a whole top-level domain */
	pthread_once(&psl_once, psl_load);
	if (psl == NULL)
		return true; /* fail closed */
	return psl_is_public_suffix2(psl, d, PSL_TYPE_ANY) != 0;
}

/* Why a glob is refused, into buf. */
static const char *
public_why(const char *lower, char *buf, size_t len)
{
	const char *d = fixed_domain(lower);

	if (*d == '\0')
		snprintf(buf, len, "the pattern fixes no domain at all");
	else if (strchr(d, '.') == NULL)
		snprintf(buf, len,
		         "the pattern covers a whole top-level domain "
		         "(\"%s\")",
		         d);
	else
		snprintf(buf, len,
		         "the pattern covers a public suffix (\"%s\")", d);
	return buf;
}

/* The number of ports a field covers. */
static unsigned
port_count(const struct m365_ports *p)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; i < p->n; i++)
		n += (unsigned)(p->r[i].hi - p->r[i].lo) + 1;
	return n;
}

/* What the checked sets add up to. */
struct totals {
	unsigned long long v4;    /* IPv4 addresses */
	unsigned long long v6_64; /* IPv6 /64s */
};

/* IPv6 prefixes whose addresses carry an IPv4 address in their last 32
 * bits: a range there is IPv4 space. */
static const struct {
	const char *name;
	unsigned char addr[12];
} v4_in_v6[] = {
    {"IPv4-mapped ::ffff:0:0/96", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}},
    {"NAT64 64:ff9b::/96", {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}},
};

/* True when the first bits of a and b agree. */
static bool
same_bits(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned i;

	for (i = 0; i < bits / 8; i++)
		if (a[i] != b[i])
			return false;
	return bits % 8 == 0 ||
	       ((a[i] ^ b[i]) & (0xff << (8 - bits % 8)) & 0xff) == 0;
}

/*
 * An IPv6 range inside a prefix that embeds IPv4 counts as IPv4 space (and
 * must be no wider than /12 of it); one that holds such a prefix whole
 * holds all of IPv4.  Returns 1 when counted, 0 when not such a range, -1
 * with why set.
 */
static int
embedded_v4(const struct m365_cidr *c, struct totals *t, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(v4_in_v6) / sizeof(v4_in_v6[0]); i++) {
		const unsigned char *p = v4_in_v6[i].addr;
		if (c->plen < 96 && same_bits(c->addr, p, c->plen)) {
			snprintf(why, len, "holds the %s prefix: all of IPv4",
			         v4_in_v6[i].name);
			return -1;
		}
		if (c->plen < 96 || !same_bits(c->addr, p, 96))
			continue;
		if (c->plen < 96 + M365_BREADTH_V4_MIN_PLEN) {
			snprintf(why, len, "%s range wider than /%d of IPv4",
			         v4_in_v6[i].name, M365_BREADTH_V4_MIN_PLEN);
			return -1;
		}
		t->v4 += 1ull << (128 - c->plen);
		return 1;
	}
	return 0;
}

/* Checks one range and adds it to the totals; -1 with the reason in why. */
static int
check_cidr(const struct m365_cidr *c, struct totals *t, char *why, size_t len)
{
	int rc;

	if (c->family == AF_INET) {
		if (c->plen < M365_BREADTH_V4_MIN_PLEN) {
			snprintf(why, len, "IPv4 range wider than /%d",
			         M365_BREADTH_V4_MIN_PLEN);
			return -1;
		}
		t->v4 += 1ull << (32 - c->plen);
		return 0;
	}
	if (c->plen < M365_BREADTH_V6_MIN_PLEN) {
		snprintf(why, len, "IPv6 range wider than /%d",
		         M365_BREADTH_V6_MIN_PLEN);
		return -1;
	}
	if ((rc = embedded_v4(c, t, why, len)) != 0)
		return rc < 0 ? -1 : 0;
	t->v6_64 += c->plen >= 64 ? 1 : 1ull << (64 - c->plen);
	return 0;
}

/* Checks the totals after a range was added: the range that crosses a
 * limit is the one refused, so the message names it. */
static int
over_total(const struct totals *t, char *why, size_t len)
{
	if (t->v4 > M365_BREADTH_V4_TOTAL) {
		snprintf(
		    why, len,
		    "brings the IPv4 addresses of the sets that may bypass "
		    "to %llu (at most %llu)",
		    t->v4, (unsigned long long)M365_BREADTH_V4_TOTAL);
		return -1;
	}
	if (t->v6_64 > V6_TOTAL_64S) {
		snprintf(why, len,
		         "brings the IPv6 /64s of the sets that may bypass to "
		         "%llu (at most %llu, a /24)",
		         t->v6_64, (unsigned long long)V6_TOTAL_64S);
		return -1;
	}
	return 0;
}

static int
check_set(const struct m365_endpoints *ep, const struct m365_set *s,
          struct totals *t, struct m365_err *err)
{
	char why[256];
	size_t j;

	for (j = 0; j < s->n_urls; j++)
		if (m365_glob_is_public(s->urls[j]))
			return m365_err_set(
			    err, M365_E_REFUSED,
			    "%s: set %s: urls[%zu] \"%s\": %s", ep->source,
			    s->id_text, j, s->urls[j],
			    public_why(s->urls[j], why, sizeof(why)));
	for (j = 0; j < s->n_ips; j++)
		if (check_cidr(&s->ips[j], t, why, sizeof(why)) < 0 ||
		    over_total(t, why, sizeof(why)) < 0)
			return m365_err_set(err, M365_E_REFUSED,
			                    "%s: set %s: ips[%zu] \"%s\": %s",
			                    ep->source, s->id_text, j,
			                    s->ips[j].text, why);
	if (port_count(&s->tcp) > M365_BREADTH_PORTS_MAX ||
	    port_count(&s->udp) > M365_BREADTH_PORTS_MAX) {
		int tcp = port_count(&s->tcp) > M365_BREADTH_PORTS_MAX;
		char ports[64];
		return m365_err_set(
		    err, M365_E_REFUSED,
		    "%s: set %s: %s \"%s\": %u ports, more than half the "
		    "port space",
		    ep->source, s->id_text, tcp ? "tcpPorts" : "udpPorts",
		    m365_ports_format(tcp ? &s->tcp : &s->udp, ports,
		                      sizeof(ports)),
		    port_count(tcp ? &s->tcp : &s->udp));
	}
	return 0;
}

int
m365_breadth_check(const struct m365_endpoints *ep, const struct m365_policy *p,
                   struct m365_err *err)
{
	struct totals t = {0, 0};
	size_t i;

	for (i = 0; i < ep->n_sets; i++) {
		const struct m365_set *s = &ep->sets[i];
		bool checked = p ? m365_policy_selects(p, s)
		                 : s->category == M365_CAT_OPTIMIZE ||
		                       s->category == M365_CAT_ALLOW;
		if (checked && check_set(ep, s, &t, err) < 0)
			return -1;
	}
	return 0;
}

/* Names no bypass rule may match: unrelated registrants under common
 * suffixes, bare labels and addresses.  A regex that matches one of them
 * matches names at large ("re:.*", "re:\\.com$", "re:^[0-9.]+$"). */
static const char *const canaries[] = {
    "zq7xw2kv9.com",      "www.zq7xw2kv9.net", "zq7xw2kv9.org",
    "zq7xw2kv9.co.uk",    "zq7xw2kv9.de",      "zq7xw2kv9.example",
    "a.b.c.zq7xw2kv9.io", "zq7xw2kv9",         "8.8.8.8",
    "198.51.100.77",      "2001:db8::77"};

/* The canary a regex matches, or NULL.  A match that cannot be evaluated
 * counts as a match (fail closed). */
static const char *
regex_canary(pcre2_code *re)
{
	pcre2_match_context *mc = matchctx_get();
	pcre2_match_data *md = matchdata_get();
	size_t i;

	for (i = 0; i < sizeof(canaries) / sizeof(canaries[0]); i++) {
		int rc = md && mc
		             ? pcre2_match(re, (PCRE2_SPTR)canaries[i],
		                           strlen(canaries[i]), 0, 0, md, mc)
		             : 0;
		if (rc != PCRE2_ERROR_NOMATCH)
			return canaries[i];
	}
	return NULL;
}

/* Why a bypass regex's domain does not bound it, or NULL when it does. */
static const char *
regex_domain_why(const struct m365_rule *r, char *buf, size_t len)
{
	char glob[M365_HOST_MAX + 3];
	const char *tld;

	if (r->domain == NULL) {
		snprintf(buf, len,
		         "a bypass expression must end with a literal domain, "
		         "as in re:^meet[0-9]+\\.example\\.net$");
		return buf;
	}
	tld = strrchr(r->domain, '.');
	tld = tld ? tld + 1 : r->domain;
	if (strspn(tld, "0123456789") == strlen(tld)) {
		snprintf(buf, len,
		         "the expression ends with numbers (\"%s\"), not a "
		         "domain; use address ranges for addresses",
		         r->domain);
		return buf;
	}
	snprintf(glob, sizeof(glob), "*.%s", r->domain);
	if (!m365_glob_is_public(glob))
		return NULL;
	snprintf(buf, len, "the expression's domain \"%s\" is a public suffix",
	         r->domain);
	return buf;
}

int
m365_breadth_check_local(const struct m365_local *l, struct m365_err *err)
{
	struct totals t = {0, 0};
	struct m365_cidr c;
	char why[256];
	size_t i;

	for (i = 0; i < l->n_rules; i++) {
		const struct m365_rule *r = &l->rules[i];
		if (r->verb != M365_VERB_BYPASS)
			continue;
		if (r->kind == M365_RULE_GLOB && m365_glob_is_public(r->glob))
			return m365_err_set(
			    err, M365_E_REFUSED, "%s:%u: bypass %s: %s",
			    l->source, r->line, r->text,
			    public_why(r->glob, why, sizeof(why)));
		if (r->kind == M365_RULE_REGEX &&
		    regex_domain_why(r, why, sizeof(why)) != NULL)
			return m365_err_set(err, M365_E_REFUSED,
			                    "%s:%u: bypass %s: %s", l->source,
			                    r->line, r->text, why);
		if (r->kind == M365_RULE_REGEX && regex_canary(r->re) != NULL)
			return m365_err_set(
			    err, M365_E_REFUSED,
			    "%s:%u: bypass %s: the expression matches names "
			    "at large (such as \"%s\"); anchor it on your "
			    "domain",
			    l->source, r->line, r->text, regex_canary(r->re));
		if (r->kind != M365_RULE_CIDR)
			continue;
		m365_rule_cidr(r, &c);
		if (check_cidr(&c, &t, why, sizeof(why)) < 0 ||
		    over_total(&t, why, sizeof(why)) < 0)
			return m365_err_set(err, M365_E_REFUSED,
			                    "%s:%u: bypass %s: %s", l->source,
			                    r->line, r->text, why);
	}
	return 0;
}
