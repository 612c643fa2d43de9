/*
 * publish.h - what m365ctl update and import share: the current version
 * (and what to do when it is corrupt), the safety checks, the change
 * summary and the publication itself (Redis and the on-disk snapshot in
 * the state directory).
 */
#ifndef M365CTL_PUBLISH_H
#define M365CTL_PUBLISH_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>

#include "m365_endpoints.h"
#include "m365_err.h"
#include "m365_sign.h"
#include "m365_store.h"

#define STATE_DIR_DEFAULT "/var/lib/m365-bypass"
/* --max-growth when not given */
#define MAX_GROWTH_DEFAULT 2.0

struct target {
	const char *cmd;     /* "update" or "import", for messages */
	redisContext *redis; /* or NULL: state directory only */
	const char *prefix;
	const char *state_dir; /* or NULL */
	bool force;
	double max_growth;          /* --max-growth, >= 1 */
	const struct m365_key *key; /* --sign-key, or NULL */
	int keep;
	/* What a refusal was about, for the run record (runlog.h): set by
	 * publish_recover() and publish_check() when they refuse. */
	const char *refusal;
	/* the pinned version (m365ctl pin), "" when none: set by pinned() */
	char pinned[M365_VERSION_MAX + 1];
};

/* The version in use, as far as it can be read. */
struct current {
	char version[M365_VERSION_MAX + 1]; /* "" when none or unknown */
	struct m365_endpoints *ep;          /* NULL when none or corrupt */
	/* When what holds the version is corrupt: what it is ("version V",
	 * "pointer PREFIXcurrent", "version list PREFIXversions", "list in
	 * DIR") and why ("" when nothing is corrupt). */
	char what[600];
	char why[M365_ERR_MAX];
	/* what it was asked for (m365_snapshot.params), "" when unknown */
	char params[M365_PARAMS_MAX];
};

/*
 * Reads the version in use (from Redis when connected, else from the
 * state directory) into cur.  Something corrupt, missing or of the wrong
 * type where the version should be is no error: cur->why says what is
 * wrong and cur->ep is NULL.  Returns 0, or -1 with err set when Redis
 * fails (M365_E_REDIS) or memory runs out.  Free with current_free().
 */
int publish_current(const struct target *t, struct current *cur,
                    struct m365_err *err);

void current_free(struct current *cur);

/*
 * Decides about a corrupt current version before it is replaced: the
 * state directory's copy is always replaced (saying so on stderr); Redis's
 * only when replace is true, else -1 with err set to "current WHAT is
 * corrupt (WHY); --force to replace it" (M365_E_REFUSED) and t->refusal
 * "corrupt".  0 otherwise.
 */
int publish_recover(struct target *t, const struct current *cur, bool replace,
                    struct m365_err *err);

/*
 * The safety checks of a new list against the current one (old may be
 * NULL): the breadth of its Optimize and Allow sets (m365_breadth.h;
 * never overridden), then, unless t->force, a list that loses more than
 * half of the current one's sets or names and addresses, and a list whose
 * names, address entries, IPv4 or IPv6 addresses covered or TCP ports grow
 * by more than t->max_growth.  Returns 0, or -1 with err set to
 * "refused: reason" (M365_E_REFUSED; M365_E_IO when no Public Suffix List
 * can be loaded) and t->refusal "breadth", "shrink" or "growth".
 */
int publish_check(struct target *t, const struct m365_endpoints *old,
                  const struct m365_endpoints *neu, struct m365_err *err);

/*
 * What the published line says about the version replaced: "was V",
 * "was none" or "replacing corrupt WHAT: WHY".  Returns buf.
 */
char *publish_was(const struct current *cur, char *buf, size_t len);

/* "sets 64 (+0 -8), names 204 (+5 -20), addresses 129 (+1 -3)". */
char *publish_summary(const struct m365_endpoints *old,
                      const struct m365_endpoints *neu, char *buf, size_t len);

/*
 * Computes s's sha256, signs it with t->key (when set), publishes it to
 * Redis (when connected) and writes endpoints.json, version and params
 * into the state directory atomically (when given), with the change
 * report (report, as JSON; NULL for none) in DIR/changes/VERSION.json,
 * keeping the reports of the t->keep newest.  0, or -1 with err set.
 */
int publish_write(const struct target *t, struct m365_snapshot *s,
                  const json_t *report, struct m365_err *err);

/*
 * With Redis and a state directory: when the directory does not hold cur
 * (the version in use in Redis, valid), writes it there as a publish
 * would (another host published it, or a pin did), saying so on stdout,
 * so that a proxy reading DIR/endpoints.json follows whichever updater
 * won the lock.  0, or -1 with err set.
 */
int publish_sync_dir(const struct target *t, const struct current *cur,
                     struct m365_err *err);

/*
 * The change report of neu against cur, described from s (changes.h),
 * with Microsoft's /changes not asked because of why.  Returns it (the
 * caller releases it with json_decref()), or NULL when memory runs out.
 */
json_t *publish_report(const struct current *cur,
                       const struct m365_endpoints *neu,
                       const struct m365_snapshot *s, const char *why);

/*
 * Loads the --sign-key of command cmd into *key (left NULL without path).
 * Returns 0, or 2 after printing "m365ctl CMD: reason".
 */
int ctl_sign_key(const char *cmd, const char *path, struct m365_key **key);

/*
 * Reads Redis's pinned version (m365ctl pin) into t->pinned ("" without
 * Redis or pin).  0, or -1 with err set.
 */
int pinned(struct target *t, struct m365_err *err);

/*
 * Reads the parameters recorded with version (m365_snapshot.params) into
 * out[M365_PARAMS_MAX]: "" when it has none, or something that is not
 * parameters.  0, or -1 with err set when Redis fails.
 */
int publish_params(redisContext *c, const char *prefix, const char *version,
                   char *out, struct m365_err *err);

/* "host:pid" of this process, for published_by and the lock owner. */
char *publisher_name(char *buf, size_t len);

#endif
