/* status_host.c - m365ctl status: this host's processes (see status.h). */
#include <stdlib.h>
#include <string.h>

#include "status.h"

/* True when a and b use the same list. */
static bool
same_list(const struct m365_metrics_proc *a, const struct m365_metrics_proc *b)
{
	return strcmp(a->version, b->version) == 0 &&
	       strcmp(a->source, b->source) == 0 &&
	       strcmp(a->policy, b->policy) == 0 &&
	       a->published_at == b->published_at;
}

/* Makes the bytes of s that are not printable ASCII '?': the file is
 * input, its texts end up on terminals. */
static void
printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* Counts process p: its front end, its list, Redis as it sees it. */
static void
count(struct host_part *h, const struct m365_metrics_proc *p)
{
	unsigned fe = (unsigned)p->frontend, rs = (unsigned)p->redis;
	size_t i;

	if (fe >= M365_FE_N)
		return; /* the reader checks; a later front end is not ours */
	h->procs[fe]++;
	if (rs < 3)
		h->redis[rs][fe]++;
	if (!p->list_loaded) {
		h->no_list[fe]++;
		return;
	}
	for (i = 0; i < h->n_lists; i++)
		if (same_list(h->lists[i].p, p))
			break;
	if (i == h->n_lists) {
		h->lists[i].p = p;
		h->lists[i].age = -1;
		h->n_lists++;
	}
	h->lists[i].n[fe]++;
}

/* The totals of every front end's counters. */
static void
totals(struct host_part *h)
{
	const struct m365_metrics_counts *c;
	int fe, k, cat, svc;

	for (fe = 0; fe < M365_FE_N; fe++) {
		c = &h->view.fe[fe];
		for (cat = 0; cat < M365_MCAT_N; cat++)
			for (svc = 0; svc < M365_MSVC_N; svc++) {
				h->ok += c->lookups[M365_OK][cat][svc];
				h->err += c->lookups[M365_ERR][cat][svc];
			}
		for (k = 0; k < M365_INV_N; k++)
			h->invalid += c->invalid[k];
		h->without_list += c->no_list;
	}
}

void
status_host(struct host_part *h, const char *dir)
{
	struct m365_err err;
	size_t i;

	h->dir = dir ? dir : M365_METRICS_DIR_DEFAULT;
	m365_farm_host(h->name, sizeof(h->name));
	if (strcmp(h->dir, M365_METRICS_OFF) == 0)
		return;
	if (m365_metrics_read(h->dir, &h->view, &err) < 0) {
		h->read = err.code == M365_E_INPUT ? -1 : 0;
		snprintf(h->why, sizeof(h->why), "%s", err.msg);
		return;
	}
	h->read = 1;
	if ((h->lists = calloc(h->view.n_procs + 1, sizeof(*h->lists))) ==
	    NULL) {
		m365_metrics_view_free(&h->view);
		h->read = -1;
		snprintf(h->why, sizeof(h->why), "out of memory");
		return;
	}
	for (i = 0; i < h->view.n_procs; i++) {
		printable(h->view.procs[i].version);
		printable(h->view.procs[i].source);
		printable(h->view.procs[i].policy);
		count(h, &h->view.procs[i]);
	}
	totals(h);
}

void
status_host_free(struct host_part *h)
{
	if (h->read == 1)
		m365_metrics_view_free(&h->view);
	free(h->lists);
	h->lists = NULL;
	h->n_lists = 0;
}
