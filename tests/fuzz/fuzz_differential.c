/* fuzz_differential.c - libFuzzer: the compiled matcher against the
 * reference scan of tests/unit/ref_scan.c; abort() on any difference in a
 * verdict or in the hits of m365_explain().
 *
 * An input is either "gen\n" and bytes that drive the generators of the
 * unit test (tests/unit/ref_gen.c: endpoint list, local list, policy,
 * queries), or text in three parts separated by lines "%%":
 *
 *     policy Optimize,Allow Skype          (optional; "-" for a default)
 *     set 12 Allow Skype 80,443 *.teams.microsoft.com 52.112.0.0/14
 *     ms 3                                 (the bundled list's 4th set)
 *     %%
 *     bypass re:^meet[0-9]+\.example\.net$ (the local list, as it is)
 *     %%
 *     teams.microsoft.com 443 evil.example (DST PORT SNI; "~" is none)
 *
 * A set line is "set ID CATEGORY AREA PORTS PATTERN...", PORTS "none" for
 * no tcpPorts and "empty" for "".  Without sets, a small built-in list is
 * used.  Besides the queries given, queries aimed at every pattern of the
 * built list are derived from the input.  FUZZ_DIFF_VERBOSE=1 in the
 * environment says on stderr what each input built and checked (to write
 * seeds).
 *
 * FUZZ_DIFF_KNOWN=glob-limit lets the difference known since this target
 * was written pass, so that fuzzing can go on looking for others until it
 * is fixed: an irregular glob with several stars ("b*b*b*b*b*c*.example.net")
 * hits PCRE2's match limit on long names, and the library then fails the
 * whole answer ("pattern evaluation failed") or misses the match
 * (corpus/differential/glob-match-limit).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QUERIES_GIVEN 64
#define QUERIES_DERIVED 48

static const char default_json[] =
    "[{\"id\":1,\"serviceArea\":\"Skype\",\"category\":\"Optimize\","
    "\"tcpPorts\":\"443,3478-3481\",\"urls\":[\"teams.microsoft.com\","
    "\"*.teams.microsoft.com\",\"autodiscover.*.onmicrosoft.com\"],"
    "\"ips\":[\"52.112.0.0/14\",\"2603:1063::/38\"]},"
    "{\"id\":2,\"serviceArea\":\"Common\",\"category\":\"Default\","
    "\"tcpPorts\":\"80,443\",\"urls\":[\"*cdn.onenote.net\","
    "\"*-files.sharepoint.com\"],\"ips\":[\"52.112.4.0/24\"]}]";

/* How far the generators go: further than the unit test. */
static const struct ref_gen_opts opts = {
    .max_stars = 8, .max_fill = 80, .max_sets = 8, .max_rules = 12};

static struct ref_query queries[QUERIES_GIVEN + QUERIES_DERIVED];

/* The bundled list, loaded once (it stays reachable until exit). */
static const struct m365_endpoints *
bundled(void)
{
	static struct m365_endpoints *ep;
	struct m365_err err;

	if (ep == NULL && (ep = m365_endpoints_load_bundled(&err)) == NULL)
		abort();
	return ep;
}

/* A set of the bundled list as JSON. */
static json_t *
bundled_set(unsigned i)
{
	const struct m365_endpoints *ep = bundled();
	const struct m365_set *s = &ep->sets[i % ep->n_sets];
	json_t *o = json_object(), *urls = json_array(), *ips = json_array();
	char ports[256];
	size_t j;

	json_object_set_new(o, "id", json_integer(s->id));
	json_object_set_new(o, "serviceArea", json_string(s->service_area));
	json_object_set_new(o, "category", json_string(s->category_name));
	if (s->has_tcp)
		json_object_set_new(o, "tcpPorts",
		                    json_string(m365_ports_format(
		                        &s->tcp, ports, sizeof(ports))));
	for (j = 0; j < s->n_urls; j++)
		json_array_append_new(urls, json_string(s->urls[j]));
	for (j = 0; j < s->n_ips; j++)
		json_array_append_new(ips, json_string(s->ips[j].text));
	json_object_set_new(o, "urls", urls);
	json_object_set_new(o, "ips", ips);
	return o;
}

/* One "set ..." line as JSON, or NULL. */
static json_t *
text_set(char *line)
{
	char *tok[4], *save = NULL, *p;
	json_t *o, *urls, *ips;
	int i;

	for (i = 0; i < 4; i++)
		if ((tok[i] = strtok_r(i ? NULL : line, " \t", &save)) == NULL)
			return NULL;
	o = json_object();
	urls = json_array();
	ips = json_array();
	json_object_set_new(o, "id", json_integer(atoll(tok[0])));
	json_object_set_new(o, "category", json_string(tok[1]));
	json_object_set_new(o, "serviceArea", json_string(tok[2]));
	if (strcmp(tok[3], "none") != 0)
		json_object_set_new(
		    o, "tcpPorts",
		    json_string(strcmp(tok[3], "empty") ? tok[3] : ""));
	while ((p = strtok_r(NULL, " \t", &save)) != NULL)
		json_array_append_new(
		    strpbrk(p, ":/") || strspn(p, "0123456789.") == strlen(p)
		        ? ips
		        : urls,
		    json_string(p));
	json_object_set_new(o, "urls", urls);
	json_object_set_new(o, "ips", ips);
	return o;
}

/* The first part: the policy and the sets. */
static void
parse_lists(char *text, struct ref_case *c)
{
	json_t *sets = json_array(), *set;
	char *line, *save = NULL, a[128], b[256];
	int n;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		set = NULL;
		if (strncmp(line, "set ", 4) == 0)
			set = text_set(line + 4);
		else if (strncmp(line, "ms ", 3) == 0)
			set = bundled_set((unsigned)atoi(line + 3));
		else if ((n = sscanf(line, "policy %127s %255s", a, b)) >= 1) {
			free(c->categories);
			free(c->areas);
			c->categories = strcmp(a, "-") ? strdup(a) : NULL;
			c->areas = n == 2 && strcmp(b, "-") ? strdup(b) : NULL;
		}
		if (set != NULL)
			json_array_append_new(sets, set);
	}
	if (json_array_size(sets) > 0)
		c->json = json_dumps(sets, JSON_COMPACT);
	else
		c->json = strdup(default_json);
	json_decref(sets);
}

/* The third part: one query a line. */
static size_t
parse_queries(char *text, struct ref_query *q, size_t max)
{
	char *line, *save = NULL;
	size_t n = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tok[3] = {NULL, NULL, NULL}, *s2 = NULL;
		int i;
		for (i = 0; i < 3; i++)
			tok[i] = strtok_r(i ? NULL : line, " \t", &s2);
		memset(&q[n], 0, sizeof(q[n]));
		q[n].has_dst = tok[0] && strcmp(tok[0], "~") != 0;
		q[n].has_port = tok[1] && strcmp(tok[1], "~") != 0;
		q[n].has_sni = tok[2] && strcmp(tok[2], "~") != 0;
		snprintf(q[n].dst, sizeof(q[n].dst), "%s",
		         tok[0] ? tok[0] : "");
		snprintf(q[n].port, sizeof(q[n].port), "%s",
		         tok[1] ? tok[1] : "");
		snprintf(q[n].sni, sizeof(q[n].sni), "%s",
		         tok[2] ? tok[2] : "");
		n++;
	}
	return n;
}

/* Splits text at the next line "%%"; returns the rest, or NULL. */
static char *
next_part(char *text)
{
	char *p = text;

	for (;;) {
		if (strncmp(p, "%%\n", 3) == 0 || strcmp(p, "%%") == 0) {
			*p = '\0';
			return p[2] ? p + 3 : p + 2;
		}
		if ((p = strchr(p, '\n')) == NULL)
			return NULL;
		p++;
	}
}

static bool verbose;

static struct m365_list *
build(const struct ref_case *c)
{
	struct m365_endpoints *ep;
	struct m365_local *local = NULL;
	struct m365_policy p;
	struct m365_list *l = NULL;
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	ep = m365_endpoints_parse(c->json, strlen(c->json), "fuzz.json", &err);
	if (ep == NULL)
		goto out;
	if (c->local != NULL &&
	    (local = m365_local_parse(c->local, strlen(c->local), "fuzz.list",
	                              &err)) == NULL) {
		m365_endpoints_free(ep);
		goto out;
	}
	if (m365_policy_init(&p, c->categories, c->areas, NULL, &err) < 0) {
		m365_endpoints_free(ep);
		m365_local_free(local);
		goto out;
	}
	l = m365_list_build(ep, local, &p, &err);
	m365_policy_free(&p);
out:
	if (verbose && l == NULL)
		fprintf(stderr, "fuzz_differential: no list: %s\n", err.msg);
	return l;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref_case c = {0};
	struct ref_diff d = {.c = &c, .out = stderr, .max_reports = 1};
	struct ref_rng r;
	struct m365_list *l;
	struct ref_scan *rs;
	char *text = NULL, *local, *rest;
	size_t n = 0, i;
	uint64_t h = 1469598103934665603ull;

	verbose = getenv("FUZZ_DIFF_VERBOSE") != NULL;
	d.known_glob_limit =
	    getenv("FUZZ_DIFF_KNOWN") != NULL &&
	    strcmp(getenv("FUZZ_DIFF_KNOWN"), "glob-limit") == 0;
	for (i = 0; i < size; i++) /* FNV-1a: the seed of derived queries */
		h = (h ^ data[i]) * 1099511628211ull;
	if (size >= 4 && memcmp(data, "gen\n", 4) == 0) {
		ref_rng_data(&r, data + 4, size - 4);
		ref_gen_case(&r, &opts, NULL, &c);
	} else {
		if ((text = malloc(size + 1)) == NULL)
			return 0;
		memcpy(text, data, size);
		text[size] = '\0';
		local = next_part(text);
		rest = local ? next_part(local) : NULL;
		if (local != NULL && (c.local = strdup(local)) == NULL)
			abort();
		if (rest != NULL)
			n = parse_queries(rest, queries, QUERIES_GIVEN);
		parse_lists(text, &c);
	}
	if ((l = build(&c)) == NULL) {
		free(text);
		ref_case_free(&c);
		return 0;
	}
	if ((rs = ref_scan_new(m365_list_endpoints(l), m365_list_local(l),
	                       m365_list_policy(l))) == NULL)
		abort();
	if (text == NULL) /* generated: the queries too */
		n = ref_gen_queries(&r, &opts, l, c.hints, c.n_hints, queries,
		                    QUERIES_GIVEN);
	ref_rng_seed(&r, h);
	n += ref_gen_queries(&r, &opts, l, c.hints, c.n_hints, queries + n,
	                     QUERIES_DERIVED);
	for (i = 0; i < n; i++)
		if (!ref_check_query(l, rs, &queries[i], &d))
			abort(); /* the library and the reference differ */
	if (verbose)
		fprintf(stderr,
		        "fuzz_differential: %zu sets, %zu local rules, %zu "
		        "queries checked\n",
		        m365_list_endpoints(l)->n_sets,
		        m365_list_local(l) ? m365_list_local(l)->n_rules : 0,
		        n);
	ref_scan_free(rs);
	m365_list_unref(l);
	ref_case_free(&c);
	free(text);
	return 0;
}
