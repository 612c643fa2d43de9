/* stats.c - srv_m365_bypass in c-icap's statistics (see bypass.h). */
#include <c_icap/c-icap.h>
#include <c_icap/debug.h>
#include <c_icap/stats.h>
#include <string.h>

#include "bypass.h"

#define GROUP "m365_bypass"

static int
reg(const char *label)
{
	return ci_stat_entry_register((char *)label, STAT_INT64_T,
	                              (char *)GROUP);
}

void
bypass_stats_register(struct bypass_stats *s)
{
	s->requests = reg("m365 requests");
	s->bypassed = reg("m365 bypassed");
	s->inspected = reg("m365 inspected");
	s->malformed = reg("m365 malformed");
	s->no_list = reg("m365 no list loaded");
	s->by_slot[SLOT_OPTIMIZE] = reg("m365 bypassed Optimize");
	s->by_slot[SLOT_ALLOW] = reg("m365 bypassed Allow");
	s->by_slot[SLOT_DEFAULT] = reg("m365 bypassed Default");
	s->by_slot[SLOT_OTHER] = reg("m365 bypassed other category");
	s->by_slot[SLOT_LOCAL] = reg("m365 bypassed Local");
	s->reloads = reg("m365 list reloads");
	s->refused = reg("m365 refused reloads");
}

static enum bypass_slot
slot_of(const struct m365_verdict *v)
{
	if (v->why == M365_WHY_LOCAL || v->set == NULL)
		return SLOT_LOCAL;
	switch (v->set->category) {
	case M365_CAT_OPTIMIZE: return SLOT_OPTIMIZE;
	case M365_CAT_ALLOW: return SLOT_ALLOW;
	case M365_CAT_DEFAULT: return SLOT_DEFAULT;
	default: return SLOT_OTHER;
	}
}

/* Adds 1 to counter id under a lock the caller holds. */
static void
add(int id)
{
	if (id >= 0 && id < STATS->mem_block->counters64_size)
		STATS_INT64_INC(id, 1);
}

/*
 * One request's counts under one lock: ci_stat_uint64_inc() takes c-icap's
 * statistics lock for every counter, and three such locks per request cost
 * more than the whole decision under load (measured: about 1 us per
 * request with 10 threads per child).  c-icap's request.c counts its own
 * statistics the same way.
 */
void
bypass_stats_count(const struct bypass_stats *s, const struct m365_verdict *v)
{
	if (STATS == NULL || STATS->mem_block == NULL)
		return;
	STATS_LOCK();
	add(s->requests);
	if (v->result == M365_OK) {
		add(s->bypassed);
		add(s->by_slot[slot_of(v)]);
	} else {
		add(s->inspected);
		if (v->why == M365_WHY_NO_DST || v->why == M365_WHY_BAD_DST ||
		    v->why == M365_WHY_BAD_PORT)
			add(s->malformed);
		else if (v->why == M365_WHY_NO_LIST)
			add(s->no_list);
	}
	STATS_UNLOCK();
}

void
bypass_stats_event(void *ctx, enum m365_live_event ev, const char *version)
{
	const struct bypass *b = ctx;

	(void)version;
	if (ev == M365_LIVE_SWITCHED)
		ci_stat_uint64_inc(b->stats.reloads, 1);
	else if (ev == M365_LIVE_REFUSED)
		ci_stat_uint64_inc(b->stats.refused, 1);
}

void
bypass_log(void *ctx, enum m365_log_level level, const char *msg)
{
	(void)ctx;
	ci_debug_printf(1, BYPASS_SERVICE ": %s: %s\n",
	                m365_log_level_name(level), msg);
}
