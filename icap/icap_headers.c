/* icap_headers.c - a verdict as ICAP headers (see icap_headers.h). */
#include <stdio.h>
#include <string.h>

#include "icap_headers.h"

/* The header a note becomes, or NULL. */
static const char *
header_name(const char *key)
{
	if (strcmp(key, "m365_category") == 0)
		return "X-M365-Category";
	if (strcmp(key, "m365_service") == 0)
		return "X-M365-Service";
	if (strcmp(key, "m365_set") == 0)
		return "X-M365-Set";
	return NULL;
}

/* True for a byte a header field value may hold (RFC 9110 field-vchar,
 * SP and HTAB; obs-text is refused). */
static int
value_byte(unsigned char c)
{
	return (c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t';
}

int
icap_note_header(const struct m365_note *note, char *buf, size_t len)
{
	const char *name = header_name(note->key);
	size_t nlen, vlen, i;

	if (name == NULL)
		return 0;
	nlen = strlen(name);
	vlen = strlen(note->value);
	if (nlen + 2 + vlen + 1 > len)
		return -1;
	memcpy(buf, name, nlen);
	memcpy(buf + nlen, ": ", 2);
	buf += nlen + 2;
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)note->value[i];
		buf[i] = value_byte(c) ? (char)c : '?';
	}
	buf[vlen] = '\0';
	return (int)(nlen + 2 + vlen);
}

int
icap_next_services_header(const char *list, char *buf, size_t len)
{
	const char *p;
	int w;

	for (p = list; p != NULL && *p; p++)
		if (!value_byte((unsigned char)*p))
			return -1;
	if (list == NULL || *list == '\0')
		w = snprintf(buf, len, "X-Next-Services:");
	else
		w = snprintf(buf, len, "X-Next-Services: %s", list);
	return w < 0 || (size_t)w >= len ? -1 : w;
}

/* True when name is 1 to 64 of [A-Za-z0-9._-]. */
static int
service_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* Appends the names of one argument ("a,b" or "a") to buf at *o. */
static int
add_names(const char *arg, char *buf, size_t len, size_t *o,
          struct m365_err *err)
{
	const char *p = arg;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0 || end != NULL) {
			if (!service_name(p, n))
				return m365_err_set(
				    err, M365_E_INPUT,
				    "\"%.*s\" is not a service name "
				    "([A-Za-z0-9._-], at most 64)",
				    (int)(n > 64 ? 64 : n), p);
			if (*o + n + 3 > len)
				return m365_err_set(err, M365_E_INPUT,
				                    "list too long");
			if (*o > 0) {
				memcpy(buf + *o, ", ", 2);
				*o += 2;
			}
			memcpy(buf + *o, p, n);
			*o += n;
			buf[*o] = '\0';
		}
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

int
icap_service_list(const char *const *names, size_t n, char *buf, size_t len,
                  struct m365_err *err)
{
	size_t i, o = 0;

	if (len == 0)
		return m365_err_set(err, M365_E_INPUT, "list too long");
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		if (add_names(names[i], buf, len, &o, err) < 0)
			return -1;
	if (o == 0)
		return m365_err_set(err, M365_E_INPUT,
		                    "expected one or more service names");
	return 0;
}
