/*
 * squid_answer.h - a verdict as the answer line Squid's external ACL
 * reads: "OK m365_category=Allow m365_service=Skype m365_set=12".  Shared
 * by ext_m365_acl and m365ctl lookup, which prints the helper's answer.
 */
#ifndef SQUID_ANSWER_H
#define SQUID_ANSWER_H

#include <stddef.h>

#include "m365_classify.h"

/* Always enough for squid_answer_format(). */
#define SQUID_ANSWER_MAX 1024

/*
 * Writes value into buf[0..len) as Squid's reply parser reads it back:
 * as is when it is 1 or more of [A-Za-z0-9._-], else in double quotes with
 * '"' and '\\' escaped by a backslash and CR, LF and TAB written as \r, \n
 * and \t (other control bytes become '?'), so a value never breaks the
 * one-line protocol.  Returns the length written (NUL-terminated), or -1
 * when buf is too small.
 */
int squid_quote(const char *value, char *buf, size_t len);

/*
 * Writes the answer line for a verdict, without channel ID and newline:
 * "OK" or "ERR" followed by " key=value" for each of the verdict's notes
 * (m365_verdict_notes(); message overrides the verdict's message when not
 * NULL).  Returns the length, or -1 when buf is too small.
 */
int squid_answer_format(const struct m365_verdict *v, const char *message,
                        char *buf, size_t len);

/*
 * squid_answer_format() without a message override, as an m365_answer_fn:
 * the texts a list builds once for the helper (m365_options.answer).
 */
int squid_answer_text(const struct m365_verdict *v, char *buf, size_t len);

#endif
