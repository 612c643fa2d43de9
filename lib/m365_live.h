/*
 * m365_live.h - a list that follows Redis: live reload for every front end.
 *
 * m365_live_start() loads the starting list at once (the --cache file of a
 * previous run when it is valid, else --list or the bundled list), then,
 * with a Redis URL, a background thread subscribes to the update channel
 * and also polls the version pointer.  Each new version is fetched,
 * verified (checksum, full validation), built and swapped in whole; readers
 * never wait for it.  When Redis is down, slow, empty or wrong, the list in
 * use stays in use; state changes are logged once each to stderr.
 */
#ifndef M365_LIVE_H
#define M365_LIVE_H

#include "m365_err.h"
#include "m365_list.h"

struct m365_live_config {
	struct m365_options opt; /* --list is the fallback before Redis */
	const char *redis;       /* --redis URL, or NULL */
	const char *prefix;      /* key prefix, NULL for "m365:" */
	const char *cache;       /* --cache FILE, or NULL */
	int poll_ms;             /* pointer poll period, 0 for 10 s; <= 30 s */
	int timeout_ms;          /* Redis timeouts, 0 for 2 s */
	const char *name;        /* program name for log lines */
};

struct m365_live;

/*
 * Starts following.  Fails (NULL, err set) only for a bad configuration,
 * such as an unparsable Redis URL; a list that does not load is logged and
 * leaves the live list empty (readers then answer ERR).
 */
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

/* Stops the thread and frees everything; NULL is a no-op. */
void m365_live_stop(struct m365_live *lv);

#endif
