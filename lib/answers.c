/* answers.c - a front end's answer texts, built with a list
 * (list_impl.h). */
#include <stdlib.h>
#include <string.h>

#include "list_impl.h"

/* Longest text kept: longer ones are left to the front end (NULL). */
#define TEXT_MAX 1024

/* Texts being gathered: lengths first, then one block. */
struct gather {
	m365_answer_fn fn;
	char *block;
	size_t used;
};

/*
 * Formats v; in the first pass counts its length, in the second copies it
 * into the block and points *text at it.  0, or -1 when it does not fit.
 */
static int
add(struct gather *g, const struct m365_verdict *v, const char **text,
    uint16_t *len)
{
	char buf[TEXT_MAX];
	int n = g->fn(v, buf, sizeof(buf));

	if (n < 0 || n >= TEXT_MAX) {
		*text = NULL; /* the front end formats it itself */
		*len = 0;
		return 0;
	}
	if (g->block != NULL) {
		memcpy(g->block + g->used, buf, (size_t)n);
		*text = g->block + g->used;
	}
	*len = (uint16_t)n;
	g->used += (size_t)n;
	return 0;
}

/* Every text of a, in one pass. */
static void
gather_all(struct gather *g, const struct ms_side *ms, struct answers *a)
{
	struct m365_verdict v;
	size_t r;
	int f;

	g->used = 0;
	for (r = 0; r < ms->ep->n_sets; r++) {
		const struct m365_set *s = ms->rank[r];
		memset(&v, 0, sizeof(v));
		v.set = s;
		v.category = s->category_name;
		v.service = s->service_area;
		v.result = M365_OK;
		v.why = M365_WHY_SET;
		add(g, &v, &a->ok[r], &a->ok_len[r]);
		v.result = M365_ERR;
		v.why = M365_WHY_UNSELECTED;
		add(g, &v, &a->err[r], &a->err_len[r]);
	}
	memset(&v, 0, sizeof(v));
	v.result = M365_OK;
	v.why = M365_WHY_LOCAL;
	v.category = v.service = "Local";
	add(g, &v, &a->local, &a->local_len);
	for (f = 0; f < FA_N; f++) {
		memset(&v, 0, sizeof(v));
		v.result = M365_ERR;
		v.why = fixed_verdicts[f].why;
		v.message = fixed_verdicts[f].message;
		add(g, &v, &a->fixed[f], &a->fixed_len[f]);
	}
}

struct answers *
answers_build(const struct ms_side *ms, m365_answer_fn fn)
{
	struct answers *a = calloc(1, sizeof(*a));
	size_t n = ms->ep->n_sets + 1;
	struct gather g = {.fn = fn};

	if (a == NULL || (a->ok = calloc(n, sizeof(*a->ok))) == NULL ||
	    (a->err = calloc(n, sizeof(*a->err))) == NULL ||
	    (a->ok_len = calloc(n, sizeof(*a->ok_len))) == NULL ||
	    (a->err_len = calloc(n, sizeof(*a->err_len))) == NULL)
		goto fail;
	gather_all(&g, ms, a);
	if ((g.block = malloc(g.used + 1)) == NULL)
		goto fail;
	gather_all(&g, ms, a);
	a->text = g.block;
	return a;
fail:
	answers_free(a);
	return NULL;
}

void
answers_free(struct answers *a)
{
	if (a == NULL)
		return;
	free(a->ok);
	free(a->err);
	free(a->ok_len);
	free(a->err_len);
	free(a->text);
	free(a);
}
