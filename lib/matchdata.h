/*
 * matchdata.h - per-thread PCRE2 match data (internal).
 *
 * Matching a regex needs a scratch block that must not be shared between
 * threads.  Each thread that matches gets its own on first use; it is
 * freed when the thread exits, by a thread-exit destructor, so that no
 * front end (a helper's main thread, c-icap's worker threads) has to
 * remember a cleanup call.
 */
#ifndef M365_MATCHDATA_H
#define M365_MATCHDATA_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/*
 * Returns the calling thread's match data, created on first use; it stays
 * valid until the thread exits.  NULL when out of memory.
 */
pcre2_match_data *matchdata_get(void);

/* Backtracking bounds of every match: a pathological pattern fails
 * closed (no match) within microseconds instead of running for ms. */
#define MATCH_LIMIT 50000
#define MATCH_DEPTH_LIMIT 500

/*
 * The match context every pcre2_match() call passes: MATCH_LIMIT and
 * MATCH_DEPTH_LIMIT.  Created once, read-only afterwards, shared by every
 * thread.  NULL when out of memory: callers then treat the match as failed
 * (closed).
 */
pcre2_match_context *matchctx_get(void);

#endif
