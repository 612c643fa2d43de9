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

#endif
