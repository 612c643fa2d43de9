/*
 * bypass.h - the c-icap service srv_m365_bypass: its one context per
 * process, its configuration (c-icap.conf directives) and its statistics.
 *
 * srv_m365_bypass.c is the c-icap glue; config.c turns the directives
 * into a live list; stats.c counts in c-icap's statistics (the `info`
 * service shows them).  No matching code of its own: every decision is
 * m365_classify()'s.
 */
#ifndef ICAP_BYPASS_H
#define ICAP_BYPASS_H

#include <c_icap/c-icap.h>
#include <c_icap/cfg_param.h>
#include <stdbool.h>

#include "icap_headers.h"
#include "m365_classify.h"
#include "m365_live.h"

#define BYPASS_SERVICE "m365_bypass"

/* The directives' values, as c-icap.conf gives them (NULL when absent). */
struct bypass_config {
	char *list, *local, *categories, *service_areas;
	char *redis, *prefix, *cache;
	char *auth_file, *verify_key, *max_bytes, *local_max_bytes;
	char *metrics_dir; /* MetricsDir: NULL default, "off" */
	char next_services[ICAP_HEADER_MAX]; /* canonical list, or "" */
	bool has_next_services;
	char error[M365_ERR_MAX]; /* the first bad directive, or "" */
};

/* Where a bypassed request is counted by category. */
enum bypass_slot {
	SLOT_OPTIMIZE,
	SLOT_ALLOW,
	SLOT_DEFAULT,
	SLOT_OTHER,
	SLOT_LOCAL,
	SLOT_N
};

/* c-icap statistics ids (-1 when registration failed). */
struct bypass_stats {
	int requests, bypassed, inspected, malformed, no_list;
	int by_slot[SLOT_N];
	int reloads, refused;
};

/* Everything the service keeps: the one context of the process. */
struct bypass {
	struct bypass_config cfg;
	struct bypass_stats stats;
	struct m365_live *live;            /* NULL until configured */
	struct m365_metrics *metrics;      /* a child's counters, or NULL */
	char next_header[ICAP_HEADER_MAX]; /* for an inspected request */
};

/* The context of this process (srv_m365_bypass.c). */
extern struct bypass bypass_ctx;

/*
 * The directives, for c-icap's configuration parser (config.c).  Their
 * values go to bypass_ctx.cfg; a bad one is kept in cfg.error and reported
 * by bypass_configure(), once c-icap's server log is open.
 */
extern struct ci_conf_entry bypass_conf_table[];

/*
 * Checks every directive's value and loads the list they name.  Returns 0,
 * or -1 with err set to "DIRECTIVE: reason" (the directive as written in
 * c-icap.conf).  On success b->live holds the list, not yet following
 * Redis: each c-icap child calls m365_live_follow() after the fork.
 */
int bypass_configure(struct bypass *b, struct m365_err *err);

/* Frees the list and the directives' values; b can be configured again. */
void bypass_release(struct bypass *b);

/* Registers the statistics (in init_service, before children fork). */
void bypass_stats_register(struct bypass_stats *s);

/*
 * Counts one request by its verdict: bypassed or inspected, in the
 * category's slot when bypassed, and as malformed (no readable destination
 * or port) or as answered without a list.
 */
void bypass_stats_count(const struct bypass_stats *s,
                        const struct m365_verdict *v);

/* The follower's events, counted as reloads and refused reloads. */
void bypass_stats_event(void *ctx, enum m365_live_event ev,
                        const char *version);

/* The library's messages, to c-icap's server log. */
void bypass_log(void *ctx, enum m365_log_level level, const char *msg);

#endif
