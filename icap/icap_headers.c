/* icap_headers.c - a verdict as ICAP headers (see icap_headers.h). */
#include <stdio.h>
#include <string.h>

#include "icap_headers.h"
#include "m365_text.h"

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
		w = snprintf(buf, len, "%s", ICAP_END_OF_CHAIN);
	else
		w = snprintf(buf, len, ICAP_END_OF_CHAIN " %s", list);
	return w < 0 || (size_t)w >= len ? -1 : w;
}

/* The canonical list being built. */
struct services {
	char *buf;
	size_t len, used;
};

/* Appends one checked service name to the list. */
static int
add_service(void *arg, const char *name, struct m365_err *err)
{
	struct services *sv = arg;
	size_t n = strlen(name);

	if (!m365_token(name, n, M365_ITEM_MAX, "._-"))
		return m365_err_set(err, M365_E_INPUT,
		                    "\"%s\" is not a service name "
		                    "([A-Za-z0-9._-])",
		                    name);
	if (sv->used + 2 + n + 1 > sv->len)
		return m365_err_set(err, M365_E_INPUT, "list too long");
	if (sv->used > 0) {
		memcpy(sv->buf + sv->used, ", ", 2);
		sv->used += 2;
	}
	memcpy(sv->buf + sv->used, name, n + 1);
	sv->used += n;
	return 0;
}

int
icap_service_list(const char *const *names, size_t n, char *buf, size_t len,
                  struct m365_err *err)
{
	struct services sv = {.buf = buf, .len = len};
	char joined[ICAP_HEADER_MAX];
	size_t i, o = 0;

	/* c-icap splits "av, dlp" into "av," and "dlp": put it back */
	for (i = 0; i < n; i++) {
		size_t k = strlen(names[i]);
		if (o + k + 2 > sizeof(joined))
			return m365_err_set(err, M365_E_INPUT, "list too long");
		if (o > 0)
			joined[o++] = ' ';
		memcpy(joined + o, names[i], k);
		o += k;
	}
	joined[o] = '\0';
	if (len == 0)
		return m365_err_set(err, M365_E_INPUT, "list too long");
	buf[0] = '\0';
	if (o == 0)
		return m365_err_set(err, M365_E_INPUT,
		                    "expected one or more service names");
	return m365_split_commas(joined, "service list", 32, add_service, &sv,
	                         err);
}
