/*
 * m365_options.h - what a front end's options say to load, and how that
 * front end names them in messages.
 *
 * Every front end takes the same options under its own names: the helper's
 * `--categories` is c-icap's `m365_bypass.Categories`.  The library never
 * knows a front end's spelling; the front end passes its names, and the
 * library's messages use them ("m365_bypass.Categories: unknown category
 * ...").  Without names, messages use neutral ones ("categories: ...").
 */
#ifndef M365_OPTIONS_H
#define M365_OPTIONS_H

#include <stddef.h>

/* How a front end names each option in messages; NULL for neutral. */
struct m365_option_names {
	const char *list;          /* "--list", "m365_bypass.ListFile" */
	const char *local;         /* "--local", "m365_bypass.LocalList" */
	const char *categories;    /* "--categories", ... */
	const char *service_areas; /* "--service-areas", ... */
	const char *redis;         /* "--redis", "m365_bypass.Redis" */
	const char *cache;         /* "--cache", "m365_bypass.Cache" */
	const char *auth_file;     /* "--redis-auth-file", ... */
	const char *verify_key;    /* "--verify-key", "m365_bypass.VerifyKey" */
	const char *local_max_bytes; /* "--local-max-bytes", ... */
};

struct m365_verdict;

/*
 * A front end's answer text for a verdict (Squid's "OK m365_category=..."),
 * written into buf (len bytes); returns its length, or -1 when it does not
 * fit.  A list built with one holds the text of every verdict it can give,
 * built once with the list, so that the request path copies bytes.
 */
typedef int (*m365_answer_fn)(const struct m365_verdict *v, char *buf,
                              size_t len);

/* What the options say to load (contract.md, options table). */
struct m365_options {
	const char *list;          /* endpoint JSON file, NULL for bundled */
	const char *local;         /* local list file, or NULL */
	const char *categories;    /* NULL for the default */
	const char *service_areas; /* NULL for all */
	const struct m365_option_names *names; /* NULL for neutral names */
	m365_answer_fn answer; /* the answer texts to build, or NULL */
	/* largest local list read, 0 for M365_LOCAL_MAX_BYTES */
	size_t local_max_bytes;
};

/*
 * The name of option FIELD in messages: the front end's when it gave one,
 * else dflt.
 */
#define M365_OPTION_NAME(names, field, dflt)                                   \
	((names) != NULL && (names)->field != NULL ? (names)->field : (dflt))

#endif
