/*
 * live_local.c - a live list's local list and the lists it retires
 * (live_impl.h).
 *
 * The local list is read, checked and compiled once per process, and
 * again only when its file changes (modification time, size or inode,
 * looked at every second by the follower thread; read once it has stayed
 * the same for a second, not while it is being written) or when the front
 * end asks (SIGHUP): every Microsoft version is built on the compiled local
 * list in use.  A local list that breaks or grows past its limit during a
 * reload keeps the last good one; only at start does it leave the process
 * with no list (fail closed).  Lists that are swapped out are freed by the
 * follower thread once no reader holds them, never by a thread that
 * answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "list_impl.h"
#include "live_impl.h"

/* A file changed this long ago at least is read: not while written. */
#define SETTLE_MS 1000

/* True when st and the state kept in *id are the same file, unchanged. */
static int
same_state(const struct stat *st, const struct file_id *id)
{
	return id->known && st->st_mtim.tv_sec == id->mtime.tv_sec &&
	       st->st_mtim.tv_nsec == id->mtime.tv_nsec &&
	       st->st_size == id->size && st->st_ino == id->ino;
}

/* Keeps st's state in *id. */
static void
keep_state(struct file_id *id, const struct stat *st)
{
	id->known = 1;
	id->mtime = st->st_mtim;
	id->size = st->st_size;
	id->ino = st->st_ino;
}

/* The local list file's state now (zeroes when it is not there). */
static void
local_state(struct m365_live *lv, struct stat *st)
{
	if (stat(lv->cfg.opt.local, st) < 0)
		memset(st, 0, sizeof(*st));
}

/* The monotonic clock in milliseconds. */
static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * True when the file changed since it was read and has not changed for
 * SETTLE_MS since (so that a file being written is not read half-way).
 */
static int
local_settled(struct m365_live *lv, const struct stat *st)
{
	if (same_state(st, &lv->loc_read)) {
		lv->loc_next.known = 0;
		return 0;
	}
	if (!same_state(st, &lv->loc_next)) {
		keep_state(&lv->loc_next, st);
		lv->loc_next_at = mono_ms();
		return 0;
	}
	return mono_ms() - lv->loc_next_at >= SETTLE_MS;
}

/* Logs the rules that backtrack badly. */
static void
warn_rules(struct m365_live *lv, const struct m365_local *loc)
{
	size_t i;

	for (i = 0; i < loc->n_rules; i++)
		if (m365_rule_warning(&loc->rules[i]) != NULL)
			live_log(lv, M365_LOG_WARNING, "%s:%u: %s", loc->source,
			         loc->rules[i].line,
			         m365_rule_warning(&loc->rules[i]));
}

int
live_local_load(struct m365_live *lv)
{
	struct m365_err err;
	struct stat st;

	if (lv->cfg.opt.local == NULL)
		return 0;
	local_state(lv, &st);
	keep_state(&lv->loc_read, &st);
	if ((lv->loc = m365_local_index_load(&lv->cfg.opt, &err)) == NULL) {
		live_log(lv, M365_LOG_ERROR,
		         "%s; answering ERR until a list loads", err.msg);
		return -1;
	}
	warn_rules(lv, m365_local_of(lv->loc));
	return 0;
}

struct m365_list *
live_build(struct m365_live *lv, struct m365_endpoints *ep,
           struct m365_err *err)
{
	if (!lv->policy_ok) {
		m365_endpoints_free(ep);
		m365_err_set(err, M365_E_INPUT, "%s", lv->policy_err);
		return NULL;
	}
	if (lv->cfg.opt.local != NULL && lv->loc == NULL) {
		/* never without the admins' never rules */
		m365_endpoints_free(ep);
		m365_err_set(err, M365_E_INPUT,
		             "the local list %s is not loaded",
		             lv->cfg.opt.local);
		return NULL;
	}
	return m365_list_build_index(ep, lv->loc, &lv->policy,
	                             lv->cfg.opt.answer, err);
}

void
live_local_check(struct m365_live *lv, int force)
{
	struct m365_local_index *li;
	struct m365_list *cur, *l = NULL;
	struct m365_err err;
	struct stat st;
	char v[M365_VERSION_MAX + 1];

	if (lv->cfg.opt.local == NULL)
		return;
	local_state(lv, &st);
	if (!force && !local_settled(lv, &st))
		return;
	keep_state(&lv->loc_read, &st);
	lv->loc_next.known = 0;
	if ((li = m365_local_index_load(&lv->cfg.opt, &err)) == NULL) {
		live_log(lv, M365_LOG_ERROR, "%s; keeping the local list %s",
		         err.msg,
		         lv->loc ? "in use" : "unloaded (answering ERR)");
		return;
	}
	warn_rules(lv, m365_local_of(li));
	if ((cur = m365_live_acquire(lv)) != NULL &&
	    (l = m365_list_with_local(cur, li, &err)) == NULL) {
		live_log(lv, M365_LOG_ERROR,
		         "%s; keeping the local list in use", err.msg);
		m365_list_unref(cur);
		m365_local_index_unref(li);
		return;
	}
	m365_local_index_unref(lv->loc);
	lv->loc = li;
	live_log(lv, M365_LOG_INFO, "loaded local list %s: %zu rules",
	         lv->cfg.opt.local, m365_local_of(li)->n_rules);
	if (cur != NULL) {
		live_swap(lv, l, m365_live_version(lv, v, sizeof(v)));
		m365_list_unref(cur);
		live_gauges(lv, 0);
	} else {
		/* no list yet: the one the local list held back */
		live_reload_initial(lv, 1);
	}
}

void
live_retire(struct m365_live *lv, struct m365_list *old)
{
	if (old == NULL)
		return;
	if (lv->n_retired < LIVE_RETIRED_MAX) {
		lv->retired[lv->n_retired++] = old;
		return;
	}
	m365_list_unref(old); /* too many at once: let the last reader */
}

int
live_reap(struct m365_live *lv)
{
	size_t i = 0;

	while (i < lv->n_retired) {
		struct m365_list *l = lv->retired[i];
		if (atomic_load_explicit(&l->refs, memory_order_acquire) != 1) {
			i++;
			continue;
		}
		m365_list_unref(l); /* ours was the last: freed here */
		lv->retired[i] = lv->retired[--lv->n_retired];
	}
	return lv->n_retired > 0;
}
