/* answer.c - a verdict as the answer line Squid reads (m365_classify.h). */
#include <stdio.h>
#include <string.h>

#include "m365_classify.h"

/* True when v needs no quotes in Squid's reply parser. */
static int
plain_value(const char *v)
{
	if (*v == '\0')
		return 0;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == '.' || *v == '_' ||
		      *v == '-'))
			return 0;
	return 1;
}

/* Appends " key=value" (quoted when needed) at buf[*off]; -1 if full. */
static int
add_pair(char *buf, size_t len, size_t *off, const char *key, const char *value)
{
	size_t o = *off;
	int n = snprintf(buf + o, len - o, " %s=", key);
	const char *v;

	if (n < 0 || (size_t)n >= len - o)
		return -1;
	o += (size_t)n;
	if (plain_value(value)) {
		n = snprintf(buf + o, len - o, "%s", value);
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		*off = o + (size_t)n;
		return 0;
	}
	if (o + 1 >= len)
		return -1;
	buf[o++] = '"';
	for (v = value; *v; v++) {
		if (o + 3 >= len)
			return -1;
		if (*v == '"' || *v == '\\')
			buf[o++] = '\\';
		buf[o++] = *v;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	*off = o;
	return 0;
}

int
m365_answer_format(const struct m365_verdict *v, const char *message, char *buf,
                   size_t len)
{
	int ok = v->result == M365_OK;
	size_t off;
	char id[24];

	if (len < 4)
		return -1;
	off = (size_t)snprintf(buf, len, "%s", ok ? "OK" : "ERR");
	if (message == NULL)
		message = v->message;
	if (v->category &&
	    add_pair(buf, len, &off, "m365_category", v->category) < 0)
		return -1;
	if (ok && v->service &&
	    add_pair(buf, len, &off, "m365_service", v->service) < 0)
		return -1;
	if (ok && v->set) {
		snprintf(id, sizeof(id), "%lld", (long long)v->set->id);
		if (add_pair(buf, len, &off, "m365_set", id) < 0)
			return -1;
	}
	if (message && add_pair(buf, len, &off, "message", message) < 0)
		return -1;
	return (int)off;
}
