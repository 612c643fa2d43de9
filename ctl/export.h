/*
 * export.h - m365ctl export: the list in use, flattened for other tools
 * (PAC files, nftables sets, Squid's own ACLs, plain and JSON lists).
 *
 * Every format is written from one model: the sets the policy selects,
 * best first (the contract's order: Optimize, Allow, Default, then id),
 * with Microsoft's tenant placeholders filled in when --tenant is given,
 * and the local list's rules.
 */
#ifndef M365CTL_EXPORT_H
#define M365CTL_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "listsrc.h"
#include "m365_list.h"

/* One selected set. */
struct xm_set {
	const struct m365_set *s;
	const char **urls; /* its urls, tenant placeholders filled in */
	size_t n_urls;
};

/* What an export writes. */
struct xm {
	const struct m365_list *l;
	struct xm_set *set; /* the selected sets, best first */
	size_t n_set;
	const struct m365_local *local; /* or NULL */
	const char *tenant;             /* --tenant, or NULL */
	/* for the files' headers, each control character as '?' (a
	 * newline in a file name must not end a comment) */
	char origin[320];     /* where the list came from */
	char policy[256];     /* the policy, described */
	char local_name[512]; /* the local list's file, or "none" */
	char *arena;          /* the filled-in urls */
};

/* The options of the formats. */
struct export_opts {
	const char *direct;      /* pac: --direct ("DIRECT") */
	const char *proxy;       /* pac: --proxy (the rest) */
	const char *allow_proxy; /* pac: --allow-proxy, or NULL */
	const char *kind;        /* text: names, ranges, ipv4, ipv6, all */
	const char *command;     /* the command line, for headers */
};

/* Writes one export: format fn (or squid) to out or stdout. */
typedef int (*format_fn)(FILE *f, const struct xm *m,
                         const struct export_opts *o);

/* One export as the command line asks for it. */
struct export_job {
	struct listsrc src;
	struct export_opts o;
	const char *tenant, *out, *exec;
	format_fn fn; /* NULL for squid */
	int squid, watch, poll_s;
};

/*
 * Loads the list, builds the model and writes the export.  Returns 0, 1
 * (a rule the format cannot express), 2 (input) or 4 (Redis, files).
 */
int export_run(struct export_job *j);

/*
 * --watch: export_run() now, then again whenever Redis's current version
 * or the local list file changes (looked at every poll_s seconds) or on
 * SIGHUP, each time followed by the --exec command; until SIGTERM or
 * SIGINT.  A failed export or command is logged and the files that were
 * there stay; the next change tries again.  Returns 0 when stopped.
 */
int export_watch(struct export_job *j);

/*
 * Builds the model of list l (origin: where it came from).  Returns 0, or
 * -1 when out of memory.  Free with xm_free().
 */
int xm_build(struct xm *m, const struct m365_list *l, const char *origin,
             const char *tenant);

void xm_free(struct xm *m);

/*
 * url with the tenant placeholder filled in: a '*' that is a whole label
 * after the first ("autodiscover.*.onmicrosoft.com") or starts the first
 * label before a '-' ("*-files.sharepoint.com").  Writes into buf (of
 * len bytes) and returns it, or returns url itself when it has no
 * placeholder (or tenant is NULL).
 */
const char *xm_tenant_url(const char *url, const char *tenant, char *buf,
                          size_t len);

/* An address as an integer: IPv4 in the low 32 bits. */
__extension__ typedef unsigned __int128 xm_u128;

/*
 * The ranges c stands for, as the matcher takes them
 * (m365_cidr_v4_part()): c itself, or the IPv4 range it writes as IPv6,
 * or both c and 0.0.0.0/0 when it holds every IPv4 address.  Writes them
 * into out and returns how many (1 or 2).
 */
size_t xm_cidr_ranges(const struct m365_cidr *c, struct m365_cidr out[2]);

/* c's first and last addresses as integers. */
void xm_cidr_bounds(const struct m365_cidr *c, xm_u128 *lo, xm_u128 *hi);

/* Replaces every control character of s with '?'; returns s. */
char *xm_clean(char *s);

/* Range c as CIDR text ("52.112.0.0/14") into buf. */
void xm_cidr_text(const struct m365_cidr *c, char *buf, size_t len);

/*
 * The formats: each writes the whole export to f and returns 0, or -1
 * after printing "m365ctl export: reason" (a rule it cannot express).
 */
int export_text(FILE *f, const struct xm *m, const struct export_opts *o);
int export_json(FILE *f, const struct xm *m, const struct export_opts *o);
int export_nft(FILE *f, const struct xm *m, const struct export_opts *o);
int export_pac(FILE *f, const struct xm *m, const struct export_opts *o);

/*
 * squid: the files of Squid's ACLs and the m365.conf that combines them
 * into "acl m365_bypass", in directory dir (made when missing), each
 * replaced whole.  0, or -1 after a message.
 */
int export_squid(const char *dir, const struct xm *m,
                 const struct export_opts *o);

#endif
