/*
 * update.h - m365ctl update's view of Microsoft's web service (update_web.c):
 * the client id and Retry-After kept in the state directory, the version
 * answer, and the URLs it asks.
 */
#ifndef M365CTL_UPDATE_H
#define M365CTL_UPDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "connect.h"
#include "fetch.h"
#include "m365_err.h"

/* What one update run was asked to do. */
struct update {
	const char *instance, *areas, *tenant, *base, *dir, *sign_key;
	struct ctl_redis ro;
	bool no_ipv6, force;
	long timeout;
	char guid[37];
	/* What a refusal here was about, for the run record (runlog.h):
	 * "retry_after", "http" or "invalid". */
	const char *refusal;
};

/*
 * Sets u->guid to the ClientRequestId kept in the state directory, making
 * (and keeping) a random UUID the first time.  0, or -1 with err set.
 */
int client_id(struct update *u, struct m365_err *err);

/*
 * Refuses (-1, M365_E_REFUSED) to call Microsoft before a Retry-After it
 * gave earlier expires; 0 otherwise.
 */
int check_retry_after(struct update *u, struct m365_err *err);

/*
 * GETs url and refuses any answer but 200; a 429 records its Retry-After
 * (seconds or an HTTP date, capped) in the state directory.  0 with r
 * filled (free with fetch_free()), or -1 with err set.
 */
int get_ok(struct update *u, const char *url, struct fetch_result *r,
           struct m365_err *err);

/* Asks /version; 0 with latest[11] set, or the exit status (err set). */
int latest_version(struct update *u, char *latest, struct m365_err *err);

/* True when latest (Microsoft's 10 digits) is newer than current (any
 * published version; an imported one counts as older). */
int is_newer(const char *latest, const char *current);

/* The /endpoints URL with the query the options ask for, into url. */
void endpoints_url(const struct update *u, char *url, size_t len);

#endif
