/* list_impl.h - the inside of a compiled list (internal). */
#ifndef M365_LIST_IMPL_H
#define M365_LIST_IMPL_H

#include <stdatomic.h>

#include "m365_classify.h"
#include "m365_list.h"
#include "part.h"

/* ms_side.web: the ports nearly every request is for, known per set */
#define PORT_443 1u
#define PORT_80 2u

/* The verdicts that carry no set or rule: their message and reason. */
enum fixed_answer {
	FA_NO_MATCH,    /* nothing matched (at this port) */
	FA_EVAL_FAILED, /* a pattern could not be evaluated */
	FA_NEVER,       /* a local never rule (the rule is added) */
	FA_SNI,         /* DST is a bypass, the SNI is not */
	FA_NO_DST,
	FA_BAD_DST,
	FA_BAD_PORT,
	FA_BAD_SNI,
	FA_N
};

struct fixed_verdict {
	enum m365_why why;
	const char *message;
};

/* Each fixed answer's reason and message (classify.c). */
extern const struct fixed_verdict fixed_verdicts[FA_N];

/* A front end's answer texts for every verdict a list can give. */
struct answers {
	const char **ok;  /* by rank: OK by that set */
	const char **err; /* by rank: ERR with that set unselected */
	uint16_t *ok_len, *err_len;
	const char *local; /* OK by a local bypass rule */
	uint16_t local_len;
	const char *fixed[FA_N];
	uint16_t fixed_len[FA_N];
	char *text; /* where they all are */
};

/* Microsoft's sets of one version under one policy, compiled. */
struct ms_side {
	atomic_uint refs;
	struct m365_endpoints *ep;
	struct m365_policy policy;
	/* sets by rank: selected first, then category, then id; a set's
	 * rank is the value its items carry */
	const struct m365_set **rank;
	uint8_t *web; /* by rank: PORT_443 | PORT_80 when tcpPorts has them */
	size_t n_selected;
	struct part *part;
	struct answers *ans; /* or NULL: no answer function */
};

/* A local list, compiled once and shared by the lists built on it. */
struct m365_local_index {
	atomic_uint refs;
	struct m365_local *local;
	struct part *part;
	size_t n_bypass;
};

struct m365_list {
	atomic_uint refs;
	struct ms_side *ms;
	struct m365_local_index *loc; /* or NULL */
	/* the same, at hand for lookups */
	const struct m365_set *const *rank;
	const uint8_t *web;
	size_t n_selected;
	const struct m365_local *local; /* or NULL */
	const struct part *parts[2];    /* Microsoft's, the local list's */
	const struct answers *ans;
};

/*
 * The whole contract on inputs already normalised (port: -1 none, 0
 * invalid): what m365_classify() and m365_explain() share.  lb gives the
 * labels of dst and sni (NULL: found here).
 */
void classify_norm(const struct m365_list *l, const struct m365_host *dst,
                   const struct host_labels *dst_lb, int port,
                   const struct m365_host *sni,
                   const struct host_labels *sni_lb, struct m365_verdict *v);

/* Builds the answer texts of a Microsoft side; NULL when out of memory. */
struct answers *answers_build(const struct ms_side *ms, m365_answer_fn fn);

/* Frees them; NULL is a no-op. */
void answers_free(struct answers *a);

#endif
