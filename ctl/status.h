/*
 * status.h - m365ctl status (internal): one report gathered once from this
 * host's counters (m365_metrics.h), Redis, the farm records in Redis
 * (m365_farm.h), the state directory and its run record (runlog.h), then
 * judged (the attention list) and printed as text or JSON.
 */
#ifndef M365CTL_STATUS_H
#define M365CTL_STATUS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "connect.h"
#include "m365_farm.h"
#include "m365_metrics.h"
#include "m365_sign.h"
#include "m365_store.h"
#include "runlog.h"

/* --max-age when not given, and its bounds, in days. */
#define STATUS_MAX_AGE_DEFAULT 14
#define STATUS_MAX_AGE_MAX 3650
/* The farm view reads at most this many records. */
#define FARM_SCAN_MAX 10000
#define ATTENTION_MAX 32
#define ATTENTION_LEN 600

/* A distinct list in use on this host: the processes of each front end
 * that use it, and the first one's gauges. */
struct used_list {
	const struct m365_metrics_proc *p;
	int n[M365_FE_N];
	long long age; /* seconds, -1 when unknown */
};

/* This host's processes, from DIR/counters. */
struct host_part {
	char name[M365_FARM_HOST_MAX + 1];
	const char *dir; /* --metrics */
	int read;        /* 1 read, 0 no counters (missing, off), -1 bad */
	char why[M365_ERR_MAX];
	struct m365_metrics_view view;
	struct used_list *lists;
	size_t n_lists;
	int procs[M365_FE_N];
	int no_list[M365_FE_N];
	int redis[3][M365_FE_N]; /* [enum m365_redis_state] */
	uint64_t ok, err, invalid, without_list;
};

/* One host of the farm view: entries [first, first + count) of the
 * sorted records. */
struct farm_host {
	size_t first, count;
	int squid, icap;
	bool lagging;
};

struct farm {
	bool read; /* false: not asked, or why says what failed */
	char why[M365_ERR_MAX];
	struct m365_farm_entry *e; /* sorted by host, front end, pid */
	size_t n;
	size_t bad;       /* records that did not parse */
	bool listed;      /* CLIENT LIST was allowed */
	size_t connected; /* followers known only by their connection */
	bool truncated;   /* stopped early: FARM_SCAN_MAX keys, or too long */
	struct farm_host *hosts;
	size_t n_hosts;
};

/* What Redis holds. */
struct redis_part {
	bool asked; /* --redis given */
	char where[300];
	const char *prefix;
	char why[M365_ERR_MAX]; /* "" or why it could not be read */
	bool has_current;
	struct m365_snapshot cur; /* json freed */
	size_t sets, urls, ips;
	const char *signature; /* "valid", "none", "bad", "present" */
	bool keyed;            /* checked with --verify-key */
	char **kept;           /* newest first, or NULL */
	char pinned[M365_VERSION_MAX + 1]; /* m365ctl pin's, "" none */
	long long checked; /* PREFIX "checked", 0 none, -1 invalid */
	long long age;     /* of the current version, seconds */
	struct farm farm;
};

/* The state directory and its run record. */
struct dir_part {
	const char *path;
	char version[M365_VERSION_MAX + 1]; /* "" none */
	char params[M365_PARAMS_MAX];       /* "" when not recorded */
	size_t sets;
	char why[M365_ERR_MAX]; /* its copy is corrupt */
	int run;                /* runlog_read(): 1, 0 none, -1 bad */
	char run_why[M365_ERR_MAX];
	struct run_record rec;
};

struct report {
	long long now;
	long max_age_days;
	struct host_part host;
	struct redis_part redis;
	struct dir_part dir;
	char attention[ATTENTION_MAX][ATTENTION_LEN];
	size_t n_attention;
};

/*
 * Reads this host's counters from dir (NULL: the default;
 * M365_METRICS_OFF: none) into h and groups its processes' lists.  A
 * missing or unreadable file is h->read 0, a file that is not a counters
 * file -1 (h->why says why).  Never fails otherwise.  Free with
 * status_host_free().
 */
void status_host(struct host_part *h, const char *dir);

/* Frees what status_host() read into h. */
void status_host_free(struct host_part *h);

/*
 * Reads what Redis (at ru) holds under prefix into rp: the current
 * version, validated completely, its signature checked against key when
 * given; the kept versions; PREFIX "checked"; the farm view.  A failure
 * is recorded in rp->why (rp->farm.why for the farm view); nothing is
 * printed.  Free with status_redis_free().
 */
void status_redis(struct redis_part *rp, const struct m365_redis_url *ru,
                  const char *prefix, const struct m365_key *key);

/* Frees what status_redis() read into rp (its farm view included). */
void status_redis_free(struct redis_part *rp);

/*
 * Reads the farm records under prefix (SCAN, at most FARM_SCAN_MAX keys)
 * into f, skipping and counting the ones that do not parse, and groups
 * them by host.  0, or -1 with f->why set.
 */
int status_farm(redisContext *c, const char *prefix, struct farm *f);

/*
 * Marks the farm's hosts that lag: a process on another version than
 * current (NULL: none marked) more than M365_FARM_LAG_S after its
 * publication at published_at.
 */
void status_farm_lag(struct farm *f, const char *current,
                     long long published_at, long long now);

/* Frees the records and hosts of f; f may be zeroed (never read). */
void status_farm_free(struct farm *f);

/*
 * Judges the gathered report: sets the ages of the lists in use and of
 * Redis's current version, marks lagging hosts and fills r->attention
 * with every reason it needs attention (status_judge.c).
 */
void status_judge(struct report *r);

/* Prints the report as text on stdout. */
void status_print_text(const struct report *r);

/* Prints the report as one JSON object on stdout; 0, or -1 when memory
 * runs out. */
int status_print_json(const struct report *r);

/* "2025-12-01T10:00:00Z" into buf[21+]. */
char *status_time(long long t, char *buf, size_t len);

/* A duration as "3d 4h", "5h 2m", "12m" or "40s" into buf. */
char *status_age(long long s, char *buf, size_t len);

#endif
