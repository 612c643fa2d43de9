/*
 * ref_scan.h - the reference matcher of the differential test: the
 * classification contract (docs/contract.md) computed the plain way, one
 * endpoint set, one url, one CIDR and one local rule at a time, with no
 * index at all.  tests/unit/test_differential.c and
 * tests/fuzz/fuzz_differential.c check that the compiled matcher of the
 * library (m365_classify(), m365_explain()) answers exactly the same.
 *
 * Only the public API is used (lib/m365_*.h), so that the reference does
 * not change when the matcher inside the library is rewritten.  It takes
 * the normaliser (m365_host_normalize()), the parsed lists and the policy
 * as they are; everything that decides an answer is computed here.
 */
#ifndef M365_REF_SCAN_H
#define M365_REF_SCAN_H

#include <stdbool.h>

#include "m365_classify.h"

struct ref_scan;

/*
 * Prepares the reference over the parts of a built list (as
 * m365_list_endpoints(), m365_list_local() and m365_list_policy() return
 * them, so that set and rule pointers compare equal): compiles every
 * local regex anew from its text.  The parts must outlive it.  NULL when
 * out of memory or when a regex does not compile (never for a parsed
 * list).
 */
struct ref_scan *ref_scan_new(const struct m365_endpoints *ep,
                              const struct m365_local *local,
                              const struct m365_policy *policy);

/* Frees it; NULL is a no-op. */
void ref_scan_free(struct ref_scan *rs);

/*
 * The contract's port: -1 when none (NULL or exactly "-"), 0 when the
 * value does not percent-decode to a decimal 1..65535 of at most five
 * digits, else the port.
 */
int ref_port_parse(const char *s);

/*
 * shExpMatch: '*' stands for any run of characters (dots included,
 * possibly empty), every other character is literal; ASCII case is
 * ignored.
 */
bool ref_glob_match(const char *glob, const char *name);

/* True when the IP literal h lies in c (same family only). */
bool ref_cidr_contains(const struct m365_cidr *c, const struct m365_host *h);

/* True when the policy selects the set (category bit and service area). */
bool ref_selects(const struct m365_policy *p, const struct m365_set *s);

/*
 * What m365_explain() must report for DST PORT SNI (raw values, as
 * m365_classify() takes them): the verdict, the normalised inputs, the
 * port and every hit (in no particular order).  Returns 0, or -1 when out
 * of memory.  Free with ref_explanation_free().
 */
int ref_explain(const struct ref_scan *rs, const char *dst, const char *port,
                const char *sni, struct m365_explanation *out);

/* Frees what ref_explain() allocated; e may be NULL. */
void ref_explanation_free(struct m365_explanation *e);

#endif
