/* ctl_lookup.c - m365ctl lookup: the verdict and why (see ctl.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "listsrc.h"
#include "m365_classify.h"
#include "squid_answer.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: m365ctl lookup\n" LISTSRC_USAGE
	        "         HOST|URL|HOST:PORT [PORT [SNI]]\n"
	        "\n"
	        "Answers as ext_m365_acl would for HOST (and PORT, SNI;\n"
	        "HOST may be a URL or HOST:PORT, the port taken from it),\n"
	        "then lists every endpoint set and local rule that matched,\n"
	        "and why the answer is what it is.  With --redis, the list\n"
	        "is the version the helpers following Redis use now;\n"
	        "with --verify-key it must carry a valid signature.  A set\n"
	        "that lists UDP ports (Teams media) is said to need them\n"
	        "direct.\n"
	        "Exit status: 0 OK, 1 ERR, 2 usage or input error, 4 Redis\n"
	        "unreachable.\n");
}

/* The verdict exactly as the helper writes it, without channel. */
static void
print_verdict(const struct m365_verdict *v)
{
	char line[SQUID_ANSWER_MAX];

	if (squid_answer_format(v, NULL, line, sizeof(line)) < 0)
		snprintf(line, sizeof(line), "%s",
		         v->result == M365_OK ? "OK" : "ERR");
	printf("%s\n", line);
}

static void
print_hit(const struct m365_list *l, const struct m365_hit *h, int port)
{
	const struct m365_set *s = h->set;
	const struct m365_policy *p = m365_list_policy(l);
	char ports[128], what[64];
	const char *on = h->on == M365_ON_DST ? "dst" : "sni";

	if (h->rule) {
		printf("  %s  local %-6s line %-4u %s\n", on,
		       h->rule->verb == M365_VERB_NEVER ? "never" : "bypass",
		       h->rule->line, h->pattern);
		return;
	}
	snprintf(what, sizeof(what), "%s/%s", s->service_area,
	         s->category_name);
	printf("  %s  set %-4lld %-18s %-28s", on, (long long)s->id, what,
	       h->pattern);
	if (!s->has_tcp || s->tcp.n == 0)
		printf(" no tcpPorts%s", port < 0 ? "" : ": port not allowed");
	else if (port < 0)
		printf(" tcp %s",
		       m365_ports_format(&s->tcp, ports, sizeof(ports)));
	else
		printf(" tcp %s: port %d %s",
		       m365_ports_format(&s->tcp, ports, sizeof(ports)), port,
		       h->port_ok ? "ok" : "not allowed");
	if (h->selected)
		printf(", selected\n");
	else if (s->category == M365_CAT_OTHER ||
	         !(p->categories & (1u << s->category)))
		printf(", not selected (category %s)\n", s->category_name);
	else
		printf(", not selected (service area %s)\n", s->service_area);
}

static void
print_host(const char *label, const struct m365_host *h)
{
	if (h->kind == M365_HOST_NONE)
		printf("%-13s none\n", label);
	else if (h->kind == M365_HOST_INVALID)
		printf("%-13s invalid\n", label);
	else
		printf("%-13s %s (%s)\n", label, h->name,
		       m365_host_kind_name(h->kind));
}

/* Hits in the order an admin reads them: DST first, local rules first,
 * then sets by selection, category and id. */
static int
cmp_hit(const void *a, const void *b)
{
	const struct m365_hit *x = a, *y = b;

	if (x->on != y->on)
		return (int)x->on - (int)y->on;
	if ((x->rule != NULL) != (y->rule != NULL))
		return x->rule ? -1 : 1;
	if (x->rule)
		return (int)x->rule->line - (int)y->rule->line;
	if (x->selected != y->selected)
		return x->selected ? -1 : 1;
	if (x->set->category != y->set->category)
		return (int)x->set->category - (int)y->set->category;
	return (x->set->id > y->set->id) - (x->set->id < y->set->id);
}

/* The reason line, with the port spelled out when only the port failed. */
static void
print_why(const struct m365_explanation *e)
{
	char buf[512];
	size_t i, name_hits = 0;

	for (i = 0; i < e->n_hits; i++)
		name_hits += e->hits[i].set && e->hits[i].on == M365_ON_DST;
	if (e->verdict.why == M365_WHY_NO_MATCH && !e->verdict.message &&
	    name_hits > 0)
		snprintf(buf, sizeof(buf),
		         "%zu endpoint set(s) match the destination, but none "
		         "allows TCP port %d",
		         name_hits, e->port);
	else
		m365_verdict_reason(&e->verdict, buf, sizeof(buf));
	printf("%-13s %s\n", "why:", buf);
}

/* For each selected set that matched and lists UDP ports (Teams media):
 * that this traffic must go direct on those ports. */
static void
print_media(const struct m365_explanation *e)
{
	char ports[256];
	size_t i, k;

	for (i = 0; i < e->n_hits; i++) {
		const struct m365_set *s = e->hits[i].set;
		if (s == NULL || !e->hits[i].selected || !s->has_udp ||
		    s->udp.n == 0)
			continue;
		for (k = 0; k < i; k++) /* each set once */
			if (e->hits[k].set == s && e->hits[k].selected)
				break;
		if (k < i)
			continue;
		printf("%-13s set %lld (%s, %s) lists UDP %s: that media must "
		       "go direct on those ports, not through the proxy\n",
		       "media:", (long long)s->id, s->category_name,
		       s->service_area,
		       m365_ports_format(&s->udp, ports, sizeof(ports)));
	}
}

static void
explain(const struct m365_list *l, struct m365_explanation *e)
{
	const struct m365_endpoints *ep = m365_list_endpoints(l);
	const struct m365_local *loc = m365_list_local(l);
	char buf[512];
	size_t i;

	print_verdict(&e->verdict);
	printf("%-13s %s: %zu sets, %zu selected\n", "list:", ep->source,
	       ep->n_sets, m365_list_selected(l));
	printf("%-13s %s\n", "policy:",
	       m365_policy_describe(m365_list_policy(l), buf, sizeof(buf)));
	if (loc)
		printf("%-13s %s: %zu rules\n", "local:", loc->source,
		       loc->n_rules);
	print_host("destination:", &e->dst);
	if (e->port < 0)
		printf("%-13s unknown\n", "port:");
	else
		printf("%-13s %d\n", "port:", e->port);
	print_host("sni:", &e->sni);
	qsort(e->hits, e->n_hits, sizeof(*e->hits), cmp_hit);
	printf("matches:%s\n", e->n_hits ? "" : "      none");
	for (i = 0; i < e->n_hits; i++)
		print_hit(l, &e->hits[i], e->port);
	print_why(e);
	print_media(e);
}

/* The command line; 0, or the exit status (-1: 0 after --help). */
static int
options(int argc, char **argv, struct listsrc *src)
{
	static const struct option longopts[] = {
	    LISTSRC_LONGOPTS,
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = listsrc_option(src, c, optarg)) == 2)
			return 2;
		if (rc == 1)
			continue;
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		usage(stderr);
		return 2;
	}
	if (argc - optind < 1 || argc - optind > 3) {
		usage(stderr);
		return 2;
	}
	return listsrc_check(src);
}

/* The default port of a URL scheme, or NULL (unknown). */
static const char *
scheme_port(const char *scheme, size_t n)
{
	static const char *const known[][2] = {
	    {"http", "80"}, {"https", "443"}, {"ws", "80"},
	    {"wss", "443"}, {"ftp", "21"},
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i][0]) == n &&
		    strncasecmp(scheme, known[i][0], n) == 0)
			return known[i][1];
	return NULL;
}

/* True when s[0..n) is a port number's digits (1 to 5 of them). */
static int
port_digits(const char *s, size_t n)
{
	return n >= 1 && n <= 5 && strspn(s, "0123456789") >= n;
}

/*
 * Splits a HOST argument given as a URL ("https://host:8443/path") or as
 * "host:port" ("[2603:1063::1]:443", "teams.microsoft.com:443") into the
 * host (into buf) and the port (*port: into pbuf, the URL scheme's
 * default, or NULL for none).  Anything else, a bare IPv6 address
 * included, is the host as it is.  Returns 0, or -1 for a URL whose
 * authority cannot be read.
 */
static int
split_target(const char *arg, char *buf, size_t len, char *pbuf,
             const char **port)
{
	const char *sch = strstr(arg, "://"), *a = arg, *end, *at, *c;
	size_t n;

	*port = NULL;
	if (sch != NULL) {
		*port = scheme_port(arg, (size_t)(sch - arg));
		a = sch + 3;
		end = a + strcspn(a, "/?#");
		if ((at = memrchr(a, '@', (size_t)(end - a))) != NULL)
			a = at + 1;
	} else {
		end = a + strlen(a);
	}
	if (*a == '[' && (c = memchr(a, ']', (size_t)(end - a))) != NULL)
		c++; /* "[v6]" then ":port" or nothing */
	else if ((c = memchr(a, ':', (size_t)(end - a))) != NULL &&
	         memchr(c + 1, ':', (size_t)(end - c - 1)) != NULL)
		c = NULL; /* a bare IPv6 address: no port in it */
	else if (c == NULL)
		c = end;
	if (c == NULL ||
	    (c < end &&
	     (*c != ':' || !port_digits(c + 1, (size_t)(end - c - 1))))) {
		if (sch != NULL)
			return -1; /* a URL with an unreadable authority */
		c = end;           /* the argument is the host */
	}
	if (c < end) {
		memcpy(pbuf, c + 1, (size_t)(end - c - 1));
		pbuf[end - c - 1] = '\0';
		*port = pbuf;
	}
	if ((n = (size_t)(c - a)) >= len)
		return -1;
	memcpy(buf, a, n);
	buf[n] = '\0';
	return 0;
}

int
ctl_lookup(int argc, char **argv)
{
	struct m365_explanation e;
	struct m365_list *l;
	struct listsrc src;
	const char *port;
	char host[2048], pbuf[8];
	int rc;

	listsrc_init(&src, "lookup");
	if ((rc = options(argc, argv, &src)) != 0)
		return rc < 0 ? 0 : rc;
	if (split_target(argv[optind], host, sizeof(host), pbuf, &port) < 0) {
		fprintf(stderr,
		        "m365ctl lookup: %s: cannot read the host and "
		        "port of that URL\n",
		        argv[optind]);
		return 2;
	}
	if (port != NULL && argc - optind > 1 &&
	    strcmp(argv[optind + 1], port) != 0) {
		fprintf(stderr,
		        "m365ctl lookup: %s names port %s, and PORT "
		        "says %s\n",
		        argv[optind], port, argv[optind + 1]);
		return 2;
	}
	if (argc - optind > 1)
		port = argv[optind + 1];
	if ((l = listsrc_load(&src, &rc)) == NULL)
		return rc;
	if (m365_explain(l, host, port,
	                 argc - optind > 2 ? argv[optind + 2] : NULL, &e) < 0) {
		fprintf(stderr, "m365ctl lookup: out of memory\n");
		m365_list_unref(l);
		return 2;
	}
	explain(l, &e);
	rc = e.verdict.result == M365_OK ? 0 : 1;
	m365_explanation_free(&e);
	m365_list_unref(l);
	return rc;
}
