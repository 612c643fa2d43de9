/* err.c - the library's one error convention (see m365_err.h). */
#include <stdarg.h>
#include <stdio.h>

#include "m365_err.h"

int
m365_err_set(struct m365_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}
