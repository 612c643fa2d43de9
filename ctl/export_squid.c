/*
 * export_squid.c - m365ctl export squid: files for Squid's own ACLs
 * (dstdomain, dstdom_regex, dst, port), combined with all-of and any-of
 * into one "acl m365_bypass" that matches what the helper answers OK for
 * (without an SNI): a selected set's name or range at one of its TCP
 * ports, or a local bypass rule, and no local never rule.  See export.h.
 *
 * Per set, names go to a dstdomain file (exact names: no leading dot, so
 * not the subdomains), "*." suffixes and irregular globs to a
 * dstdom_regex file (so that *.x does not take x itself, as the contract
 * says), ranges to a dst file reached only for IP literal requests (no
 * DNS lookup for a name).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "fileio.h"
#include "m365_ports.h"
#include "redfa.h"

/* One ACL's file being written: DIR/NAME, in memory until the whole
 * export is. */
struct afile {
	char path[PATH_MAX];
	FILE *f; /* open_memstream()'s */
	char *text;
	size_t len, lines;
};

/* The finished files, written only once the whole export is: each
 * atomically (m365_write_file_atomic()), m365.conf last; an empty one is
 * removed instead (Squid warns of empty ACLs).  A failed export writes
 * nothing, so the files in use stay. */
struct outdir {
	struct afile *done;
	size_t n, cap;
	int oom;
};

/* What one group of rules (a set, the local bypass or never rules) has
 * in its three files. */
struct group {
	const char *name; /* "set-12", "local-bypass" */
	const char *dir;
	struct outdir *od;
	struct afile names, regex, dst;
	FILE *more;      /* acl lines of its bound regexes */
	char *more_text; /* (open_memstream's) */
	size_t more_len;
	char members[4096]; /* their acl names, " a b" */
};

static int
afile_open(struct afile *a, const char *dir, const char *name, const char *ext)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->path, sizeof(a->path), "%s/%s.%s", dir, name, ext);
	if ((a->f = open_memstream(&a->text, &a->len)) == NULL) {
		fprintf(stderr, "m365ctl export: out of memory\n");
		return -1;
	}
	return 0;
}

/* Finishes a file into od, or drops it (keep 0); 0 or -1. */
static int
afile_close(struct outdir *od, struct afile *a, int keep)
{
	int bad = a->f == NULL || fclose(a->f) != 0;
	struct afile *d;

	a->f = NULL;
	if (!bad && keep && od->n == od->cap) {
		size_t cap = od->cap ? od->cap * 2 : 32;
		if ((d = realloc(od->done, cap * sizeof(*d))) == NULL) {
			bad = 1;
		} else {
			od->done = d;
			od->cap = cap;
		}
	}
	if (bad || !keep) {
		free(a->text);
		a->text = NULL;
		if (bad)
			fprintf(stderr, "m365ctl export: out of memory\n");
		return bad ? -1 : 0;
	}
	od->done[od->n++] = *a; /* its text now od's */
	return 0;
}

/* Writes od's files, then frees them; 0, or -1 after a message. */
static int
outdir_write(struct outdir *od)
{
	struct m365_err err;
	size_t i;
	int rc = 0;

	for (i = 0; i < od->n; i++) {
		struct afile *a = &od->done[i];
		if (rc == 0 && a->lines == 0 && unlink(a->path) != 0 &&
		    errno != ENOENT) {
			fprintf(stderr, "m365ctl export: %s: %s\n", a->path,
			        strerror(errno));
			rc = -1;
		} else if (rc == 0 && a->lines > 0 &&
		           m365_write_file_atomic(a->path, a->text, a->len,
		                                  &err) < 0) {
			fprintf(stderr, "m365ctl export: %s\n", err.msg);
			rc = -1;
		}
	}
	return rc;
}

static void
outdir_free(struct outdir *od)
{
	size_t i;

	for (i = 0; i < od->n; i++)
		free(od->done[i].text);
	free(od->done);
}

static void
line(struct afile *a, const char *s)
{
	fprintf(a->f, "%s\n", s);
	a->lines++;
}

/* A glob as a POSIX regex of the whole name: '*' any run, '.' literal;
 * a leading or trailing '*' as no anchor there (Squid warns of "^.*"). */
static void
glob_ere(const char *g, char *buf, size_t len)
{
	size_t at = 0, n = strlen(g), i = 0, stop = n;
	int trail = n > 1 && g[n - 1] == '*';

	if (n > 0 && g[0] == '*')
		i = 1;
	else
		buf[at++] = '^';
	if (trail)
		stop = n - 1;
	for (; i < stop && at + 4 < len; i++) {
		if (g[i] == '*') {
			buf[at++] = '.';
			buf[at++] = '*';
		} else if (g[i] == '.') {
			buf[at++] = '\\';
			buf[at++] = '.';
		} else {
			buf[at++] = g[i];
		}
	}
	if (!trail)
		buf[at++] = '$';
	buf[at] = '\0';
}

/* A name pattern into the group's files. */
static void
add_glob(struct group *g, const char *pat)
{
	char re[1100];

	if (strchr(pat, '*') == NULL) {
		line(&g->names, pat);
		return;
	}
	glob_ere(pat, re, sizeof(re));
	line(&g->regex, re);
}

/* A range into the group's dst file (IPv4 in IPv6 as IPv4). */
static void
add_cidr(struct group *g, struct m365_cidr c)
{
	struct m365_cidr v4;
	char buf[64];

	if (m365_cidr_v4_part(&c, &v4) == M365_CIDR_V4_ONLY)
		c = v4;
	xm_cidr_text(&c, buf, sizeof(buf));
	line(&g->dst, buf);
}

static int
group_open(struct group *g, struct outdir *od, const char *dir,
           const char *name)
{
	memset(g, 0, sizeof(*g));
	g->name = name;
	g->dir = dir;
	g->od = od;
	if ((g->more = open_memstream(&g->more_text, &g->more_len)) == NULL)
		return -1;
	if (afile_open(&g->names, dir, name, "names") < 0 ||
	    afile_open(&g->regex, dir, name, "regex") < 0 ||
	    afile_open(&g->dst, dir, name, "dst") < 0)
		return -1;
	return 0;
}

static int
group_close(struct group *g, int keep)
{
	int a = afile_close(g->od, &g->names, keep),
	    b = afile_close(g->od, &g->regex, keep),
	    c = afile_close(g->od, &g->dst, keep);

	if (g->more != NULL && fflush(g->more) != 0)
		a = -1;
	return a < 0 || b < 0 || c < 0 ? -1 : 0;
}

/* Frees what a closed group still holds (its acl lines' text). */
static void
group_done(struct group *g)
{
	if (g->more != NULL)
		fclose(g->more);
	g->more = NULL;
	free(g->more_text);
	g->more_text = NULL;
}

/* The acl lines of a group, ending with "acl m365_NAME any-of ...";
 * 0 when it has nothing (no acl written). */
static int
group_acls(FILE *f, struct group *g, const char *acl)
{
	char any[4608] = "";
	size_t n = 0;

	if (g->names.lines > 0) {
		fprintf(f, "acl %s_names dstdomain -n \"%s\"\n", acl,
		        g->names.path);
		n += (size_t)snprintf(any + n, sizeof(any) - n, " %s_names",
		                      acl);
	}
	if (g->regex.lines > 0) {
		fprintf(f, "acl %s_regex dstdom_regex -n -i \"%s\"\n", acl,
		        g->regex.path);
		n += (size_t)snprintf(any + n, sizeof(any) - n, " %s_regex",
		                      acl);
	}
	if (g->dst.lines > 0) {
		fprintf(f, "acl %s_dst dst \"%s\"\n", acl, g->dst.path);
		fprintf(f, "acl %s_ip all-of m365_ip_literal %s_dst\n", acl,
		        acl);
		n += (size_t)snprintf(any + n, sizeof(any) - n, " %s_ip", acl);
	}
	if (g->more_len > 0) {
		fputs(g->more_text, f);
		n += (size_t)snprintf(any + n, sizeof(any) - n, "%s",
		                      g->members);
	}
	if (n == 0)
		return 0;
	fprintf(f, "acl %s any-of%s\n", acl, any);
	return 1;
}

/*
 * A bypass regex matches only names that are its domain or under it: its
 * own dstdom_regex file, and an acl of both that and a dstdomain of
 * ".domain" (which Squid reads as the domain and its subdomains, never
 * an IP literal).  A regex bound to a domain no host has matches
 * nothing: left out.
 */
static int
bound_regex(struct group *g, const struct m365_rule *r, const char *re)
{
	struct afile a;
	char name[64];
	size_t n = strlen(g->members);

	if (r->domain == NULL)
		return 0;
	snprintf(name, sizeof(name), "%s-re-%u", g->name, r->line);
	if (afile_open(&a, g->dir, name, "regex") < 0)
		return -1;
	line(&a, re);
	if (afile_close(g->od, &a, 1) < 0)
		return -1;
	fprintf(g->more,
	        "acl m365_local_bypass_re_%u_dom dstdomain -n .%s\n"
	        "acl m365_local_bypass_re_%u_re dstdom_regex -n -i \"%s\"\n"
	        "acl m365_local_bypass_re_%u all-of "
	        "m365_local_bypass_re_%u_dom m365_local_bypass_re_%u_re\n",
	        r->line, r->domain, r->line, a.path, r->line, r->line, r->line);
	snprintf(g->members + n, sizeof(g->members) - n,
	         " m365_local_bypass_re_%u", r->line);
	return 0;
}

/* The local list's rules of one verb into g; -1 after a message for a
 * regex POSIX cannot say the same as. */
static int
local_group(struct group *g, const struct m365_local *loc, int verb)
{
	char re[4096];
	struct m365_cidr c;
	size_t i;

	for (i = 0; loc && i < loc->n_rules; i++) {
		const struct m365_rule *r = &loc->rules[i];
		if (r->verb != verb)
			continue;
		if (r->kind == M365_RULE_GLOB) {
			add_glob(g, r->glob);
		} else if (r->kind == M365_RULE_CIDR) {
			m365_rule_cidr(r, &c);
			add_cidr(g, c);
		} else if (redfa_to_ere(r->text + 3, strlen(r->text + 3), re,
		                        sizeof(re)) < 0) {
			fprintf(
			    stderr,
			    "m365ctl export: %s:%u: %s: Squid's regular "
			    "expressions cannot say the same (only literals, "
			    "classes, groups, alternatives, quantifiers and "
			    "^ $ at the ends can be)\n",
			    loc->source, r->line, r->text);
			return -1;
		} else if (verb == M365_VERB_BYPASS) {
			if (bound_regex(g, r, re) < 0)
				return -1;
		} else {
			/* a never regex: any host's text, an IPv6 literal's
			 * as Squid shows it, in brackets */
			line(&g->regex, re);
			if (redfa_to_ere_bracketed(r->text + 3,
			                           strlen(r->text + 3), re,
			                           sizeof(re)) == 0)
				line(&g->regex, re);
		}
	}
	return 0;
}

/* The port acl of a set: "acl NAME port 80 443 3478-3481". */
static void
port_acl(FILE *f, const char *acl, const struct m365_ports *p)
{
	size_t k;

	fprintf(f, "acl %s port", acl);
	for (k = 0; k < p->n; k++)
		if (p->r[k].lo == p->r[k].hi)
			fprintf(f, " %u", (unsigned)p->r[k].lo);
		else
			fprintf(f, " %u-%u", (unsigned)p->r[k].lo,
			        (unsigned)p->r[k].hi);
	fputc('\n', f);
}

/* One selected set: its files and acls; appends its acl to any. */
static int
one_set(FILE *f, struct outdir *od, const char *dir, const struct xm_set *x,
        char *any, size_t len)
{
	char name[64], acl[48], dest[64];
	struct group g;
	size_t k, n = strlen(any);
	int has;

	snprintf(name, sizeof(name), "set-%lld", (long long)x->s->id);
	snprintf(acl, sizeof(acl), "m365_set_%lld", (long long)x->s->id);
	snprintf(dest, sizeof(dest), "%s_dest", acl);
	if (!x->s->has_tcp || x->s->tcp.n == 0) {
		fprintf(f,
		        "# set %lld (%s %s): no tcpPorts, so never a "
		        "bypass for a known port\n",
		        (long long)x->s->id, x->s->category_name,
		        x->s->service_area);
		return 0;
	}
	if (group_open(&g, od, dir, name) < 0) {
		group_close(&g, 0);
		group_done(&g);
		return -1;
	}
	for (k = 0; k < x->n_urls; k++)
		add_glob(&g, x->urls[k]);
	for (k = 0; k < x->s->n_ips; k++)
		add_cidr(&g, x->s->ips[k]);
	if (group_close(&g, 1) < 0) {
		group_done(&g);
		return -1;
	}
	fprintf(f, "# set %lld: %s, %s\n", (long long)x->s->id,
	        x->s->category_name, x->s->service_area);
	has = group_acls(f, &g, dest);
	group_done(&g);
	if (has == 0)
		return 0;
	snprintf(name, sizeof(name), "%s_port", acl);
	port_acl(f, name, &x->s->tcp);
	fprintf(f, "acl %s all-of %s %s\n", acl, dest, name);
	snprintf(any + n, len - n, " %s", acl);
	return 0;
}

/* The local list's rules of one verb: files and acls; 1 when it has
 * any, 0 when not, -1 after a message. */
static int
one_local(FILE *f, struct outdir *od, const char *dir,
          const struct m365_local *loc, int verb)
{
	const char *name =
	    verb == M365_VERB_NEVER ? "local-never" : "local-bypass";
	const char *acl =
	    verb == M365_VERB_NEVER ? "m365_local_never" : "m365_local_bypass";
	struct group g;
	int rc;

	if (group_open(&g, od, dir, name) < 0 ||
	    local_group(&g, loc, verb) < 0) {
		group_close(&g, 0);
		group_done(&g);
		return -1;
	}
	rc = group_close(&g, 1) < 0 ? -1 : group_acls(f, &g, acl);
	group_done(&g);
	return rc;
}

int
export_squid(const char *dir, const struct xm *m, const struct export_opts *o)
{
	char abs[PATH_MAX], sets[8192] = "", any[256] = "";
	struct outdir od = {NULL, 0, 0, 0};
	struct afile conf;
	size_t i;
	int never = 0, bypass = 0, rc;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "m365ctl export: %s: %s\n", dir,
		        strerror(errno));
		return -1;
	}
	if (realpath(dir, abs) == NULL) {
		fprintf(stderr, "m365ctl export: %s: %s\n", dir,
		        strerror(errno));
		return -1;
	}
	if (strpbrk(abs, "\"\\") != NULL || strcmp(abs, xm_clean(abs)) != 0) {
		fprintf(stderr,
		        "m365ctl export: %s: a directory Squid's "
		        "configuration cannot name (quote, backslash or "
		        "control character)\n",
		        dir);
		return -1;
	}
	if (afile_open(&conf, abs, "m365", "conf") < 0)
		return -1;
	fprintf(conf.f,
	        "# Squid ACLs written by %s\n# list: %s\n# policy: %s\n"
	        "# local list: %s\n#\n"
	        "# acl m365_bypass matches what ext_m365_acl answers OK for\n"
	        "# (without an SNI).  Use it in squid.conf after\n"
	        "#   include %s/m365.conf\n"
	        "# for example before the authentication rules:\n"
	        "#   http_access allow m365_bypass\n"
	        "#   ssl_bump splice m365_bypass\n\n"
	        "# an IP literal request, as Squid shows one (dst looks other\n"
	        "# names up in the DNS)\n"
	        "acl m365_ip_literal dstdom_regex -n "
	        "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
	        "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$ ^\\[\n",
	        o->command, m->origin, m->policy, m->local_name, abs);
	conf.lines++;
	for (i = 0; i < m->n_set; i++)
		if (one_set(conf.f, &od, abs, &m->set[i], sets, sizeof(sets)) <
		    0)
			goto fail;
	if (sets[0] != '\0') {
		fprintf(conf.f, "acl m365_sets any-of%s\n", sets);
		snprintf(any, sizeof(any), " m365_sets");
	}
	if (m->local != NULL) {
		if ((bypass = one_local(conf.f, &od, abs, m->local,
		                        M365_VERB_BYPASS)) < 0 ||
		    (never = one_local(conf.f, &od, abs, m->local,
		                       M365_VERB_NEVER)) < 0)
			goto fail;
	}
	if (bypass)
		snprintf(any + strlen(any), sizeof(any) - strlen(any),
		         " m365_local_bypass");
	if (any[0] == '\0')
		fprintf(conf.f, "# nothing is a bypass\n"
		                "acl m365_bypass dstdomain -n "
		                "nothing.m365-bypass.invalid\n");
	else if (never)
		fprintf(conf.f,
		        "acl m365_any any-of%s\n"
		        "acl m365_bypass all-of !m365_local_never m365_any\n",
		        any);
	else
		fprintf(conf.f, "acl m365_bypass any-of%s\n", any);
	rc = afile_close(&od, &conf, 1) < 0 ? -1 : outdir_write(&od);
	outdir_free(&od);
	return rc;
fail:
	afile_close(&od, &conf, 0);
	outdir_free(&od);
	return -1;
}
