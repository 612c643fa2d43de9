/*
 * m365_list.h - a compiled, immutable list: Microsoft's endpoints, the local
 * list and the policy, with the matcher built over them.
 *
 * A list is built once and never changed; a new version is built beside it
 * and swapped in whole.  Lists are reference-counted so that a reader that
 * took a reference keeps a valid list while another thread swaps.
 */
#ifndef M365_LIST_H
#define M365_LIST_H

#include <stddef.h>

#include "m365_endpoints.h"
#include "m365_err.h"
#include "m365_local.h"
#include "m365_policy.h"

struct m365_list;

/* What the front ends' options say to load (contract.md, options table). */
struct m365_options {
	const char *list;          /* --list FILE, NULL for the bundled list */
	const char *local;         /* --local FILE, or NULL */
	const char *categories;    /* --categories, NULL for the default */
	const char *service_areas; /* --service-areas, NULL for all */
};

/*
 * Builds a list from its parts and takes ownership of ep and local (local
 * may be NULL) whether it succeeds or not; the policy is copied.  Fails when
 * the policy selects no set and the local list has no bypass rule, or when a
 * pattern cannot be compiled.  Returns the list with one reference, or NULL
 * with err set.
 */
struct m365_list *m365_list_build(struct m365_endpoints *ep,
                                  struct m365_local *local,
                                  const struct m365_policy *policy,
                                  struct m365_err *err);

/*
 * Builds a list from ep (taking ownership) with the local list and policy
 * the options name (opt->list is ignored).  NULL with err set on failure.
 */
struct m365_list *m365_list_build_opt(struct m365_endpoints *ep,
                                      const struct m365_options *opt,
                                      struct m365_err *err);

/*
 * Loads everything the options name and builds the list: the one call every
 * front end makes.  Returns NULL with err set on any failure.
 */
struct m365_list *m365_list_load(const struct m365_options *opt,
                                 struct m365_err *err);

/* Takes one more reference; returns l.  Thread-safe. */
struct m365_list *m365_list_ref(struct m365_list *l);

/* Drops a reference and frees the list with the last one.  NULL is a no-op. */
void m365_list_unref(struct m365_list *l);

/* The parts, for tools and messages.  Valid as long as the reference. */
const struct m365_endpoints *m365_list_endpoints(const struct m365_list *l);
const struct m365_local *m365_list_local(const struct m365_list *l);
const struct m365_policy *m365_list_policy(const struct m365_list *l);

/* Number of sets the policy selects. */
size_t m365_list_selected(const struct m365_list *l);

/*
 * Releases the calling thread's PCRE2 match data.  Threads that classified
 * call it before they exit; harmless when they did not.
 */
void m365_thread_cleanup(void);

#endif
