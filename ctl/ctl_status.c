/* ctl_status.c - m365ctl status: what Redis and the state dir hold. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connect.h"
#include "ctl.h"
#include "publish.h"

struct status {
	struct ctl_redis ro;
	const char *prefix, *dir, *verify_key;
	struct m365_key *key;
};

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: m365ctl status [--redis URL] [--redis-prefix P]\n"
	    "         [--redis-auth-file FILE] [--verify-key FILE]\n"
	    "         [--state-dir DIR]\n"
	    "\n"
	    "Prints the version in Redis, when and by whom it was published,\n"
	    "its signature (checked with --verify-key), the versions kept for\n"
	    "rollback, and the state directory's copy.\n"
	    "Exit status: 0, 2 usage, or 4 when Redis cannot be read or is\n"
	    "corrupt.\n");
}

static void
print_time(long long t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s", buf);
}

/* "valid", "none" or "bad" with a key; without, whether there is one. */
static void
print_signature(const struct m365_key *key, const struct m365_snapshot *s)
{
	const char *what;

	if (s->sig[0] == '\0')
		what = "none";
	else if (key == NULL)
		what = "present (not checked: no --verify-key)";
	else if (m365_verify_version(key, s->version, s->sha256,
	                             s->published_at, s->sig, NULL) == 0)
		what = "valid";
	else
		what = "bad";
	printf("%-14s %s\n", "signature:", what);
}

static void
print_version(const struct m365_snapshot *s, const struct m365_endpoints *ep,
              const struct m365_key *key)
{
	printf("%-14s %s\n", "current:", s->version);
	printf("%-14s ", "published:");
	print_time(s->published_at);
	printf(" by %s\n%-14s %s\n", s->published_by, "source:", s->source);
	printf("%-14s %s\n", "sha256:", s->sha256);
	print_signature(key, s);
	printf("%-14s %zu sets, %zu urls, %zu ips\n", "list:", ep->n_sets,
	       ep->n_urls, ep->n_ips);
}

static int
print_kept(redisContext *c, const char *prefix, struct m365_err *err)
{
	char **kept;
	size_t i;

	if ((kept = m365_store_versions(c, prefix, err)) == NULL)
		return -1;
	printf("%-14s", "kept:");
	for (i = 0; kept[i]; i++)
		printf(" %s", kept[i]);
	printf("\n");
	m365_strv_free(kept);
	return 0;
}

static int
redis_status(redisContext *c, const struct status *st, struct m365_err *err)
{
	struct m365_store_limits lim = {.max = 0, .verify = NULL};
	char v[M365_VERSION_MAX + 1];
	struct m365_snapshot s;
	struct m365_endpoints *ep;
	int rc;

	if ((rc = m365_store_current(c, st->prefix, v, err)) < 0)
		return -1;
	if (rc == 0) {
		printf("%-14s none (nothing published yet)\n", "current:");
		return 0;
	}
	if ((ep = m365_store_load(c, st->prefix, v, &lim, &s, err)) == NULL)
		return -1;
	print_version(&s, ep, st->key);
	m365_endpoints_free(ep);
	m365_snapshot_free(&s);
	return print_kept(c, st->prefix, err);
}

static void
dir_status(const char *dir)
{
	struct target t = {.state_dir = dir};
	struct current cur;

	publish_current(&t, &cur, NULL);
	if (cur.why[0])
		printf("%-14s %s: %s\n", "state dir:", dir, cur.why);
	else if (cur.ep == NULL)
		printf("%-14s %s: no snapshot\n", "state dir:", dir);
	else
		printf("%-14s %s: version %s, %zu sets\n", "state dir:", dir,
		       cur.version, cur.ep->n_sets);
	current_free(&cur);
}

/* The Redis part; the exit status. */
static int
redis_part(const struct status *st)
{
	struct m365_redis_url ru;
	struct m365_err err;
	redisContext *c;
	char where[300];
	int rc;

	if ((rc = ctl_redis_url("status", &st->ro, &ru)) != 0)
		return rc;
	printf("%-14s %s (prefix %s)\n",
	       "redis:", m365_redis_url_describe(&ru, where, sizeof(where)),
	       st->prefix);
	rc = 0;
	if ((c = m365_redis_connect(&ru, CTL_REDIS_TIMEOUT_MS, &err)) == NULL ||
	    redis_status(c, st, &err) < 0) {
		fprintf(stderr, "m365ctl status: %s\n", err.msg);
		rc = 4;
	}
	if (c)
		redisFree(c);
	return rc;
}

/* The command line; 0, or the exit status (-1: 0 after --help). */
static int
options(int argc, char **argv, struct status *st)
{
	static const struct option longopts[] = {
	    {"redis", required_argument, NULL, 'r'},
	    {"redis-prefix", required_argument, NULL, 'p'},
	    {"redis-auth-file", required_argument, NULL, 'A'},
	    {"verify-key", required_argument, NULL, 'K'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': st->ro.url = optarg; break;
		case 'p': st->prefix = optarg; break;
		case 'A': st->ro.auth_file = optarg; break;
		case 'K': st->verify_key = optarg; break;
		case 'd': st->dir = optarg; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (st->ro.url == NULL && st->dir == NULL)) {
		fprintf(stderr,
		        "m365ctl status: --redis or --state-dir needed\n");
		return 2;
	}
	if (st->verify_key && st->ro.url == NULL) {
		fprintf(stderr, "m365ctl status: --verify-key needs --redis\n");
		return 2;
	}
	return ctl_redis_check("status", &st->ro);
}

static int
load_key(struct status *st)
{
	struct m365_err err;

	if (st->verify_key == NULL ||
	    (st->key = m365_key_load_public(st->verify_key, &err)) != NULL)
		return 0;
	fprintf(stderr, "m365ctl status: %s\n", err.msg);
	return 2;
}

int
ctl_status(int argc, char **argv)
{
	struct status st = {.prefix = M365_STORE_PREFIX};
	int rc;

	if ((rc = options(argc, argv, &st)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = load_key(&st)) != 0)
		return rc;
	if (st.ro.url)
		rc = redis_part(&st);
	if (st.dir && rc != 2)
		dir_status(st.dir);
	m365_key_free(st.key);
	return rc;
}
