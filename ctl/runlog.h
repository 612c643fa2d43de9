/*
 * runlog.h - what the last `m365ctl update` and `import` runs did, kept in
 * the state directory (DIR/last-update) for `status` and `metrics`.
 *
 * The file is a few "key value" lines, rewritten atomically at the end of
 * each run; a reader takes it as untrusted input (bounded, every field
 * checked) and ignores what it does not know.
 */
#ifndef M365CTL_RUNLOG_H
#define M365CTL_RUNLOG_H

#include "m365_err.h"
#include "m365_store.h"

#define RUNLOG_FILE "last-update"

/* How a run ended. */
enum run_result {
	RUN_NONE = 0,  /* no run recorded */
	RUN_PUBLISHED, /* a new version was published */
	RUN_CURRENT,   /* the version in use is Microsoft's newest */
	RUN_REFUSED,   /* the input was refused (exit 1) */
	RUN_LOCKED,    /* another updater held the lock (exit 3) */
	RUN_ERROR      /* network, Redis or file system trouble (exit 4) */
};

struct run_record {
	long long attempt_at;   /* the last run's start, Unix time */
	enum run_result result; /* how it ended */
	char message[512];      /* its error or refusal, one line, or "" */
	long long success_at;   /* last run that published or was current */
	char version[M365_VERSION_MAX + 1]; /* the version it left current */
	long long refused_at;               /* last refusal, 0 never */
	char refused_reason[32]; /* its label: [a-z_]+, e.g. "breadth" */
	long long retry_until;   /* a pending 429 Retry-After, 0 none */
};

/* "published", "current", "refused", "locked", "error" or "none". */
const char *run_result_name(enum run_result r);

/*
 * Reads DIR/last-update (and DIR/retry-after for retry_until) into r.
 * Returns 1 when read, 0 when there is none (r zeroed but for
 * retry_until), -1 with err set ("FILE: line N: reason", M365_E_INPUT;
 * M365_E_IO when it cannot be read).
 */
int runlog_read(const char *dir, struct run_record *r, struct m365_err *err);

/*
 * Records one run that ended with result (message and reason for a
 * failure, version for a success) over what DIR/last-update held, keeping
 * the fields the run does not change.  0, or -1 with err set.
 */
int runlog_write(const char *dir, long long attempt_at, enum run_result result,
                 const char *message, const char *reason, const char *version,
                 struct m365_err *err);

#endif
