/* connect.c - how m365ctl reaches Redis (see connect.h). */
#include <stdio.h>

#include "connect.h"
#include "ctl.h"

static int
usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "m365ctl %s: %s\n", cmd, msg);
	return 2;
}

int
ctl_redis_add_sentinel(const char *cmd, struct ctl_redis *r, const char *arg)
{
	struct m365_err err;

	if (r->n_sentinels == SENTINEL_MAX)
		return usage_error(cmd, "--redis-sentinel: at most 5");
	if (sentinel_parse(arg, &r->sentinels[r->n_sentinels], &err) < 0)
		return usage_error(cmd, err.msg);
	r->n_sentinels++;
	return 0;
}

int
ctl_redis_option(const char *cmd, struct ctl_redis *r, const char **prefix,
                 int c, const char *arg)
{
	switch (c) {
	case 'r': r->url = arg; return 1;
	case 'p': *prefix = arg; return 1;
	case 'A': r->auth_file = arg; return 1;
	case 'S': return ctl_redis_add_sentinel(cmd, r, arg) != 0 ? 2 : 1;
	case 'M': r->master = arg; return 1;
	default: return 0;
	}
}

bool
ctl_redis_wanted(const struct ctl_redis *r)
{
	return r->url != NULL || r->n_sentinels > 0;
}

int
ctl_redis_check(const char *cmd, const struct ctl_redis *r)
{
	if ((r->n_sentinels > 0) != (r->master != NULL))
		return usage_error(cmd, "--redis-sentinel and --redis-master "
		                        "go together");
	if (r->auth_file && !ctl_redis_wanted(r))
		return usage_error(cmd, "--redis-auth-file needs --redis");
	return 0;
}

int
ctl_redis_url(const char *cmd, const struct ctl_redis *r,
              struct m365_redis_url *u)
{
	const char *url = r->url ? r->url : "redis://127.0.0.1:6379/0";
	struct m365_err err;

	if (m365_redis_url_parse(url, u, ctl_option_names.redis, &err) < 0 ||
	    (r->auth_file && m365_redis_auth_file(r->auth_file, u, &err) < 0))
		return usage_error(cmd, err.msg);
	return 0;
}

int
ctl_redis_open(const char *cmd, const struct ctl_redis *r, redisContext **out)
{
	struct m365_redis_url u;
	struct m365_err err;
	int rc;

	*out = NULL;
	if ((rc = ctl_redis_check(cmd, r)) != 0 ||
	    (rc = ctl_redis_url(cmd, r, &u)) != 0)
		return rc;
	*out = r->n_sentinels
	           ? sentinel_connect(r->sentinels, r->n_sentinels, r->master,
	                              &u, CTL_REDIS_TIMEOUT_MS, &err)
	           : m365_redis_connect(&u, CTL_REDIS_TIMEOUT_MS, &err);
	if (*out == NULL) {
		fprintf(stderr, "m365ctl %s: %s\n", cmd, err.msg);
		return 4;
	}
	return 0;
}
