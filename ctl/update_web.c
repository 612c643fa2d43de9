/*
 * update_web.c - m365ctl update and Microsoft's web service (update.h):
 * the state kept between runs (client id, Retry-After), the GETs and the
 * version answer.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "changes.h"
#include "ctl.h"
#include "fileio.h"
#include "publish.h"
#include "update.h"

/* The largest answer downloaded (as a list file may be). */
#define BODY_MAX (64u << 20)
/* Retry-After: when Microsoft gives none we can use, and the most we
 * wait whatever it asks. */
#define RETRY_DEFAULT_S 3600
#define RETRY_MAX_S 86400
/* The state files read back: client-id and retry-after. */
#define STATE_FILE_MAX 64

/* Reads a small state file (NULL when missing, unreadable or odd). */
static char *
read_state(const struct update *u, const char *name)
{
	char path[4096];
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", u->dir, name);
	return m365_read_file(path, STATE_FILE_MAX, &len, NULL);
}

/* The ClientRequestId: a random UUID made once and kept in the state dir. */
int
client_id(struct update *u, struct m365_err *err)
{
	char buf[64], *kept = read_state(u, "client-id");
	unsigned char r[16];
	int i;

	if (kept && strlen(kept) == 36 &&
	    strspn(kept, "0123456789abcdef-") == 36) {
		memcpy(u->guid, kept, 37);
		free(kept);
		return 0;
	}
	free(kept);
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return m365_err_set(err, M365_E_IO, "getrandom: %s",
		                    strerror(errno));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
	snprintf(u->guid, sizeof(u->guid), "%.8s-%.4s-%.4s-%.4s-%.12s", buf,
	         buf + 8, buf + 12, buf + 16, buf + 20);
	u->guid_new = true;
	return 0;
}

/* Keeps a new client id once Microsoft has answered with it: a run that
 * fails before (a typo in --base-url, no network) writes nothing. */
static void
keep_client_id(struct update *u)
{
	char path[4096];
	struct m365_err e;

	if (!u->guid_new)
		return;
	u->guid_new = false;
	snprintf(path, sizeof(path), "%s/client-id", u->dir);
	if (mkdir(u->dir, 0755) < 0 && errno != EEXIST)
		m365_err_set(&e, M365_E_IO, "%s: %s", u->dir, strerror(errno));
	else if (m365_write_file_atomic(path, u->guid, 36, &e) == 0)
		return;
	fprintf(stderr, "m365ctl update: warning: client id not kept: %s\n",
	        e.msg);
}

/* Refuses to call Microsoft again before a Retry-After it gave expires. */
int
check_retry_after(struct update *u, struct m365_err *err)
{
	char *buf = read_state(u, "retry-after"), *end;
	long long until = 0, now = (long long)time(NULL);

	if (buf != NULL) {
		until = strtoll(buf, &end, 10);
		if (end == buf || (*end != '\0' && *end != '\n'))
			until = 0;
		free(buf);
	}
	if (until > now) {
		u->refusal = "retry_after";
		return m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: Microsoft asked us to wait (HTTP 429) "
		    "for %lld more seconds",
		    until - now);
	}
	return 0;
}

/* How long to wait after a 429, and the words for it. */
static long long
retry_wait(const struct fetch_result *r, char *note, size_t len)
{
	if (r->retry_after < 0) {
		snprintf(note, len, "no usable Retry-After; waiting %d seconds",
		         RETRY_DEFAULT_S);
		return RETRY_DEFAULT_S;
	}
	if (r->retry_after > RETRY_MAX_S) {
		snprintf(note, len,
		         "retry after %d seconds (Microsoft asked for %lld; "
		         "capped)",
		         RETRY_MAX_S, r->retry_after);
		return RETRY_MAX_S;
	}
	snprintf(note, len, "retry after %lld seconds", r->retry_after);
	return r->retry_after;
}

/* A 429: records when we may ask again, and refuses. */
static int
too_many(const struct update *u, const char *url, const struct fetch_result *r,
         struct m365_err *err)
{
	char path[4096], until[32], note[128];
	long long wait = retry_wait(r, note, sizeof(note));

	snprintf(path, sizeof(path), "%s/retry-after", u->dir);
	snprintf(until, sizeof(until), "%lld", (long long)time(NULL) + wait);
	(void)m365_write_file_atomic(path, until, strlen(until), NULL);
	return m365_err_set(err, M365_E_REFUSED,
	                    "refused: %s answered 429 Too Many Requests; %s",
	                    url, note);
}

/* GETs url and refuses any answer but 200 (recording Retry-After). */
int
get_ok(struct update *u, const char *url, struct fetch_result *r,
       struct m365_err *err)
{
	u->refusal = "http"; /* a refused redirect, a body too large */
	if (fetch_get(url, u->timeout, BODY_MAX, r, err) < 0)
		return -1;
	u->refusal = NULL;
	if (r->status == 200)
		return 0;
	u->refusal = r->status == 429 ? "retry_after" : "http";
	if (r->status == 429)
		too_many(u, url, r, err);
	else
		m365_err_set(err, M365_E_REFUSED,
		             "refused: %s answered HTTP %ld", url, r->status);
	fetch_free(r);
	return -1;
}

/* Reads {"instance": .., "latest": "YYYYMMDDNN"}. */
static int
parse_version(const struct update *u, const struct fetch_result *r,
              char *latest, struct m365_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(r->body, r->len, 0, &je), *v;
	int rc = -1;

	if (root == NULL) {
		m365_err_set(err, M365_E_REFUSED,
		             "refused: version answer: line %d: %s", je.line,
		             je.text);
		return -1;
	}
	v = json_object_get(root, "latest");
	if (!json_is_string(v) || strlen(json_string_value(v)) != 10 ||
	    strspn(json_string_value(v), "0123456789") != 10)
		m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: version answer has no 10-digit \"latest\"");
	else if (json_is_string(json_object_get(root, "instance")) &&
	         strcasecmp(
	             json_string_value(json_object_get(root, "instance")),
	             u->instance) != 0)
		m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: version answer is for instance %s",
		    json_string_value(json_object_get(root, "instance")));
	else {
		memcpy(latest, json_string_value(v), 11);
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* Asks /version; 0 with latest[11] set, or the exit status. */
int
latest_version(struct update *u, char *latest, struct m365_err *err)
{
	struct fetch_result r;
	char url[2048];
	int rc;

	snprintf(url, sizeof(url), "%s/version/%s?ClientRequestId=%s", u->base,
	         u->instance, u->guid);
	if (get_ok(u, url, &r, err) < 0)
		return ctl_exit_status(err);
	keep_client_id(u);
	rc = parse_version(u, &r, latest, err);
	fetch_free(&r);
	if (rc < 0)
		u->refusal = "invalid";
	return rc < 0 ? 1 : 0;
}

void
endpoints_url(const struct update *u, char *url, size_t len)
{
	snprintf(url, len, "%s/endpoints/%s?ClientRequestId=%s%s%s%s%s%s",
	         u->base, u->instance, u->guid,
	         u->areas ? "&ServiceAreas=" : "", u->areas ? u->areas : "",
	         u->tenant ? "&TenantName=" : "", u->tenant ? u->tenant : "",
	         u->no_ipv6 ? "&NoIPv6=true" : "");
}

/* Asks Microsoft's /changes since the version replaced and cross-checks
 * the report with it; any failure is only noted in the report. */
void
update_crosscheck(struct update *u, const struct current *cur,
                  const struct m365_endpoints *neu, const char *latest,
                  json_t *report)
{
	const char *refusal = u->refusal;
	char from[11], url[2048];
	struct fetch_result r;
	struct m365_err e;

	if (cur->ep == NULL || update_microsoft_base(cur->version, from) < 0) {
		changes_not_asked(report, cur->ep ? "the version replaced is "
		                                    "not one of Microsoft's"
		                                  : "no version before it");
		return;
	}
	snprintf(url, sizeof(url), "%s/changes/%s/%s?ClientRequestId=%s",
	         u->base, u->instance, from, u->guid);
	if (get_ok(u, url, &r, &e) < 0) {
		changes_not_asked(report, e.msg);
		u->refusal = refusal;
		return;
	}
	changes_crosscheck(report, cur->ep, neu, r.body, r.len, from, latest,
	                   u->no_ipv6);
	fetch_free(&r);
}
