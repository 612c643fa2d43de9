/*
 * tests/unit/test_breadth.c - how much of the Internet a list may let bypass
 * (m365_breadth.h): Microsoft's sets, checked with and without a policy,
 * local lists, and a regex that backtracks badly failing closed in time.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"

#include "m365_breadth.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define SRC "mem.json"
#define LSRC "local.list"
#define WW FIXTURE("worldwide-2025-12-01.json")
#define W21 FIXTURE("worldwide-2021-10-11.json")
#define ALL "Optimize,Allow,Default"

/* A hand-made set (JSON with ' for ") of a category in an area. */
#define SETA(id, cat, area, rest)                                              \
	"{'id': " #id ", 'serviceArea': '" area "', 'required': true, "        \
	"'expressRoute': false, 'category': '" cat "', " rest "}"
#define SET(id, cat, rest) SETA(id, cat, "Common", rest)
/* A list of one Allow set 7 with fields rest. */
#define ALLOW7(rest) "[" SET(7, "Allow", rest) "]"

/* Copies s with every ' turned into " (caller frees). */
static char *
json(const char *s)
{
	size_t i, n = strlen(s);
	char *out = test_malloc(n + 1);

	for (i = 0; i <= n; i++)
		out[i] = s[i] == '\'' ? '"' : s[i];
	return out;
}

static struct m365_endpoints *
parse_doc(const char *doc)
{
	struct m365_err err;
	struct m365_endpoints *ep;

	memset(&err, 0, sizeof(err));
	ep = m365_endpoints_parse(doc, strlen(doc), SRC, &err);
	if (ep == NULL)
		fail_msg("refused at parse: %s", err.msg);
	return ep;
}

static struct m365_endpoints *
parse(const char *quoted)
{
	char *doc = json(quoted);
	struct m365_endpoints *ep = parse_doc(doc);

	test_free(doc);
	return ep;
}

/* A policy of these categories and areas (NULL: the default). */
static void
policy(struct m365_policy *p, const char *cats, const char *areas)
{
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	if (m365_policy_init(p, cats, areas, NULL, &err) != 0)
		fail_msg("policy %s: %s", cats ? cats : "NULL", err.msg);
}

/* ep must pass the check with p (NULL: Optimize and Allow). */
static void
ep_ok(const struct m365_endpoints *ep, const struct m365_policy *p)
{
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	if (m365_breadth_check(ep, p, &err) != 0)
		fail_msg("%s: refused: %s", ep->source, err.msg);
	assert_int_equal(err.code, M365_E_NONE); /* untouched on success */
}

/* ep must be refused with p, the message holding each of want[]. */
static void
ep_refused(const struct m365_endpoints *ep, const struct m365_policy *p,
           const char *want1, const char *want2)
{
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	if (m365_breadth_check(ep, p, &err) != -1)
		fail_msg("%s: accepted (wanted \"%s\")", ep->source, want1);
	assert_int_equal(err.code, M365_E_REFUSED);
	if (strncmp(err.msg, ep->source, strlen(ep->source)) != 0)
		fail_msg("message \"%s\" does not start with the source",
		         err.msg);
	if (strstr(err.msg, want1) == NULL ||
	    (want2 != NULL && strstr(err.msg, want2) == NULL))
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg,
		         want1, want2 ? want2 : "");
}

/* The document (with ') passes with p = NULL. */
static void
accepted(const char *quoted)
{
	struct m365_endpoints *ep = parse(quoted);

	ep_ok(ep, NULL);
	m365_endpoints_free(ep);
}

/* The document (with ') is refused with p = NULL and with the default
 * policy, the message naming want1 (set and field) and want2. */
static void
refused(const char *quoted, const char *want1, const char *want2)
{
	struct m365_endpoints *ep = parse(quoted);
	struct m365_policy p;

	ep_refused(ep, NULL, want1, want2);
	policy(&p, NULL, NULL);
	ep_refused(ep, &p, want1, want2);
	m365_policy_free(&p);
	m365_endpoints_free(ep);
}

/* --- ranges ---------------------------------------------------------- */

TEST(test_ipv4_wider_than_slash_12_is_refused)
{
	refused(ALLOW7("'ips': ['52.96.0.0/11']"), "set 7: ips[0]",
	        "\"52.96.0.0/11\"");
	refused(ALLOW7("'ips': ['13.107.6.152/31', '10.0.0.0/8']"),
	        "set 7: ips[1]", "/12");
	accepted(ALLOW7("'ips': ['52.96.0.0/12']"));
	accepted(ALLOW7("'ips': ['13.107.6.152/31', '40.96.0.0/13']"));
}

TEST(test_ipv6_wider_than_slash_29_is_refused)
{
	refused(ALLOW7("'ips': ['2603:1000::/28']"), "set 7: ips[0]",
	        "\"2603:1000::/28\"");
	refused(ALLOW7("'ips': ['2620:1ec::/36', '2000::/16']"),
	        "set 7: ips[1]", "/29");
	accepted(ALLOW7("'ips': ['2603:1000::/29']"));
	accepted(ALLOW7("'ips': ['2620:1ec::/36', '2a01:111::/32']"));
}

TEST(test_ipv4_mapped_range_counts_as_ipv4)
{
	/* ::ffff:0:0/96 is all of IPv4 */
	refused(ALLOW7("'ips': ['::ffff:0:0/96']"), "set 7: ips[0]",
	        "\"::ffff:0:0/96\"");
	refused(ALLOW7("'ips': ['::ffff:10.0.0.0/104']"), "set 7: ips[0]",
	        "IPv4");
	/* a /12 of IPv4, mapped */
	accepted(ALLOW7("'ips': ['::ffff:10.0.0.0/108']"));
}

/* A list of Allow sets (and a Default one) holding n_allow distinct /20s
 * in all and one more /20 in a Default set 99.  Caller frees. */
static char *
slash20s(size_t n_allow)
{
	size_t cap = 64 + n_allow * 24 + 512, off = 0, i;
	char *doc = test_malloc(cap);

	off += (size_t)snprintf(
	    doc + off, cap - off,
	    "[{\"id\": 1, \"serviceArea\": \"Common\", \"required\": true, "
	    "\"expressRoute\": false, \"category\": \"Allow\", \"ips\": [");
	/* all but the last in set 1 (10.0.0.0/8 is 4096 /20s), the last in
	 * set 2: the total is over all the sets checked */
	for (i = 0; i + 1 < n_allow; i++)
		off += (size_t)snprintf(doc + off, cap - off,
		                        "%s\"%zu.%zu.%zu.0/20\"", i ? ", " : "",
		                        10 + i / 4096, (i / 16) % 256,
		                        (i % 16) * 16);
	off += (size_t)snprintf(
	    doc + off, cap - off,
	    "]}, {\"id\": 2, \"serviceArea\": \"Common\", \"required\": true, "
	    "\"expressRoute\": false, \"category\": \"Optimize\", \"ips\": "
	    "[\"%zu.%zu.%zu.0/20\"]}, "
	    "{\"id\": 99, \"serviceArea\": \"Common\", \"required\": false, "
	    "\"expressRoute\": false, \"category\": \"Default\", \"ips\": "
	    "[\"172.16.0.0/20\"]}]",
	    10 + i / 4096, (i / 16) % 256, (i % 16) * 16);
	assert_true(off < cap);
	return doc;
}

TEST(test_more_than_2_to_the_24_ipv4_addresses_are_refused)
{
	char *doc = slash20s(4097);
	struct m365_endpoints *ep = parse_doc(doc);
	struct m365_policy p;

	test_free(doc);
	assert_int_equal(ep->n_ips, 4098);
	/* the range that crosses the limit is named */
	ep_refused(ep, NULL, "set 2: ips[0] \"11.0.0.0/20\"",
	           "IPv4 addresses of the sets that may bypass to 16781312");
	policy(&p, NULL, NULL);
	ep_refused(ep, &p, "set 2: ips[0]", "16781312");
	m365_policy_free(&p);
	m365_endpoints_free(ep);
}

TEST(test_exactly_2_to_the_24_ipv4_addresses_are_accepted)
{
	char *doc = slash20s(4096);
	struct m365_endpoints *ep = parse_doc(doc);
	struct m365_policy p;

	test_free(doc);
	ep_ok(ep, NULL); /* the Default set's /20 is not counted */
	policy(&p, NULL, NULL);
	ep_ok(ep, &p);
	m365_policy_free(&p);
	/* counted once Default is selected */
	policy(&p, ALL, NULL);
	ep_refused(ep, &p, "set 99: ips[0] \"172.16.0.0/20\"", "16781312");
	m365_policy_free(&p);
	m365_endpoints_free(ep);
}

TEST(test_more_than_a_slash_24_of_ipv6_is_refused)
{
	/* 32 /29s are 2^40 /64s, a /24: the most; a 33rd is too many */
	static const char head[] =
	    "[{\"id\": 3, \"serviceArea\": \"Common\", \"required\": true, "
	    "\"expressRoute\": false, \"category\": \"Allow\", \"ips\": [";
	char doc[4096], *q;
	size_t off = 0, i;
	struct m365_endpoints *ep;

	off += (size_t)snprintf(doc, sizeof(doc), "%s", head);
	for (i = 0; i < 33; i++)
		off += (size_t)snprintf(doc + off, sizeof(doc) - off,
		                        "%s\"%04zx::/29\"", i ? ", " : "",
		                        0x2a00 + i * 8);
	off += (size_t)snprintf(doc + off, sizeof(doc) - off, "]}]");
	assert_true(off < sizeof(doc));
	ep = parse_doc(doc);
	assert_int_equal(ep->n_ips, 33);
	ep_refused(ep, NULL, "set 3: ips[32] \"2b00::/29\"", "IPv6 /64s");
	m365_endpoints_free(ep);
	/* drop the last range: 32 /29s pass */
	q = strrchr(doc, ',');
	assert_non_null(q);
	strcpy(q, "]}]");
	ep = parse_doc(doc);
	assert_int_equal(ep->n_ips, 32);
	ep_ok(ep, NULL);
	m365_endpoints_free(ep);
}

/* --- names ----------------------------------------------------------- */

TEST(test_public_suffix_patterns_are_refused)
{
	refused(ALLOW7("'urls': ['*.co.uk']"), "set 7: urls[0]", "\"*.co.uk\"");
	refused(ALLOW7("'urls': ['a.example.com', '*.github.io']"),
	        "set 7: urls[1]", "\"*.github.io\"");
	refused(ALLOW7("'urls': ['*.s3.amazonaws.com']"), "set 7: urls[0]",
	        "public suffix");
	refused(ALLOW7("'urls': ['*co.uk']"), "set 7: urls[0]", "\"*co.uk\"");
	refused(ALLOW7("'urls': ['x.*.co.uk']"), "set 7: urls[0]",
	        "\"x.*.co.uk\"");
	refused(ALLOW7("'urls': ['*.cloudapp.net']"), "set 7: urls[0]",
	        "cloudapp.net");
}

/*
 * "*.com", "*" and "a*" are refused by the parser already; the breadth
 * check refuses them too, for lists built some other way.  The set's first
 * url is swapped for the pattern after parsing.
 */
static void
swapped_refused(const char *pattern, const char *want)
{
	struct m365_endpoints *ep =
	    parse(ALLOW7("'urls': ['placeholder.example.com']"));
	struct m365_policy p;
	char field[128];

	free(ep->sets[0].urls[0]);
	ep->sets[0].urls[0] = strdup(pattern);
	assert_non_null(ep->sets[0].urls[0]);
	snprintf(field, sizeof(field), "set 7: urls[0] \"%s\"", pattern);
	ep_refused(ep, NULL, field, want);
	policy(&p, "Allow", NULL);
	ep_refused(ep, &p, field, want);
	m365_policy_free(&p);
	m365_endpoints_free(ep);
}

TEST(test_tld_and_match_all_patterns_are_refused)
{
	struct m365_err err;
	char *doc;

	swapped_refused("*.com", "top-level domain");
	swapped_refused("*", "no domain");
	swapped_refused("a*", "no domain");
	swapped_refused("*.*.com", NULL);
	/* and the parser refuses them, naming the field */
	doc = json(ALLOW7("'urls': ['*.com']"));
	assert_null(m365_endpoints_parse(doc, strlen(doc), SRC, &err));
	assert_int_equal(err.code, M365_E_REFUSED);
	assert_non_null(strstr(err.msg, "urls[0]"));
	test_free(doc);
}

TEST(test_microsoft_style_patterns_are_accepted)
{
	accepted(ALLOW7("'urls': ['*.teams.microsoft.com', "
	                "'*cdn.onenote.net', "
	                "'autodiscover.*.onmicrosoft.com', "
	                "'*-files.sharepoint.com', 'teams.microsoft.com', "
	                "'outlook.office365.com', 'co.uk', 'github.io', "
	                "'*.contoso.github.io']"));
}

TEST(test_glob_is_public)
{
	assert_true(m365_glob_is_public("*"));
	assert_true(m365_glob_is_public("*.com"));
	assert_true(m365_glob_is_public("*.co.uk"));
	assert_true(m365_glob_is_public("*co.uk"));
	assert_true(m365_glob_is_public("*.github.io"));
	assert_true(m365_glob_is_public("*.s3.amazonaws.com"));
	assert_true(m365_glob_is_public("*.cloudapp.net"));
	assert_true(m365_glob_is_public("a*"));
	assert_true(m365_glob_is_public("foo.*.com"));
	assert_false(m365_glob_is_public("*.teams.microsoft.com"));
	assert_false(m365_glob_is_public("*cdn.onenote.net"));
	assert_false(m365_glob_is_public("autodiscover.*.onmicrosoft.com"));
	assert_false(m365_glob_is_public("*-files.sharepoint.com"));
	assert_false(m365_glob_is_public("*.contoso.github.io"));
	assert_false(m365_glob_is_public("*.example.co.uk"));
	/* without a '*' nothing is public, even a suffix itself */
	assert_false(m365_glob_is_public("co.uk"));
	assert_false(m365_glob_is_public("com"));
	assert_false(m365_glob_is_public("teams.microsoft.com"));
}

/* --- ports ----------------------------------------------------------- */

TEST(test_ports_over_half_the_port_space_are_refused)
{
	refused(ALLOW7("'urls': ['a.example.com'], 'tcpPorts': '1-65535'"),
	        "set 7: tcpPorts", "65535 ports");
	refused(ALLOW7("'urls': ['a.example.com'], "
	               "'tcpPorts': '1-20000,20001-40000'"),
	        "set 7: tcpPorts", "40000 ports");
	refused(ALLOW7("'urls': ['a.example.com'], 'tcpPorts': '443', "
	               "'udpPorts': '1-65535'"),
	        "set 7: udpPorts", NULL);
	/* the bound: 32767 ports pass, 32768 do not */
	refused(ALLOW7("'urls': ['a.example.com'], 'tcpPorts': '1-32768'"),
	        "set 7: tcpPorts", NULL);
	accepted(ALLOW7("'urls': ['a.example.com'], 'tcpPorts': '1-32767'"));
	accepted(
	    ALLOW7("'urls': ['a.example.com'], 'tcpPorts': '80,443,3478-3481', "
	           "'udpPorts': '3478-3481'"));
	accepted(
	    ALLOW7("'urls': ['a.example.com'], 'tcpPorts': '10000-19999'"));
}

/* --- which sets are checked ------------------------------------------ */

#define CLOUDAPP                                                               \
	"[" SET(1, "Allow", "'urls': ['teams.microsoft.com']") ", " SET(       \
	    2, "Default", "'urls': ['*.cloudapp.net']") "]"

TEST(test_unselected_default_set_may_be_broad)
{
	struct m365_endpoints *ep = parse(CLOUDAPP);
	struct m365_policy p;

	ep_ok(ep, NULL);
	policy(&p, NULL, NULL);
	ep_ok(ep, &p);
	m365_policy_free(&p);
	policy(&p, ALL, NULL);
	ep_refused(ep, &p, "set 2: urls[0]", "\"*.cloudapp.net\"");
	m365_policy_free(&p);
	policy(&p, "Default", NULL);
	ep_refused(ep, &p, "set 2: urls[0]", NULL);
	m365_policy_free(&p);
	m365_endpoints_free(ep);
}

TEST(test_policy_checks_only_the_sets_it_selects)
{
	struct m365_endpoints *ep = parse(
	    "[" SETA(1, "Allow", "Exchange",
	             "'ips': ['52.96.0.0/11']") ", " SETA(2, "Allow", "Skype",
	                                                  "'urls': "
	                                                  "['teams.microsoft."
	                                                  "com']") "]");
	struct m365_policy p;

	ep_refused(ep, NULL, "set 1: ips[0]", NULL);
	policy(&p, NULL, "Skype");
	ep_ok(ep, &p);
	m365_policy_free(&p);
	policy(&p, "Optimize", NULL);
	ep_ok(ep, &p);
	m365_policy_free(&p);
	policy(&p, NULL, "Exchange");
	ep_refused(ep, &p, "set 1: ips[0]", NULL);
	m365_policy_free(&p);
	m365_endpoints_free(ep);
}

TEST(test_list_build_refuses_a_broad_selected_set)
{
	struct m365_endpoints *ep = parse(CLOUDAPP);
	struct m365_policy p;
	struct m365_list *l;
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	policy(&p, ALL, NULL);
	assert_null(m365_list_build(ep, NULL, &p, &err)); /* takes ep */
	m365_policy_free(&p);
	assert_int_equal(err.code, M365_E_REFUSED);
	assert_non_null(strstr(err.msg, "set 2: urls[0]"));
	ep = parse(CLOUDAPP);
	policy(&p, NULL, NULL);
	l = m365_list_build(ep, NULL, &p, &err);
	m365_policy_free(&p);
	if (l == NULL)
		fail_msg("build: %s", err.msg);
	m365_list_unref(l);
}

/* --- Microsoft's real lists ------------------------------------------ */

static struct m365_endpoints *
load(const char *path)
{
	struct m365_err err;
	struct m365_endpoints *ep = m365_endpoints_load_file(path, &err);

	if (ep == NULL)
		fail_msg("%s", err.msg);
	return ep;
}

TEST(test_every_fixture_passes_without_default)
{
	glob_t g;
	size_t i;
	struct m365_policy def, all;

	assert_int_equal(glob(FIXTURES "/*.json", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 9);
	policy(&def, NULL, NULL);
	policy(&all, ALL, NULL);
	for (i = 0; i < g.gl_pathc; i++) {
		struct m365_endpoints *ep = load(g.gl_pathv[i]);
		ep_ok(ep, NULL);
		ep_ok(ep, &def);
		/* only the 2021 list has a broad Default set */
		if (strstr(g.gl_pathv[i], "2021") == NULL)
			ep_ok(ep, &all);
		m365_endpoints_free(ep);
	}
	m365_policy_free(&def);
	m365_policy_free(&all);
	globfree(&g);
}

TEST(test_bundled_list_passes)
{
	struct m365_err err;
	struct m365_endpoints *ep = m365_endpoints_load_bundled(&err);

	assert_non_null(ep);
	ep_ok(ep, NULL);
	m365_endpoints_free(ep);
}

TEST(test_2021_list_fails_once_default_is_selected)
{
	struct m365_endpoints *ep = load(W21);
	struct m365_policy p;

	ep_ok(ep, NULL);
	policy(&p, ALL, NULL);
	ep_refused(ep, &p, "set 72: urls[0]", "\"*.cloudapp.net\"");
	m365_policy_free(&p);
	/* Default without the Common area passes */
	policy(&p, ALL, "SharePoint,Exchange,Skype");
	ep_ok(ep, &p);
	m365_policy_free(&p);
	m365_endpoints_free(ep);
}

/* --- local lists ----------------------------------------------------- */

static struct m365_local *
local_ok(const char *text)
{
	struct m365_err err;
	struct m365_local *l;

	memset(&err, 0, sizeof(err));
	l = m365_local_parse(text, strlen(text), LSRC, &err);
	if (l == NULL)
		fail_msg("\"%s\" refused: %s", text, err.msg);
	memset(&err, 0, sizeof(err));
	if (m365_breadth_check_local(l, &err) != 0)
		fail_msg("\"%s\": check refused: %s", text, err.msg);
	return l;
}

/* "# c\n" RULE: refused at line 2, the message naming the rule. */
static void
local_refused(const char *rule, const char *want)
{
	struct m365_err err;
	struct m365_local *l;
	char text[256], prefix[64];

	snprintf(text, sizeof(text), "# header\n%s\n", rule);
	memset(&err, 0, sizeof(err));
	l = m365_local_parse(text, strlen(text), LSRC, &err);
	if (l != NULL) {
		m365_local_free(l);
		fail_msg("\"%s\" accepted", rule);
	}
	assert_int_equal(err.code, M365_E_REFUSED);
	snprintf(prefix, sizeof(prefix), "%s:2: ", LSRC);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
	    strstr(err.msg, rule) == NULL ||
	    (want != NULL && strstr(err.msg, want) == NULL))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\", the rule or "
		         "\"%s\"",
		         rule, err.msg, prefix, want ? want : "");
}

TEST(test_broad_local_bypass_rules_are_refused_with_line)
{
	local_refused("bypass *", NULL);
	local_refused("bypass *.com", "top-level domain");
	local_refused("bypass *.co.uk", "public suffix");
	local_refused("bypass 0.0.0.0/0", "/12");
	local_refused("bypass 10.0.0.0/11", NULL);
	local_refused("bypass ::/0", "/29");
	local_refused("bypass ::ffff:0:0/96", NULL);
	local_refused("bypass re:.*", "literal domain");
	local_refused("bypass re:\\.com$", "public suffix");
	local_refused("bypass re:\\.co\\.uk$", "public suffix");
	local_refused("bypass re:^[0-9.]+$", "literal domain");
	local_refused("bypass re:^.*$", NULL);
	local_refused("bypass re:(?i)COM$", NULL);
	local_refused("bypass re:(?i)BB", "literal domain");
	local_refused("bypass re:\\\\.example\\.net$", "literal domain");
	/* ends in a domain, but matches names at large: the canaries */
	local_refused("bypass re:.*|\\.example\\.net$", "names at large");
	local_refused("bypass re:\\.0\\.0$", "numbers");
	local_refused("bypass re:^10\\.1$", "numbers");
	local_refused("bypass 64:ff9b::/96", "NAT64");
	local_refused("bypass 64:ff9b::/64", "all of IPv4");
	local_refused("bypass ::/29", "all of IPv4");
}

TEST(test_never_rules_may_be_broad)
{
	struct m365_local *l = local_ok("never *.com\n"
	                                "never 0.0.0.0/0\n"
	                                "never ::/0\n"
	                                "never re:.*\n"
	                                "never *\n");

	assert_int_equal(l->n_rules, 5);
	m365_local_free(l);
}

TEST(test_narrow_local_bypass_rules_are_accepted)
{
	struct m365_local *l =
	    local_ok("bypass re:^meet[0-9]+\\.example\\.net$\n"
	             "bypass *.zoom.us\n"
	             "bypass 203.0.113.0/24\n"
	             "bypass 10.0.0.0/12\n"
	             "bypass 2001:db8::/32\n"
	             "bypass *cdn.example.org\n");

	assert_int_equal(l->n_rules, 6);
	assert_false((l->rules[0].flags & M365_RULE_BACKTRACKS));
	assert_null(m365_rule_warning(&l->rules[0]));
	assert_null(m365_rule_warning(&l->rules[1]));
	m365_local_free(l);
}

TEST(test_local_ipv4_total_is_bounded)
{
	char text[1024];
	size_t off = 0, i;
	struct m365_err err;
	struct m365_local *l;

	/* 16 /12s are 2^24 addresses: the most */
	for (i = 0; i < 16; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		                        "bypass %zu.%zu.0.0/12\n", 20 + i / 16,
		                        (i % 16) * 16);
	l = local_ok(text);
	m365_local_free(l);
	snprintf(text + off, sizeof(text) - off, "bypass 30.0.0.0/12\n");
	memset(&err, 0, sizeof(err));
	assert_null(m365_local_parse(text, strlen(text), LSRC, &err));
	assert_int_equal(err.code, M365_E_REFUSED);
	if (strstr(err.msg, LSRC ":17: bypass 30.0.0.0/12") == NULL ||
	    strstr(err.msg, "IPv4 addresses") == NULL)
		fail_msg("message \"%s\" does not name the rule and the "
		         "total",
		         err.msg);
}

TEST(test_check_local_refuses_a_broad_rule_turned_bypass)
{
	struct m365_local *l = local_ok("never a.example.org\nnever *.com\n");
	struct m365_err err;

	/* the check itself, not only the parser, refuses it */
	l->rules[1].verb = M365_VERB_BYPASS;
	memset(&err, 0, sizeof(err));
	assert_int_equal(m365_breadth_check_local(l, &err), -1);
	assert_int_equal(err.code, M365_E_REFUSED);
	assert_non_null(strstr(err.msg, LSRC ":2: "));
	m365_local_free(l);
}

/* A regex PCRE2 must run (a lookahead: no automaton covers it) that
 * backtracks badly. */
#define BACKTRACKS "re:^(?=a)(a+)+\\.example\\.net$"

TEST(test_backtracking_regex_is_accepted_with_a_warning)
{
	struct m365_local *l =
	    local_ok("bypass " BACKTRACKS "\n"
	             "bypass re:^meet[0-9]+\\.example\\.net$\n"
	             "bypass re:^(a+)+\\.example\\.net$\n");
	const char *w;

	assert_true((l->rules[0].flags & M365_RULE_BACKTRACKS));
	w = m365_rule_warning(&l->rules[0]);
	assert_non_null(w);
	assert_non_null(strstr(w, "backtracks"));
	assert_false((l->rules[1].flags & M365_RULE_BACKTRACKS));
	assert_null(m365_rule_warning(&l->rules[1]));
	/* the same nesting without the lookahead runs as an automaton,
	 * which cannot backtrack: no warning */
	assert_false((l->rules[2].flags & M365_RULE_BACKTRACKS));
	m365_local_free(l);
}

/* The worldwide 2025 list with the default policy and local list text. */
static struct m365_list *
with_local(const char *text)
{
	struct m365_err err;
	struct m365_endpoints *ep = load(WW);
	struct m365_local *loc = local_ok(text);
	struct m365_policy p;
	struct m365_list *l;

	policy(&p, NULL, NULL);
	memset(&err, 0, sizeof(err));
	l = m365_list_build(ep, loc, &p, &err);
	m365_policy_free(&p);
	if (l == NULL)
		fail_msg("build: %s", err.msg);
	return l;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Mean time of 100 classifications of name, in ms; each must be ERR. */
static double
mean_err_ms(const struct m365_list *l, const char *name)
{
	struct m365_verdict v;
	double t0 = now_ms();
	int i;

	for (i = 0; i < 100; i++) {
		m365_classify(l, name, "443", NULL, &v);
		if (v.result != M365_ERR)
			fail_msg("%.20s...: answered OK (why %d)", name,
			         (int)v.why);
	}
	return (now_ms() - t0) / 100;
}

TEST(test_backtracking_regex_fails_closed_quickly)
{
	struct m365_list *l = with_local("bypass " BACKTRACKS "\n");
	struct m365_verdict v;
	char one_label[300], labels[300];
	double ms;

	/* the rule works on a name it can judge */
	m365_classify(l, "aaaa.example.net", "443", NULL, &v);
	assert_int_equal(v.result, M365_OK);
	assert_int_equal(v.why, M365_WHY_LOCAL);
	/* and only ever in its domain */
	m365_classify(l, "aaaa.example.net.evil.test", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	m365_classify(l, "xexample.net", "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);

	/* 250 'a's then ".b" */
	memset(one_label, 'a', 250);
	strcpy(one_label + 250, ".b");
	ms = mean_err_ms(l, one_label);
	if (ms >= 5.0)
		fail_msg("250 a's: %.3f ms per request", ms);

	/* the same as a valid host name (labels of at most 63), which the
	 * regex is run on: it hits the match limit, so no match */
	memset(labels, 'a', 236);
	labels[63] = labels[127] = labels[191] = '.';
	strcpy(labels + 236, "b.example.net");
	assert_int_equal(strlen(labels), 249);
	m365_classify(l, labels, "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(v.why, M365_WHY_NO_MATCH);
	ms = mean_err_ms(l, labels);
	if (ms >= 5.0)
		fail_msg("labels of a's: %.3f ms per request", ms);
	m365_list_unref(l);
}

/* The nesting that makes PCRE2 backtrack, run as an automaton: the right
 * answer on every name, at once. */
TEST(test_nested_quantifier_regex_answers_as_an_automaton)
{
	struct m365_list *l = with_local("bypass re:^(a+)+\\.example\\.net$\n");
	struct m365_verdict v;
	char labels[300];
	double ms;

	/* 63 a's: a match */
	memset(labels, 'a', 63);
	strcpy(labels + 63, ".example.net");
	m365_classify(l, labels, "443", NULL, &v);
	assert_int_equal(v.result, M365_OK);
	assert_int_equal(v.why, M365_WHY_LOCAL);
	/* labels of a's then a 'b': no match, and no "pattern evaluation
	 * failed" either (PCRE2 would run out of its match limit) */
	memset(labels, 'a', 236);
	labels[63] = labels[127] = labels[191] = '.';
	strcpy(labels + 236, "b.example.net");
	m365_classify(l, labels, "443", NULL, &v);
	assert_int_equal(v.result, M365_ERR);
	assert_int_equal(v.why, M365_WHY_NO_MATCH);
	assert_null(v.message);
	ms = mean_err_ms(l, labels);
	if (ms >= 0.5)
		fail_msg("labels of a's: %.3f ms per request", ms);
	m365_list_unref(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_wider_than_slash_12_is_refused),
	    cmocka_unit_test(test_ipv6_wider_than_slash_29_is_refused),
	    cmocka_unit_test(test_ipv4_mapped_range_counts_as_ipv4),
	    cmocka_unit_test(
	        test_more_than_2_to_the_24_ipv4_addresses_are_refused),
	    cmocka_unit_test(
	        test_exactly_2_to_the_24_ipv4_addresses_are_accepted),
	    cmocka_unit_test(test_more_than_a_slash_24_of_ipv6_is_refused),
	    cmocka_unit_test(test_public_suffix_patterns_are_refused),
	    cmocka_unit_test(test_tld_and_match_all_patterns_are_refused),
	    cmocka_unit_test(test_microsoft_style_patterns_are_accepted),
	    cmocka_unit_test(test_glob_is_public),
	    cmocka_unit_test(test_ports_over_half_the_port_space_are_refused),
	    cmocka_unit_test(test_unselected_default_set_may_be_broad),
	    cmocka_unit_test(test_policy_checks_only_the_sets_it_selects),
	    cmocka_unit_test(test_list_build_refuses_a_broad_selected_set),
	    cmocka_unit_test(test_every_fixture_passes_without_default),
	    cmocka_unit_test(test_bundled_list_passes),
	    cmocka_unit_test(test_2021_list_fails_once_default_is_selected),
	    cmocka_unit_test(
	        test_broad_local_bypass_rules_are_refused_with_line),
	    cmocka_unit_test(test_never_rules_may_be_broad),
	    cmocka_unit_test(test_narrow_local_bypass_rules_are_accepted),
	    cmocka_unit_test(test_local_ipv4_total_is_bounded),
	    cmocka_unit_test(
	        test_check_local_refuses_a_broad_rule_turned_bypass),
	    cmocka_unit_test(
	        test_backtracking_regex_is_accepted_with_a_warning),
	    cmocka_unit_test(test_backtracking_regex_fails_closed_quickly),
	    cmocka_unit_test(
	        test_nested_quantifier_regex_answers_as_an_automaton),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
