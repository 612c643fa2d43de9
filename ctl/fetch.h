/* fetch.h - HTTP GET with timeouts, a size bound and guarded redirects. */
#ifndef M365CTL_FETCH_H
#define M365CTL_FETCH_H

#include <stddef.h>

#include "m365_err.h"

/* How many redirects to the same scheme, host and port are followed. */
#define FETCH_MAX_REDIRECTS 3

struct fetch_result {
	long status; /* HTTP status, 0 when no answer */
	char *body;  /* NUL-terminated, owned */
	size_t len;
	/* seconds from now that Retry-After asks for (delta-seconds or an
	 * HTTP-date, 0 for a date past), or -1 when absent or unparsable */
	long long retry_after;
};

/*
 * GETs url with a connect timeout and a total timeout of timeout_s seconds
 * (over every redirect) and at most max bytes of body.  Redirects are
 * followed (at most FETCH_MAX_REDIRECTS) only to the scheme, host and port
 * of url; any other is refused.  Returns 0 when an HTTP answer arrived
 * (whatever its status), or -1 with err set to "URL: reason": M365_E_IO
 * for network errors and timeouts, M365_E_REFUSED for over-long bodies and
 * refused redirects ("URL: refused redirect to LOCATION (another host)").
 * Free with fetch_free().
 */
int fetch_get(const char *url, long timeout_s, size_t max,
              struct fetch_result *out, struct m365_err *err);

void fetch_free(struct fetch_result *r);

/*
 * Returns NULL when a redirect from `from` to `to` (absolute URLs) keeps
 * the scheme, host and port, else why not: "from https to http",
 * "another host" or "not a URL".
 */
const char *fetch_redirect_refusal(const char *from, const char *to);

/*
 * The seconds a Retry-After value (n bytes, not NUL-terminated) asks for:
 * delta-seconds, or an HTTP-date less now (0 when past); -1 when it is
 * neither.
 */
long long fetch_retry_after(const char *v, size_t n);

#endif
