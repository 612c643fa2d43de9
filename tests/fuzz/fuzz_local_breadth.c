/* fuzz_local_breadth.c - libFuzzer: a local list that passes the breadth
 * check (m365_breadth.h) must not widen the bypass to the Internet.
 *
 * The input is parsed as a local list and checked; when it passes, a list
 * is built over the bundled endpoints with the default policy, and a few
 * names and addresses no Microsoft set covers are classified (with the
 * input's first line as a host and as an SNI, for the parser's sake).
 * Such a probe may come out OK only through a local bypass rule that is
 * about that probe:
 *   - a glob whose fixed part (after its last '*') is inside the probe's
 *     registered domain ("*.bbc.co.uk", "www.bbc.co.uk");
 *   - an address range within the limits: an IPv4 range no wider than
 *     /12, an IPv6 range that holds an IPv4 address (IPv4-mapped, or
 *     NAT64's 64:ff9b::/96, RFC 6052) no wider than a /108;
 *   - a regular expression whose literal domain (m365_rule.domain, what
 *     its text ends with) holds the probe and is inside the probe's
 *     registered domain ("re:^www\.bbc\.co\.uk$", "re:\.bbc\.co\.uk$");
 *     no expression may match an address.  ("re:^e" and "re:\.fr$" match
 *     names at large.)
 * Anything else aborts.  Two probes are outside what the breadth check's
 * own canaries cover: www.service-public.fr and 8.8.8.8 through NAT64. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m365_breadth.h"
#include "m365_classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct probe {
	const char *host, *port;
	const char *domain; /* registered domain; NULL for an address */
};

static const struct probe probes[] = {
    {"www.bbc.co.uk", "443", "bbc.co.uk"},
    {"8.8.8.8", "22", NULL},
    {"[64:ff9b::808:808]", "22", NULL}, /* 8.8.8.8 through NAT64 */
    {"example.com", "443", "example.com"},
    {"www.service-public.fr", "443", "service-public.fr"},
};

/* True when domain ends s at a label boundary (or is all of it). */
static int
ends_with_domain(const char *s, const char *domain)
{
	size_t n = strlen(s), d = strlen(domain);

	return n >= d && strcmp(s + n - d, domain) == 0 &&
	       (n == d || s[n - d - 1] == '.' || s[n - d - 1] == '*');
}

/* True when rule r may let probe p through: it is about p. */
static int
rule_is_about(const struct m365_rule *r, const struct probe *p)
{
	const char *tail;

	switch (r->kind) {
	case M365_RULE_GLOB:
		if (p->domain == NULL)
			return 0; /* globs never match addresses */
		tail = strrchr(r->glob, '*');
		return ends_with_domain(tail ? tail + 1 : r->glob, p->domain);
	case M365_RULE_CIDR:
		if (p->domain != NULL)
			return 0; /* ranges never match names */
		if (m365_rule_family(r) == AF_INET)
			return r->plen >= M365_BREADTH_V4_MIN_PLEN;
		/* an IPv6 range that holds an IPv4 address (mapped, NAT64)
		 * holds IPv4 space: no more than a /12's worth */
		return r->plen >= 96 + M365_BREADTH_V4_MIN_PLEN;
	case M365_RULE_REGEX:
		/* its literal domain bounds it, and is inside the probe's */
		return p->domain != NULL && r->domain != NULL &&
		       ends_with_domain(p->host, r->domain) &&
		       ends_with_domain(r->domain, p->domain);
	}
	return 0;
}

static void
probe(const struct m365_list *l, const struct probe *p)
{
	struct m365_verdict v;

	m365_classify(l, p->host, p->port, NULL, &v);
	if (v.result != M365_OK)
		return;
	if (v.why != M365_WHY_LOCAL || v.rule == NULL ||
	    v.rule->verb != M365_VERB_BYPASS || !rule_is_about(v.rule, p))
		abort(); /* a list that passed the check bypasses the Internet
		          */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m365_endpoints *ep;
	struct m365_local *local;
	struct m365_policy policy;
	struct m365_list *l;
	struct m365_verdict v;
	struct m365_err err;
	const char *nl;
	char *first;
	size_t i, n;

	local = m365_local_parse((const char *)data, size, "fuzz", &err);
	if (local == NULL)
		return 0;
	/* m365_local_parse() checks breadth: what it accepts passes */
	if (m365_breadth_check_local(local, &err) < 0)
		abort();
	if ((ep = m365_endpoints_load_bundled(&err)) == NULL ||
	    m365_policy_init(&policy, NULL, NULL, NULL, &err) < 0)
		abort();
	l = m365_list_build(ep, local, &policy, &err);
	m365_policy_free(&policy);
	if (l == NULL)
		return 0;
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		probe(l, &probes[i]);
	nl = memchr(data, '\n', size);
	n = nl ? (size_t)(nl - (const char *)data) : size;
	if ((first = malloc(n + 1)) != NULL) {
		memcpy(first, data, n);
		first[n] = '\0';
		m365_classify(l, first, "443", NULL, &v);
		m365_classify(l, "teams.microsoft.com", "443", first, &v);
		free(first);
	}
	m365_list_unref(l);
	return 0;
}
