/*
 * m365_log.h - how the library tells a front end what happened.
 *
 * The library never writes to stderr or a log file itself: a front end
 * that wants its messages installs a function (the helper writes them to
 * stderr, which Squid puts in cache.log; the c-icap service hands them to
 * ci_debug_printf, which writes c-icap's server log).  Messages are one
 * line each, without a trailing newline, and name no front end's option
 * unless the front end passed its names (m365_options.h).
 */
#ifndef M365_LOG_H
#define M365_LOG_H

enum m365_log_level {
	M365_LOG_ERROR,   /* something is broken: no list, a version refused */
	M365_LOG_WARNING, /* degraded but serving: Redis lost, cache ignored */
	M365_LOG_INFO     /* a state change: a version in use, Redis back */
};

/* Receives one message; ctx is the front end's own pointer. */
typedef void (*m365_log_fn)(void *ctx, enum m365_log_level level,
                            const char *msg);

/* "ERROR", "WARNING" or "INFO". */
const char *m365_log_level_name(enum m365_log_level level);

#endif
