/* list_impl.h - the inside of a compiled list (internal). */
#ifndef M365_LIST_IMPL_H
#define M365_LIST_IMPL_H

#include <stdatomic.h>

#include "index.h"
#include "m365_classify.h"
#include "m365_list.h"

struct m365_list {
	atomic_uint refs;
	struct m365_endpoints *ep;
	struct m365_local *local;
	struct m365_policy policy;
	/* sets by rank: selected first, then category, then id; a set's
	 * rank is the value its patterns carry in `ms` */
	const struct m365_set **rank;
	size_t n_selected;
	struct index *ms;     /* Microsoft's patterns -> rank */
	struct index *bypass; /* local bypass rules -> rule index */
	struct index *never;  /* local never rules -> rule index */
};

/*
 * The whole contract on inputs already normalised (port: -1 none, 0
 * invalid): what m365_classify() and m365_explain() share.
 */
void classify_norm(const struct m365_list *l, const struct m365_host *dst,
                   int port, const struct m365_host *sni,
                   struct m365_verdict *v);

#endif
