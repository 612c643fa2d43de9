/* err.c - the library's one error convention (see m365_err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "m365_err.h"

int
m365_err_set(struct m365_err *err, enum m365_err_code code, const char *fmt,
             ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
m365_err_prefix(struct m365_err *err, const char *fmt, ...)
{
	char old[M365_ERR_MAX];
	va_list ap;
	int n;

	if (err == NULL)
		return -1;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n + 3 < sizeof(err->msg)) {
		size_t o = (size_t)n, k = strlen(old);
		if (k > sizeof(err->msg) - o - 3)
			k = sizeof(err->msg) - o - 3; /* truncated */
		memcpy(err->msg + o, ": ", 2);
		memcpy(err->msg + o + 2, old, k);
		err->msg[o + 2 + k] = '\0';
	}
	return -1;
}

const char *
m365_err_code_name(enum m365_err_code code)
{
	switch (code) {
	case M365_E_NONE: return "none";
	case M365_E_INPUT: return "input";
	case M365_E_REFUSED: return "refused";
	case M365_E_IO: return "I/O";
	case M365_E_REDIS: return "Redis";
	case M365_E_NOMEM: return "out of memory";
	}
	return "unknown";
}
