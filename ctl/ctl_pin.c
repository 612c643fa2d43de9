/*
 * ctl_pin.c - m365ctl pin VERSION, unpin, rollback: keep a kept version
 * current whatever Microsoft publishes next (see ctl.h).
 *
 * Pinning publishes the kept version anew (a new publication time, signed
 * again with --sign-key), so that the helpers switch to it like to any
 * publish and a verifying helper does not take it for a replay; then
 * PREFIX "pinned" names it, and update keeps it until unpin.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "changes.h"
#include "connect.h"
#include "ctl.h"
#include "publish.h"

static void
usage(FILE *f, const char *cmd)
{
	fprintf(
	    f,
	    "usage: m365ctl %s%s [--redis URL] [--redis-prefix P]\n"
	    "         [--redis-auth-file FILE]\n"
	    "         [--redis-sentinel HOST:PORT ... --redis-master NAME]\n"
	    "%s"
	    "\n"
	    "pin VERSION: makes a kept version current again and keeps it\n"
	    "so (update publishes nothing newer) until unpin.  rollback:\n"
	    "pins the kept version before the current one.  unpin: lets\n"
	    "update publish Microsoft's newest again.  A signed version\n"
	    "is published anew: pin and rollback then need --sign-key.\n"
	    "Exit status: 0 done, 1 refused (no such kept version), 2 usage,\n"
	    "3 an update holds the lock, 4 Redis error.\n",
	    cmd, strcmp(cmd, "pin") == 0 ? " VERSION" : "",
	    strcmp(cmd, "unpin") == 0 ? "" : "         [--sign-key FILE]\n");
}

/* What a pin command works with. */
struct pin {
	const char *cmd;
	struct ctl_redis ro;
	struct target t;
	const char *sign_key;
	struct m365_key *key;
	char owner[160];
};

/* The kept version before the current one (the greatest name below it;
 * Microsoft's are YYYYMMDDNN) into out; 0, or 1 when there is none. */
static int
previous(char **kept, const char *cur, char *out)
{
	const char *best = NULL;
	size_t i;

	for (i = 0; kept[i] != NULL; i++) {
		const char *v = kept[i];
		int below = strlen(v) != strlen(cur) ? strlen(v) < strlen(cur)
		                                     : strcmp(v, cur) < 0;
		if (below &&
		    (best == NULL || strlen(v) > strlen(best) ||
		     (strlen(v) == strlen(best) && strcmp(v, best) > 0)))
			best = v;
	}
	if (best == NULL)
		return 1;
	snprintf(out, M365_VERSION_MAX + 1, "%s", best);
	return 0;
}

/* Kept version v (in s) with what it was asked for, and the change report
 * of going back to it; -1 with err set, or 0. */
static int
prepare(struct pin *p, struct m365_snapshot *s, json_t **report,
        struct m365_err *err)
{
	struct m365_endpoints *neu;
	struct current cur;
	struct m365_err e;
	char *params, why[64];

	params = m365_store_field(p->t.redis, p->t.prefix, s->version, "params",
	                          sizeof(s->params) - 1, &e);
	snprintf(s->params, sizeof(s->params), "%s", params ? params : "");
	free(params);
	if (publish_current(&p->t, &cur, err) < 0)
		return -1;
	if ((neu = m365_endpoints_parse(s->json, s->len, s->version, err)) ==
	    NULL) {
		current_free(&cur);
		return -1;
	}
	snprintf(why, sizeof(why), "a kept version, by m365ctl %s", p->cmd);
	*report = publish_report(&cur, neu, s, why);
	current_free(&cur);
	m365_endpoints_free(neu);
	if (*report == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	return 0;
}

/* Publishes kept version v anew and pins it; the exit status. */
static int
pin_version(struct pin *p, const char *v, struct m365_err *err)
{
	struct m365_snapshot s;
	json_t *report = NULL;
	char source[256];
	char **kept;
	size_t i;
	int rc = 0;

	if ((kept = m365_store_versions(p->t.redis, p->t.prefix, err)) == NULL)
		return ctl_exit_status(err);
	for (i = 0; kept[i] != NULL && strcmp(kept[i], v) != 0; i++)
		;
	if (kept[i] == NULL) {
		fprintf(stderr, "m365ctl %s: %s is not a kept version (",
		        p->cmd, v);
		for (i = 0; kept[i] != NULL; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", kept[i]);
		fprintf(stderr, "%s)\n", i ? "" : "none");
		m365_strv_free(kept);
		return 1;
	}
	m365_strv_free(kept);
	if (m365_store_get(p->t.redis, p->t.prefix, v, NULL, &s, err) < 0)
		return ctl_exit_status(err);
	if (s.sig[0] != '\0' && p->key == NULL) {
		fprintf(stderr,
		        "m365ctl %s: %s is signed: it is published anew, so "
		        "give --sign-key (helpers that verify take an older "
		        "signature for a replay)\n",
		        p->cmd, v);
		m365_snapshot_free(&s);
		return 2;
	}
	snprintf(source, sizeof(source), "%s of %.200s", p->cmd, s.source);
	snprintf(s.source, sizeof(s.source), "%s", source);
	s.published_at = (long long)time(NULL);
	publisher_name(s.published_by, sizeof(s.published_by));
	if (prepare(p, &s, &report, err) < 0 ||
	    publish_write(&p->t, &s, report, err) < 0 ||
	    m365_store_set_pin(p->t.redis, p->t.prefix, v, err) < 0)
		rc = ctl_exit_status(err);
	else {
		printf("pinned %s: current, and update keeps it until m365ctl "
		       "unpin\n",
		       v);
		changes_print(stdout, report, true);
	}
	json_decref(report);
	m365_snapshot_free(&s);
	return rc;
}

/* The command on a connected, locked Redis; the exit status. */
static int
act(struct pin *p, const char *arg, struct m365_err *err)
{
	char v[M365_VERSION_MAX + 1], cur[M365_VERSION_MAX + 1];
	char **kept;
	int rc;

	if (strcmp(p->cmd, "unpin") == 0) {
		if ((rc = m365_store_pinned(p->t.redis, p->t.prefix, v, err)) <
		    0)
			return ctl_exit_status(err);
		if (m365_store_set_pin(p->t.redis, p->t.prefix, NULL, err) < 0)
			return ctl_exit_status(err);
		if (rc == 0)
			printf("nothing was pinned\n");
		else
			printf("unpinned %s: the next update publishes "
			       "Microsoft's newest\n",
			       v);
		return 0;
	}
	if (strcmp(p->cmd, "pin") == 0)
		return pin_version(p, arg, err);
	if ((rc = m365_store_current(p->t.redis, p->t.prefix, cur, err)) < 0)
		return ctl_exit_status(err);
	if (rc == 0) {
		fprintf(stderr, "m365ctl rollback: Redis holds no version\n");
		return 1;
	}
	if ((kept = m365_store_versions(p->t.redis, p->t.prefix, err)) == NULL)
		return ctl_exit_status(err);
	rc = previous(kept, cur, v);
	m365_strv_free(kept);
	if (rc != 0) {
		fprintf(stderr, "m365ctl rollback: no kept version before %s\n",
		        cur);
		return 1;
	}
	return pin_version(p, v, err);
}

static int
run(int argc, char **argv, const char *cmd)
{
	static const struct option longopts[] = {
	    CTL_REDIS_LONGOPTS,
	    {"sign-key", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct pin p;
	struct m365_err err;
	int c, rc, args = strcmp(cmd, "pin") == 0;

	memset(&p, 0, sizeof(p));
	p.cmd = cmd;
	p.t.cmd = cmd;
	p.t.prefix = M365_STORE_PREFIX;
	p.t.keep = M365_STORE_KEEP;
	p.t.max_growth = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = ctl_redis_option(cmd, &p.ro, &p.t.prefix, c,
		                           optarg)) == 2)
			return 2;
		if (rc == 1)
			continue;
		switch (c) {
		case 'k':
			if (strcmp(cmd, "unpin") == 0) {
				usage(stderr, cmd);
				return 2;
			}
			p.sign_key = optarg;
			break;
		case 'h': usage(stdout, cmd); return 0;
		default: usage(stderr, cmd); return 2;
		}
	}
	if (argc - optind != args ||
	    (args && !m365_version_valid(argv[optind]))) {
		usage(stderr, cmd);
		return 2;
	}
	if (!ctl_redis_wanted(&p.ro)) {
		fprintf(stderr,
		        "m365ctl %s: needs --redis (the kept versions "
		        "are there)\n",
		        cmd);
		return 2;
	}
	if ((rc = ctl_redis_check(cmd, &p.ro)) != 0 ||
	    (rc = ctl_sign_key(cmd, p.sign_key, &p.key)) != 0)
		return rc;
	p.t.key = p.key;
	if ((rc = ctl_redis_open(cmd, &p.ro, &p.t.redis)) != 0) {
		m365_key_free(p.key);
		return rc;
	}
	publisher_name(p.owner, sizeof(p.owner));
	memset(&err, 0, sizeof(err));
	rc = m365_store_lock(p.t.redis, p.t.prefix, p.owner, 60000, &err);
	if (rc <= 0) {
		if (rc == 0)
			fprintf(stderr,
			        "m365ctl %s: an update holds the lock; "
			        "try again in a minute\n",
			        cmd);
		else
			fprintf(stderr, "m365ctl %s: %s\n", cmd, err.msg);
		rc = rc == 0 ? 3 : 4;
	} else {
		rc = act(&p, args ? argv[optind] : NULL, &err);
		if (rc != 0 && err.msg[0] != '\0')
			fprintf(stderr, "m365ctl %s: %s\n", cmd, err.msg);
		m365_store_unlock(p.t.redis, p.t.prefix, p.owner);
	}
	redisFree(p.t.redis);
	m365_key_free(p.key);
	return rc;
}

int
ctl_pin(int argc, char **argv)
{
	return run(argc, argv, "pin");
}

int
ctl_unpin(int argc, char **argv)
{
	return run(argc, argv, "unpin");
}

int
ctl_rollback(int argc, char **argv)
{
	return run(argc, argv, "rollback");
}
