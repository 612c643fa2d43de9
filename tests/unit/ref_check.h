/*
 * ref_check.h - one query through the library and through the reference
 * (ref_scan.h), compared field by field, with a report that is enough to
 * debug a difference: the lists, the policy, the query, both verdicts and
 * both sets of hits.
 */
#ifndef M365_REF_CHECK_H
#define M365_REF_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "ref_gen.h"
#include "ref_scan.h"

/* Where reports go and what was seen. */
struct ref_diff {
	const struct ref_case *c; /* what the list was built from (reports) */
	FILE *out;                /* reports, or NULL for none */
	unsigned max_reports;     /* reports printed at most */
	/* let the known difference pass: irregular globs that hit PCRE2's
	 * match limit in the library (see ref_known_glob_limit()) */
	bool known_glob_limit;
	unsigned long queries, mismatches, known;
	/* what the reference answered: by why, and the hits */
	unsigned long why[M365_WHY_NO_LIST + 1], hits;
};

/*
 * Classifies q with m365_classify() and m365_explain() on l and with
 * ref_explain() on rs; true when the verdicts, the normalised inputs, the
 * port and the hits (as a multiset) are all the same.  A difference is
 * counted in d and reported while fewer than d->max_reports were.
 */
bool ref_check_query(const struct m365_list *l, const struct ref_scan *rs,
                     const struct ref_query *q, struct ref_diff *d);

/*
 * True when the library's answer differs from the reference's only as an
 * irregular glob that hits PCRE2's match limit makes it differ: the
 * library misses hits of irregular globs (and no other), and its verdict
 * is the same or fails closed with "pattern evaluation failed" (for the
 * SNI: "SNI is not a bypass" when the SNI alone fails so).
 */
bool ref_known_glob_limit(const struct m365_list *l, const struct ref_query *q,
                          const struct m365_verdict *v,
                          struct m365_explanation *lib,
                          struct m365_explanation *ref);

/* Prints a verdict on one line. */
void ref_print_verdict(FILE *f, const char *who, const struct m365_verdict *v);

#endif
