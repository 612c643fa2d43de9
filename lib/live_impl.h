/*
 * live_impl.h - the inside of a live list, shared by live.c (loading and
 * sharing) and follow.c (the Redis follower thread).  Internal.
 */
#ifndef M365_LIVE_IMPL_H
#define M365_LIVE_IMPL_H

#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include "m365_farm.h"
#include "m365_live.h"
#include "m365_redis.h"
#include "m365_sign.h"
#include "m365_store.h"

/* A file's state: what a change of contents changes. */
struct file_id {
	int known;
	struct timespec mtime;
	off_t size;
	ino_t ino;
};

/* Lists swapped out and not yet freed, at most. */
#define LIVE_RETIRED_MAX 16

/* The follower's view of Redis, logged once per change. */
enum live_state { ST_START, ST_UP, ST_DOWN, ST_EMPTY, ST_BAD };

struct m365_live {
	struct m365_live_config cfg;
	struct m365_redis_url url;
	struct m365_key *verify;         /* or NULL */
	struct m365_store_limits limits; /* what a version must pass */
	char prefix[128];
	pthread_mutex_t lock; /* guards list and version */
	struct m365_list *list;
	/* every list is built with these (loader and follower only) */
	struct m365_policy policy;
	int policy_ok;
	char policy_err[M365_ERR_MAX];
	struct m365_local_index *loc; /* the local list in use, or NULL */
	struct file_id loc_read;      /* its file as last read */
	struct file_id loc_next;      /* as it changed since */
	long long loc_next_at;        /* when that was seen (ms) */
	/* swapped out, freed by the follower once no reader holds them */
	struct m365_list *retired[LIVE_RETIRED_MAX];
	size_t n_retired;
	char version[M365_VERSION_MAX + 1];
	/* when the version in use was published (0: a list file): the
	 * follower refuses older signed versions (replays).  Loader and
	 * follower only. */
	long long in_use_at;
	/* the cache's version file as last looked at (loader, follow) */
	int cache_seen;
	struct timespec cache_mtime;
	ino_t cache_ino;
	/* the follower thread's own state */
	char rejected[M365_VERSION_MAX + 1]; /* last version that failed */
	pthread_t thread;
	int running;
	/* stop and the thread's end: a thread that outlives stop's wait
	 * frees lv itself (guarded by lock) */
	int done, orphan;
	int wake[2];      /* 'x': stop; 'r': read the local list again */
	int reload_local; /* an 'r' came (follower only) */
	enum live_state state;
	redisContext *cmd, *sub;
	/* where the list in use came from: "redis", "cache", "bundled" or
	 * the list file (for the counters) */
	char source[M365_METRICS_TEXT];
	/* the follower's chores: the farm record and the no-list warning */
	char host[M365_FARM_HOST_MAX + 1];
	long long next_beat, last_nag;
	int farm_said; /* the farm record's trouble was logged */
};

/* Formats a message and hands it to the front end's log function. */
void live_log(struct m365_live *lv, enum m365_log_level level, const char *fmt,
              ...) __attribute__((format(printf, 3, 4)));

/* Reports an event to the front end, if it asked for events. */
void live_event(struct m365_live *lv, enum m365_live_event ev,
                const char *version);

/* Installs l as the current list (taking over its reference); the old
 * one is retired (live_retire()). */
void live_swap(struct m365_live *lv, struct m365_list *l, const char *version);

/* Keeps a swapped-out list until no reader holds it (live_reap()). */
void live_retire(struct m365_live *lv, struct m365_list *old);

/* Frees the retired lists no reader holds; 1 when some are left. */
int live_reap(struct m365_live *lv);

/*
 * Builds a list over ep (taken over) with the policy and local list in
 * use; NULL with err set (also when a local list is configured and none
 * is loaded: never without the admins' never rules).
 */
struct m365_list *live_build(struct m365_live *lv, struct m365_endpoints *ep,
                             struct m365_err *err);

/* Loads the local list at start; 0 (or none configured), -1 logged. */
int live_local_load(struct m365_live *lv);

/*
 * Reloads the local list when its file changed, or always with force;
 * a list that does not load keeps the one in use (logged).
 */
void live_local_check(struct m365_live *lv, int force);

/*
 * Loads the starting list (the cache, with cache_again even when it did
 * not change, else the list file or the bundled list).
 */
void live_reload_initial(struct m365_live *lv, int cache_again);

/* Tells the counters what is in use; switched counts a switch. */
void live_gauges(struct m365_live *lv, int switched);

/* Logs that no list is loaded, at most once a minute. */
void live_nag(struct m365_live *lv);

/* The follower thread's body (arg is the live list). */
void *live_follow_thread(void *arg);

/* Frees lv and all it holds (the thread is gone). */
void live_free(struct m365_live *lv);

/* The cache's signature file name: CACHE ".sig", into buf. */
char *live_sig_path(const struct m365_live *lv, char *buf, size_t len);

#endif
