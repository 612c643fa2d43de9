/* fetch.h - HTTP GET with timeouts and a size bound (libcurl). */
#ifndef M365CTL_FETCH_H
#define M365CTL_FETCH_H

#include <stddef.h>

#include "m365_err.h"

struct fetch_result {
	long status; /* HTTP status, 0 when no answer */
	char *body;  /* NUL-terminated, owned */
	size_t len;
	long retry_after; /* seconds from Retry-After, or -1 */
};

/*
 * GETs url with a connect timeout and a total timeout of timeout_s seconds
 * and at most max bytes of body.  Returns 0 when an HTTP answer arrived
 * (whatever its status), or -1 with err set ("URL: reason") for network
 * errors, timeouts and over-long bodies.  Free with fetch_free().
 */
int fetch_get(const char *url, long timeout_s, size_t max,
              struct fetch_result *out, struct m365_err *err);

void fetch_free(struct fetch_result *r);

#endif
