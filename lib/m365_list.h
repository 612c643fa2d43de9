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
#include "m365_options.h"
#include "m365_policy.h"

struct m365_list;

/*
 * Builds a list from its parts and takes ownership of ep and local (local
 * may be NULL) whether it succeeds or not; the policy is copied.  Fails when
 * the policy names a service area ep does not have, when a set it selects
 * is broader than m365_breadth.h allows, when it selects no set and the
 * local list has no bypass rule (messages name the policy's options), or
 * when a pattern cannot be compiled.  Returns the list with one
 * reference, or NULL with err set.
 */
struct m365_list *m365_list_build(struct m365_endpoints *ep,
                                  struct m365_local *local,
                                  const struct m365_policy *policy,
                                  struct m365_err *err);

/*
 * Builds a list from ep (taking ownership) with the local list and policy
 * the options name (opt->list is ignored).  NULL with err set on failure;
 * a local list that does not load is reported as "LOCAL-OPTION: reason"
 * when the options carry names.
 */
struct m365_list *m365_list_build_opt(struct m365_endpoints *ep,
                                      const struct m365_options *opt,
                                      struct m365_err *err);

/*
 * Loads everything the options name and builds the list: the one call every
 * front end makes.  Returns NULL with err set on any failure (a list file
 * that does not load as "LIST-OPTION: reason" when the options carry
 * names).
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
 * Describes the list for a log line into buf, e.g. "bundled list
 * (Worldwide, 2025-12-01): 64 sets (10 selected), 195 urls, 93 ips;
 * categories=Optimize,Allow service-areas=all; local rules: 0"; returns buf.
 */
char *m365_list_describe(const struct m365_list *l, char *buf, size_t len);

#endif
