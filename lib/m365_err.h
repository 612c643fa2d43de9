/*
 * m365_err.h - the one error convention of the m365-bypass library.
 *
 * Every function that can fail takes a `struct m365_err *` as its last
 * argument.  On failure it returns NULL or -1, sets err->code to what kind
 * of failure it was, and writes one human-readable line into err->msg of
 * the form "WHERE: REASON", where WHERE names the input (a file and line, a
 * file and a JSON path, a Redis key, or the option the front end named).
 * Callers branch on err->code, never on the text.  err may be NULL when the
 * caller does not want either.  On success err is left untouched.
 */
#ifndef M365_ERR_H
#define M365_ERR_H

#include <stddef.h>

#define M365_ERR_MAX 512

enum m365_err_code {
	M365_E_NONE = 0,
	M365_E_INPUT,   /* the input is wrong: a file, document, or value */
	M365_E_REFUSED, /* valid input that a safety check refuses */
	M365_E_IO,      /* the system failed: open, read, write, HTTP */
	M365_E_REDIS,   /* Redis could not be reached or failed a command */
	M365_E_NOMEM    /* out of memory */
};

struct m365_err {
	enum m365_err_code code;
	char msg[M365_ERR_MAX];
};

/*
 * Sets err's code and formats its message (printf-style); a no-op when err
 * is NULL.  Always returns -1 so that callers can write
 * `return m365_err_set(...)`.
 */
int m365_err_set(struct m365_err *err, enum m365_err_code code, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

/*
 * Puts a context in front of err's message ("CONTEXT: old message"),
 * keeping its code; a no-op when err is NULL.  Returns -1.
 */
int m365_err_prefix(struct m365_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A short name for a code: "input", "refused", "I/O", "Redis", ... */
const char *m365_err_code_name(enum m365_err_code code);

#endif
