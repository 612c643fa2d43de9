/*
 * m365_live.h - a list that follows Redis: live reload for every front end.
 *
 * m365_live_new() loads the starting list at once (the cache file of a
 * previous run when it is valid, else the list file or the bundled list).
 * m365_live_follow() then starts, with a Redis URL, a background thread
 * that subscribes to the update channel and also polls the version pointer.
 * Each new version is fetched, verified (checksum, full validation), built
 * on the local list in use and swapped in whole; readers never wait for
 * it.  The local list is compiled once and read again only when its file
 * changes (the thread looks every second) or on m365_live_reload(); the
 * lists swapped out are freed by the thread, never by a reader.  When Redis is
 * down, slow, empty or wrong, the list in use stays in use; each state change
 * is logged once, through the front end's log function.
 *
 * A front end that forks (c-icap) calls m365_live_new() before the fork and
 * m365_live_follow() in each child: a thread never crosses a fork.
 */
#ifndef M365_LIVE_H
#define M365_LIVE_H

#include "m365_err.h"
#include "m365_list.h"
#include "m365_log.h"
#include "m365_metrics.h"

/* What a follower reports to its front end (for statistics). */
enum m365_live_event {
	M365_LIVE_SWITCHED,  /* a new version is in use */
	M365_LIVE_REFUSED,   /* a version was refused; the list in use stays */
	M365_LIVE_REDIS_UP,  /* following Redis */
	M365_LIVE_REDIS_DOWN /* Redis lost; the list in use stays */
};

/* Receives one event; version is the version concerned, or "". */
typedef void (*m365_live_event_fn)(void *ctx, enum m365_live_event ev,
                                   const char *version);

/* The range a front end accepts for max_bytes (--redis-max-bytes). */
#define M365_MAX_BYTES_MIN 4096L
#define M365_MAX_BYTES_MAX (1L << 30)

struct m365_live_config {
	struct m365_options opt;  /* the list file is the fallback of Redis */
	const char *redis;        /* Redis URL, or NULL */
	const char *prefix;       /* key prefix, NULL for "m365:" */
	const char *cache;        /* cache file, or NULL */
	const char *auth_file;    /* Redis credentials file, or NULL */
	const char *verify_key;   /* Ed25519 public key (PEM) every version
	                             must be signed by, or NULL */
	size_t max_bytes;         /* largest version read, 0 for 64 MiB */
	int poll_ms;              /* pointer poll period, 0 for 10 s; <= 30 s */
	int timeout_ms;           /* Redis timeouts, 0 for 2 s */
	m365_log_fn log;          /* where messages go, or NULL for nowhere */
	m365_live_event_fn event; /* state changes, or NULL */
	void *ctx;                /* passed to log and event */
	/* the process's counters slot (or NULL), told what is in use */
	struct m365_metrics *metrics;
	/* which front end this is: the farm view's records name it */
	enum m365_frontend frontend;
};

struct m365_live;

/*
 * Loads the starting list; starts no thread.  Fails (NULL, err set,
 * M365_E_INPUT) only for a bad configuration, such as an unparsable Redis
 * URL, an unreadable or exposed credentials file or a verify key that does
 * not load; a list that does not load is logged and leaves the live list
 * empty (readers then answer ERR).  With a verify key, the cache file is
 * used only when its signature (FILE.sig, written beside it) verifies.  The
 * configuration's strings must outlive the returned object.
 */
struct m365_live *m365_live_new(const struct m365_live_config *cfg,
                                struct m365_err *err);

/*
 * Starts following Redis in a background thread; a no-op when already
 * following.  The thread also records this process in Redis for the farm
 * view (m365_farm.h) and, while no list is loaded, logs a warning every
 * minute; without a Redis URL it starts only while no list is loaded,
 * for the warnings.  First, when the cache file holds another
 * version than the one in use (a process forked long after the list was
 * loaded), that version is loaded: it is what the other processes switched
 * to, and Redis may be down.  Returns 0, or -1 with err set when the
 * thread cannot start.
 */
int m365_live_follow(struct m365_live *lv, struct m365_err *err);

/*
 * Gives lv the process's counters slot (NULL: none) and records in it
 * what is in use.  For a front end that forks: call it in the child,
 * before m365_live_follow().
 */
void m365_live_set_metrics(struct m365_live *lv, struct m365_metrics *m);

/* m365_live_new() and m365_live_follow() in one call; NULL with err set. */
struct m365_live *m365_live_start(const struct m365_live_config *cfg,
                                  struct m365_err *err);

/*
 * Returns the current list with a reference the caller drops with
 * m365_list_unref(), or NULL when none is loaded.  Never blocks on I/O;
 * thread-safe.
 */
struct m365_list *m365_live_acquire(struct m365_live *lv);

/* The version in use ("" before Redis gave one), copied into buf. */
char *m365_live_version(struct m365_live *lv, char *buf, size_t len);

/*
 * Asks the follower thread to read the local list again now, whether its
 * file changed or not (a front end's SIGHUP).  Async-signal-safe; a no-op
 * without a thread.
 */
void m365_live_reload(struct m365_live *lv);

/*
 * Stops the thread (if any) and frees everything; NULL is a no-op.  Waits
 * at most about 100 ms: a thread stuck in a Redis call (a connect or a
 * command to an unresponsive server, bounded by the timeouts) is left to
 * finish on its own with what it uses, so a front end whose input ended
 * exits at once.  Call it only when the process is about to exit or no
 * longer needs lv's memory back.  Returns 0, or 1 when the thread was left
 * running: it may still use the counters slot, which must then stay open.
 */
int m365_live_stop(struct m365_live *lv);

#endif
