/*
 * config.c - srv_m365_bypass's directives in c-icap.conf (see bypass.h).
 *
 *     m365_bypass.ListFile /var/lib/m365-bypass/endpoints.json
 *     m365_bypass.Categories Optimize,Allow
 *
 * The same options as ext_m365_acl's, under c-icap's names.  c-icap parses
 * its configuration before its server log is open, so the setters only
 * keep the values (and the first mistake); bypass_configure() checks them
 * all and loads the list once the log is open, and every message names
 * the directive as written in c-icap.conf.
 */
#include <c_icap/c-icap.h>
#include <c_icap/cfg_param.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bypass.h"
#include "m365_text.h"

#define DIRECTIVE(name) BYPASS_SERVICE "." name

/* How the library names our options in its messages. */
static const struct m365_option_names names = {
    .list = DIRECTIVE("ListFile"),
    .local = DIRECTIVE("LocalList"),
    .categories = DIRECTIVE("Categories"),
    .service_areas = DIRECTIVE("ServiceAreas"),
    .redis = DIRECTIVE("Redis"),
    .cache = DIRECTIVE("Cache"),
    .auth_file = DIRECTIVE("RedisAuthFile"),
    .verify_key = DIRECTIVE("VerifyKey"),
    .local_max_bytes = DIRECTIVE("LocalMaxBytes"),
};

/* Keeps the first mistake in the directives for bypass_configure(). */
static void
mistake(const char *directive, const char *why)
{
	struct bypass_config *c = &bypass_ctx.cfg;

	if (c->error[0] == '\0')
		snprintf(c->error, sizeof(c->error),
		         BYPASS_SERVICE ".%.64s: %.400s", directive, why);
}

/* A directive with one value, kept as written. */
static int
set_value(const char *directive, const char **argv, void *data)
{
	char **slot = data;

	if (argv == NULL || argv[0] == NULL || argv[1] != NULL) {
		mistake(directive, "expected exactly one value");
		return 1;
	}
	free(*slot);
	if ((*slot = strdup(argv[0])) == NULL)
		mistake(directive, "out of memory");
	return 1;
}

/* NextServices: the ICAP services to continue with after an inspection. */
static int
set_services(const char *directive, const char **argv, void *data)
{
	struct bypass_config *c = data;
	struct m365_err err;
	size_t n = 0;

	while (argv != NULL && argv[n] != NULL)
		n++;
	if (icap_service_list(argv, n, c->next_services,
	                      sizeof(c->next_services), &err) < 0) {
		mistake(directive, err.msg);
		return 1;
	}
	c->has_next_services = true;
	return 1;
}

struct ci_conf_entry bypass_conf_table[] = {
    {"ListFile", &bypass_ctx.cfg.list, set_value,
     "Microsoft endpoint list JSON (default: the bundled list)"},
    {"LocalList", &bypass_ctx.cfg.local, set_value,
     "the admins' local bypass/never rules"},
    {"Categories", &bypass_ctx.cfg.categories, set_value,
     "categories that bypass (default: Optimize,Allow)"},
    {"ServiceAreas", &bypass_ctx.cfg.service_areas, set_value,
     "service areas that bypass (default: all)"},
    {"Redis", &bypass_ctx.cfg.redis, set_value,
     "follow the list published in Redis at this URL"},
    {"RedisPrefix", &bypass_ctx.cfg.prefix, set_value,
     "Redis key prefix (default: m365:)"},
    {"Cache", &bypass_ctx.cfg.cache, set_value,
     "keep the last list Redis gave in this file"},
    {"RedisAuthFile", &bypass_ctx.cfg.auth_file, set_value,
     "Redis credentials file: USER PASSWORD or PASSWORD (mode 600)"},
    {"VerifyKey", &bypass_ctx.cfg.verify_key, set_value,
     "refuse versions not signed by this Ed25519 public key (PEM)"},
    {"RedisMaxBytes", &bypass_ctx.cfg.max_bytes, set_value,
     "refuse versions larger than this many bytes (default 64 MiB)"},
    {"LocalMaxBytes", &bypass_ctx.cfg.local_max_bytes, set_value,
     "refuse local lists larger than this many bytes (default 256 MiB)"},
    {"MetricsDir", &bypass_ctx.cfg.metrics_dir, set_value,
     "count into DIR/counters, shared by the host's processes "
     "(" M365_METRICS_DIR_DEFAULT "; off: no counting)"},
    {"NextServices", &bypass_ctx.cfg, set_services,
     "ICAP services to continue with when a request is not a bypass"},
    {NULL, NULL, NULL, NULL}};

/* True when a Redis prefix is 1-100 printable characters without spaces. */
static bool
prefix_ok(const char *p)
{
	size_t n = strlen(p), i;

	if (n == 0 || n > 100)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~')
			return false;
	return true;
}

int
bypass_configure(struct bypass *b, struct m365_err *err)
{
	struct bypass_config *c = &b->cfg;
	struct m365_live_config lc = {
	    .opt = {.list = c->list,
	            .local = c->local,
	            .categories = c->categories,
	            .service_areas = c->service_areas,
	            .names = &names},
	    .redis = c->redis,
	    .prefix = c->prefix,
	    .cache = c->cache,
	    .auth_file = c->auth_file,
	    .verify_key = c->verify_key,
	    .log = bypass_log,
	    .event = bypass_stats_event,
	    .ctx = b,
	    .frontend = M365_FE_ICAP,
	};
	struct m365_list *l;
	long max = 0;

	if (c->error[0] != '\0')
		return m365_err_set(err, M365_E_INPUT, "%s", c->error);
	if (c->prefix && !prefix_ok(c->prefix))
		return m365_err_set(
		    err, M365_E_INPUT,
		    "%s: expected 1 to 100 printable characters "
		    "without spaces",
		    DIRECTIVE("RedisPrefix"));
	if (c->max_bytes && m365_parse_long(c->max_bytes, M365_MAX_BYTES_MIN,
	                                    M365_MAX_BYTES_MAX, &max) < 0)
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: expected 4096 to 1073741824 bytes",
		                    DIRECTIVE("RedisMaxBytes"));
	lc.max_bytes = c->max_bytes ? (size_t)max : 0;
	if (c->local_max_bytes &&
	    m365_parse_long(c->local_max_bytes, M365_LOCAL_MAX_BYTES_MIN,
	                    M365_LOCAL_MAX_BYTES_MAX, &max) < 0)
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: expected 4096 to 4294967296 bytes",
		                    DIRECTIVE("LocalMaxBytes"));
	lc.opt.local_max_bytes = c->local_max_bytes ? (size_t)max : 0;
	/* every value is checked, even where a cache would be used first */
	if ((l = m365_list_load(&lc.opt, err)) == NULL)
		return -1;
	m365_list_unref(l);
	if (c->has_next_services &&
	    icap_next_services_header(c->next_services, b->next_header,
	                              sizeof(b->next_header)) < 0)
		return m365_err_set(err, M365_E_INPUT, "%s: too long",
		                    DIRECTIVE("NextServices"));
	if ((b->live = m365_live_new(&lc, err)) == NULL)
		return -1;
	return 0;
}

void
bypass_release(struct bypass *b)
{
	struct bypass_config *c = &b->cfg;

	if (m365_live_stop(b->live) == 0)
		m365_metrics_close(b->metrics);
	b->live = NULL;
	b->metrics = NULL;
	free(c->list);
	free(c->local);
	free(c->categories);
	free(c->service_areas);
	free(c->redis);
	free(c->prefix);
	free(c->cache);
	free(c->auth_file);
	free(c->verify_key);
	free(c->max_bytes);
	free(c->local_max_bytes);
	free(c->metrics_dir);
	memset(c, 0, sizeof(*c));
}
