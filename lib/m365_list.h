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
 * A local list compiled for matching.  Built once, and shared by every
 * list built on it (a new Microsoft version reuses it as it is), so that
 * a switch never parses nor indexes the local list again.
 */
struct m365_local_index;

/*
 * Compiles a local list (taking ownership of it, whether it succeeds or
 * not).  Returns the index with one reference, or NULL with err set (out
 * of memory, a pattern that does not compile).
 */
struct m365_local_index *m365_local_index_new(struct m365_local *local,
                                              struct m365_err *err);

/* Takes one more reference; returns li.  Thread-safe. */
struct m365_local_index *m365_local_index_ref(struct m365_local_index *li);

/* Drops a reference, freeing with the last.  NULL is a no-op. */
void m365_local_index_unref(struct m365_local_index *li);

/* The local list it was compiled from. */
const struct m365_local *m365_local_of(const struct m365_local_index *li);

/*
 * Builds a list over ep (taking ownership of it, whether it succeeds or
 * not) and the compiled local list li (NULL for none; the list takes a
 * reference of its own).  With an answer function, the list holds the
 * text of every verdict it can give.  Fails as m365_list_build() does.
 */
struct m365_list *m365_list_build_index(struct m365_endpoints *ep,
                                        struct m365_local_index *li,
                                        const struct m365_policy *policy,
                                        m365_answer_fn answer,
                                        struct m365_err *err);

/*
 * A new list with l's Microsoft side (shared, not rebuilt) and the local
 * list li instead of l's (NULL for none).  NULL with err set when the
 * policy then selects nothing (as m365_list_build()) or out of memory.
 */
struct m365_list *m365_list_with_local(const struct m365_list *l,
                                       struct m365_local_index *li,
                                       struct m365_err *err);

/* The compiled local list of l (NULL for none), without a reference. */
struct m365_local_index *m365_list_local_index(const struct m365_list *l);

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
 * Reads, parses and compiles the local list the options name (opt->local,
 * at most opt->local_max_bytes).  NULL with err set ("LOCAL-OPTION:
 * reason" when the options carry names).
 */
struct m365_local_index *m365_local_index_load(const struct m365_options *opt,
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

/* Bytes the compiled indexes hold: Microsoft's and the local list's. */
size_t m365_list_index_bytes(const struct m365_list *l, size_t *local);

/*
 * Describes the list for a log line into buf, e.g. "bundled list
 * (Worldwide, 2025-12-01): 64 sets (10 selected), 195 urls, 93 ips;
 * categories=Optimize,Allow service-areas=all; local rules: 0"; returns buf.
 */
char *m365_list_describe(const struct m365_list *l, char *buf, size_t len);

#endif
