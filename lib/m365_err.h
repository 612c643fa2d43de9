/*
 * m365_err.h - the one error convention of the m365-bypass library.
 *
 * Every function that can fail takes a `struct m365_err *` as its last
 * argument.  On failure it returns NULL or -1 and writes one human-readable
 * line into err->msg, always of the form "WHERE: REASON" where WHERE names
 * the input (a file and line, a file and a JSON path, or an option).  err may
 * be NULL when the caller does not want the text.  On success err is left
 * untouched.
 */
#ifndef M365_ERR_H
#define M365_ERR_H

#include <stddef.h>

#define M365_ERR_MAX 512

struct m365_err {
	char msg[M365_ERR_MAX];
};

/*
 * Formats a message into err (printf-style); a no-op when err is NULL.
 * Always returns -1 so that callers can write `return m365_err_set(...)`.
 */
int m365_err_set(struct m365_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
