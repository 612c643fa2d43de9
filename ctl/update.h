/*
 * update.h - m365ctl update's view of Microsoft's web service (update_web.c):
 * the client id and Retry-After kept in the state directory, the version
 * answer, and the URLs it asks.
 */
#ifndef M365CTL_UPDATE_H
#define M365CTL_UPDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "connect.h"
#include "fetch.h"
#include "m365_err.h"

/* What one update run was asked to do. */
struct update {
	const char *instance, *areas, *tenant, *base, *dir, *sign_key;
	const char *notify; /* --notify CMD, or NULL */
	char params[256];   /* update_params() of the options */
	struct ctl_redis ro;
	bool no_ipv6, force;
	long timeout;
	char guid[37];
	bool guid_new; /* made by this run, not kept yet */
	/* What a refusal here was about, for the run record (runlog.h):
	 * "retry_after", "http" or "invalid". */
	const char *refusal;
};

/*
 * Sets u->guid to the ClientRequestId kept in the state directory, making
 * a random UUID the first time, which is kept (DIR/client-id) once
 * Microsoft has answered a request made with it.  0, or -1 with err set.
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
 * published version: Microsoft's, possibly republished as "V.N", or an
 * imported one, which counts as older). */
int is_newer(const char *latest, const char *current);

/*
 * The canonical parameters of u, part of a version's identity:
 * "instance=I&serviceAreas=A,B&tenant=t&noIPv6=false", the service areas
 * sorted, once each, in Microsoft's spelling where known ("" for the
 * default), the tenant in lowercase.
 */
void update_params(const struct update *u, char *buf, size_t len);

/* The instance named by params into out; 0, or -1 when there is none. */
int params_instance(const char *params, char *out, size_t len);

/*
 * The name to publish Microsoft's version latest under, replacing
 * current: latest, or "latest.N" when current is latest or "latest.N-1"
 * (the same version asked with other parameters, or --force: a new name,
 * so that every follower switches to it).
 */
void update_name(const char *current, const char *latest, char *out,
                 size_t len);

/* Microsoft's 10 digits of version ("V" or "V.N") into base; 0, or -1
 * for any other name (an imported version). */
int update_microsoft_base(const char *version, char base[11]);

/* The /endpoints URL with the query the options ask for, into url. */
void endpoints_url(const struct update *u, char *url, size_t len);

struct current;
struct target;
struct m365_endpoints;

/*
 * Refuses (-1, M365_E_REFUSED, u->refusal "instance") to publish u's
 * instance where cur, the version in use, is of another one, unless
 * --force; 0 otherwise (also when cur records no instance).
 */
int update_instance_clash(struct update *u, const struct target *t,
                          const struct current *cur, struct m365_err *err);

/*
 * True when cur is Microsoft's version latest asked with u's parameters
 * (a version that records none counts as asked so), and neither --force
 * nor a corrupt current version asks for a download; when only the
 * parameters differ, says so on stdout.
 */
int update_is_current(const struct update *u, const struct current *cur,
                      const char *latest);

/*
 * Asks Microsoft's /changes since cur (when it is one of Microsoft's
 * versions) and cross-checks report, the change report of neu, with it
 * (changes_crosscheck()); a failure is only written in the report.
 */
void update_crosscheck(struct update *u, const struct current *cur,
                       const struct m365_endpoints *neu, const char *latest,
                       json_t *report);

#endif
