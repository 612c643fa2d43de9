/*
 * part_hot.c - the patterns' hot blocks: each pattern's automaton or
 * glob text next to what says how to try it (see part.h).
 */
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "part.h"

/* The steps all of a part's automatons may take to build (about a
 * second's worth): past it, its regexes stay with PCRE2. */
#define PART_DFA_BUDGET 200000000L

static size_t
round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* The bytes of r's block, with d its automaton (NULL: none). */
static size_t
block_bytes(const struct pattern *r, const struct redfa *d)
{
	if (d != NULL)
		return PAT_DFA_AT + redfa_bytes(d);
	if (r->code == NULL)
		return sizeof(struct pat_head) + strlen(r->source);
	return sizeof(struct pat_head);
}

/* Writes pattern i's block at h (zeroed), with d its automaton. */
static void
fill(struct pat_head *h, uint32_t i, const struct pattern *r,
     const struct redfa *d)
{
	h->pat = i;
	h->names_only = r->names_only;
	if (d != NULL) {
		h->how = PAT_DFA;
		(void)redfa_copy(d, (char *)h + PAT_DFA_AT);
	} else if (r->code != NULL) {
		h->how = PAT_PCRE;
	} else {
		const char *g = r->source;
		h->how = PAT_GLOB;
		h->len = (uint16_t)strlen(g);
		h->prelen = (uint16_t)(strchr(g, '*') - g);
		h->suflen = (uint16_t)strlen(strrchr(g, '*') + 1);
		memcpy(h->text, g, h->len);
	}
}

int
part_lay_out(struct part *p, struct pattern *pat, size_t n, uint32_t **at_out,
             struct m365_err *err)
{
	struct redfa **dfa = calloc(n + 1, sizeof(*dfa));
	uint32_t *at = malloc((n + 1) * sizeof(*at));
	long budget = PART_DFA_BUDGET;
	size_t i, end = 0;
	int pass;
	int rc = -1;

	if (dfa == NULL || at == NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		goto out;
	}
	/* an automaton where redfa covers the regex; else JIT, an
	 * optimisation: where it is unavailable, the interpreter gives the
	 * same answers */
	for (i = 0; i < n; i++) {
		struct pattern *r = &pat[i];
		if (r->code == NULL)
			continue;
		dfa[i] = redfa_compile(r->source, strlen(r->source), &budget);
		if (dfa[i] == NULL)
			r->jit =
			    pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
	}
	/* the automatons first, each from a cache line on: its head, its
	 * tail and the rows a name passes through are in the first two
	 * (part_try() fetches both at once, for a block before dfa_end);
	 * then the others, packed */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if ((dfa[i] != NULL) != (pass == 0))
				continue;
			if (dfa[i] != NULL)
				end = round_up(end, CACHE_LINE);
			if (end / PAT_UNIT > AUX_INDEX_MAX) {
				m365_err_set(
				    err, M365_E_INPUT,
				    "the patterns take more than %zu bytes",
				    (size_t)AUX_INDEX_MAX * PAT_UNIT);
				goto out;
			}
			at[i] = (uint32_t)(end / PAT_UNIT);
			end = round_up(end + block_bytes(&pat[i], dfa[i]),
			               PAT_UNIT);
		}
		if (pass == 0)
			p->dfa_end = (uint32_t)(end / PAT_UNIT);
	}
	if ((p->hot = big_calloc(round_up(end, CACHE_LINE), 1)) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		goto out;
	}
	p->hot_bytes = end;
	for (i = 0; i < n; i++)
		fill((struct pat_head *)(p->hot + (size_t)at[i] * PAT_UNIT),
		     (uint32_t)i, &pat[i], dfa[i]);
	*at_out = at;
	at = NULL;
	rc = 0;
out:
	for (i = 0; dfa != NULL && i < n; i++)
		redfa_free(dfa[i]);
	free(dfa);
	free(at);
	return rc;
}
