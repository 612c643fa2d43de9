/* notify.h - m365ctl update --notify CMD: tell someone what happened. */
#ifndef M365CTL_NOTIFY_H
#define M365CTL_NOTIFY_H

#include <jansson.h>

/* How long the command may run before it is killed. */
#define NOTIFY_TIMEOUT_S 60

/* What a notification is about. */
struct notice {
	const char *event;    /* "published" or "refused" */
	const char *version;  /* the version published or refused, or "" */
	const char *previous; /* the version it replaced (or would have) */
	const char *reason;   /* the refusal, or "" */
	const json_t *report; /* the change report, or NULL */
};

/*
 * Runs cmd with /bin/sh -c, the environment M365_EVENT, M365_VERSION,
 * M365_PREVIOUS and M365_REASON set from n, and on its standard input the
 * refusal (a line "refused: ..."), then the change report as text.  It may
 * run NOTIFY_TIMEOUT_S seconds, then is killed.  A command that cannot
 * run, fails or is killed is a warning on stderr, never an error: the
 * publish stands.
 */
void notify_run(const char *cmd, const struct notice *n);

#endif
