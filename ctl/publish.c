/* publish.c - shared by update and import (see publish.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "changes.h"
#include "ctl.h"
#include "fileio.h"
#include "m365_text.h"
#include "publish.h"

/* The largest version file read from the state directory. */
#define VERSION_FILE_MAX 256
/* The largest change report copied from Redis. */
#define CHANGES_MAX (16u << 20)

int
ctl_sign_key(const char *cmd, const char *path, struct m365_key **key)
{
	struct m365_err err;

	*key = NULL;
	if (path == NULL)
		return 0;
	if ((*key = m365_key_load_private(path, &err)) != NULL)
		return 0;
	fprintf(stderr, "m365ctl %s: %s\n", cmd, err.msg);
	return 2;
}

char *
publisher_name(char *buf, size_t len)
{
	char host[128] = "unknown";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "%s:%ld", host, (long)getpid());
	return buf;
}

void
current_free(struct current *cur)
{
	m365_endpoints_free(cur->ep);
	cur->ep = NULL;
}

/* Records that the state directory's copy cannot be used. */
static int
dir_corrupt(const struct target *t, struct current *cur, const char *why)
{
	cur->version[0] = '\0';
	m365_endpoints_free(cur->ep);
	cur->ep = NULL;
	snprintf(cur->what, sizeof(cur->what), "list in %s", t->state_dir);
	snprintf(cur->why, sizeof(cur->why), "%s", why);
	return 0;
}

/* The version file: none (0, version ""), or valid (0), or corrupt. */
static int
dir_version(const struct target *t, struct current *cur)
{
	char path[4096], *buf;
	struct m365_err e;
	struct stat st;
	size_t len;

	snprintf(path, sizeof(path), "%s/version", t->state_dir);
	if (stat(path, &st) < 0 && errno == ENOENT)
		return 0;
	if ((buf = m365_read_file(path, VERSION_FILE_MAX, &len, &e)) == NULL)
		return dir_corrupt(t, cur, e.msg);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!m365_version_valid(buf)) {
		free(buf);
		snprintf(e.msg, sizeof(e.msg), "%.400s: no valid version",
		         path);
		return dir_corrupt(t, cur, e.msg);
	}
	snprintf(cur->version, sizeof(cur->version), "%s", buf);
	free(buf);
	return 0;
}

/* text into out[M365_PARAMS_MAX] when it reads as parameters, else "". */
static void
keep_params(char *out, const char *text)
{
	out[0] = '\0';
	if (text != NULL &&
	    m365_token(text, strlen(text), M365_PARAMS_MAX - 1, "=&,._-"))
		snprintf(out, M365_PARAMS_MAX, "%s", text);
}

/* The params file of the state directory ("" when missing or odd). */
static void
dir_params(const struct target *t, struct current *cur)
{
	char path[4096], *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/params", t->state_dir);
	if ((buf = m365_read_file(path, M365_PARAMS_MAX - 1, &len, NULL)) ==
	    NULL)
		return;
	buf[strcspn(buf, "\r\n")] = '\0';
	keep_params(cur->params, buf);
	free(buf);
}

static int
current_from_dir(const struct target *t, struct current *cur)
{
	char path[4096];
	struct m365_err e;

	if (dir_version(t, cur) < 0 || cur->version[0] == '\0')
		return 0;
	dir_params(t, cur);
	snprintf(path, sizeof(path), "%s/endpoints.json", t->state_dir);
	if ((cur->ep = m365_endpoints_load_file(path, &e)) == NULL)
		return dir_corrupt(t, cur, e.msg);
	return 0;
}

/* Bad data (recorded in cur, 0) or a failing Redis (-1, err set). */
static int
redis_corrupt(struct current *cur, const char *what, const struct m365_err *e,
              struct m365_err *err)
{
	if (e->code != M365_E_INPUT && e->code != M365_E_REFUSED) {
		if (err)
			*err = *e;
		return -1;
	}
	snprintf(cur->what, sizeof(cur->what), "%s", what);
	snprintf(cur->why, sizeof(cur->why), "%s", e->msg);
	return 0;
}

/* The version list must be a list (whatever it holds is replaced). */
static int
check_versions(const struct target *t, struct current *cur,
               struct m365_err *err)
{
	char what[600];
	struct m365_err e;
	char **kept;

	if ((kept = m365_store_versions(t->redis, t->prefix, &e)) != NULL) {
		m365_strv_free(kept);
		return 0;
	}
	snprintf(what, sizeof(what), "version list %.500sversions", t->prefix);
	return redis_corrupt(cur, what, &e, err);
}

int
publish_params(redisContext *c, const char *prefix, const char *version,
               char *out, struct m365_err *err)
{
	struct m365_err e;
	char *p = m365_store_field(c, prefix, version, "params",
	                           M365_PARAMS_MAX - 1, &e);

	out[0] = '\0';
	if (p == NULL && e.code != M365_E_INPUT) {
		if (err)
			*err = e;
		return -1;
	}
	keep_params(out, p);
	free(p);
	return 0;
}

static int
current_from_redis(const struct target *t, struct current *cur,
                   struct m365_err *err)
{
	struct m365_store_limits lim = {.max = 0, .verify = NULL};
	char what[600];
	struct m365_err e;
	int rc;

	rc = m365_store_current(t->redis, t->prefix, cur->version, &e);
	if (rc < 0) {
		cur->version[0] = '\0';
		snprintf(what, sizeof(what), "pointer %.500scurrent",
		         t->prefix);
		return redis_corrupt(cur, what, &e, err);
	}
	if (check_versions(t, cur, err) < 0)
		return -1;
	if (cur->why[0] != '\0' || rc == 0)
		return 0;
	cur->ep =
	    m365_store_load(t->redis, t->prefix, cur->version, &lim, NULL, &e);
	if (cur->ep != NULL)
		return publish_params(t->redis, t->prefix, cur->version,
		                      cur->params, err);
	snprintf(what, sizeof(what), "version %s", cur->version);
	return redis_corrupt(cur, what, &e, err);
}

int
publish_current(const struct target *t, struct current *cur,
                struct m365_err *err)
{
	memset(cur, 0, sizeof(*cur));
	if (t->redis != NULL)
		return current_from_redis(t, cur, err);
	return t->state_dir ? current_from_dir(t, cur) : 0;
}

int
publish_recover(struct target *t, const struct current *cur, bool replace,
                struct m365_err *err)
{
	if (cur->why[0] == '\0')
		return 0;
	if (t->redis == NULL) {
		fprintf(stderr,
		        "m365ctl %s: state directory %s holds a corrupt list "
		        "(%s); replacing it\n",
		        t->cmd, t->state_dir, cur->why);
		return 0;
	}
	if (replace)
		return 0;
	t->refusal = "corrupt";
	return m365_err_set(err, M365_E_REFUSED,
	                    "current %s is corrupt (%s); --force to replace it",
	                    cur->what, cur->why);
}

char *
publish_was(const struct current *cur, char *buf, size_t len)
{
	if (cur->why[0] != '\0')
		snprintf(buf, len, "replacing corrupt %s: %s", cur->what,
		         cur->why);
	else
		snprintf(buf, len, "was %s",
		         cur->version[0] ? cur->version : "none");
	return buf;
}

/* endpoints.json, params and version (last) into the state directory,
 * atomically, and the change report. */
static int
write_dir(const struct target *t, const struct m365_snapshot *s,
          struct m365_err *err)
{
	char path[4096];

	if (mkdir(t->state_dir, 0755) < 0 && errno != EEXIST)
		return m365_err_set(err, M365_E_IO, "%s: %s", t->state_dir,
		                    strerror(errno));
	snprintf(path, sizeof(path), "%s/endpoints.json", t->state_dir);
	if (m365_write_file_atomic(path, s->json, s->len, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/params", t->state_dir);
	if (m365_write_file_atomic(path, s->params, strlen(s->params), err) < 0)
		return -1;
	if (s->changes && changes_save(t->state_dir, s->version, s->changes,
	                               t->keep, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/version", t->state_dir);
	return m365_write_file_atomic(path, s->version, strlen(s->version),
	                              err);
}

int
publish_write(const struct target *t, struct m365_snapshot *s,
              const json_t *report, struct m365_err *err)
{
	char *text = NULL;
	int rc = -1;

	m365_sha256_hex(s->json, s->len, s->sha256);
	s->sig[0] = '\0';
	if (report && (text = json_dumps(report, JSON_COMPACT)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	s->changes = text;
	if (t->key && m365_sign_version(t->key, s->version, s->sha256,
	                                s->published_at, s->sig, err) < 0)
		goto out;
	if (t->redis &&
	    m365_store_publish(t->redis, t->prefix, s, t->keep, err) < 0)
		goto out;
	rc = t->state_dir ? write_dir(t, s, err) : 0;
out:
	s->changes = NULL;
	free(text);
	return rc;
}

int
publish_sync_dir(const struct target *t, const struct current *cur,
                 struct m365_err *err)
{
	struct target dir = {.state_dir = t->state_dir};
	struct m365_snapshot s;
	struct current have;
	struct m365_err e;
	char *changes;
	int same, rc;

	if (t->redis == NULL || t->state_dir == NULL || cur->ep == NULL)
		return 0;
	publish_current(&dir, &have, NULL);
	same = have.ep != NULL && strcmp(have.version, cur->version) == 0;
	current_free(&have);
	if (same)
		return 0;
	if (m365_store_get(t->redis, t->prefix, cur->version, NULL, &s, err) <
	    0)
		return -1;
	snprintf(s.params, sizeof(s.params), "%s", cur->params);
	changes = m365_store_field(t->redis, t->prefix, cur->version, "changes",
	                           CHANGES_MAX, &e);
	s.changes = changes;
	if ((rc = write_dir(t, &s, err)) == 0)
		printf("state directory %s: now version %s, as in Redis\n",
		       t->state_dir, cur->version);
	free(changes);
	m365_snapshot_free(&s);
	return rc;
}

json_t *
publish_report(const struct current *cur, const struct m365_endpoints *neu,
               const struct m365_snapshot *s, const char *why)
{
	json_t *r = changes_report(cur->ep, cur->version, neu);

	if (r != NULL) {
		changes_describe(r, s);
		changes_not_asked(r, why);
	}
	return r;
}

int
pinned(struct target *t, struct m365_err *err)
{
	t->pinned[0] = '\0';
	if (t->redis == NULL)
		return 0;
	return m365_store_pinned(t->redis, t->prefix, t->pinned, err) < 0 ? -1
	                                                                  : 0;
}
