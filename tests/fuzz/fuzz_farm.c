/* fuzz_farm.c - libFuzzer: a farm record from Redis (m365_farm.h), key
 * and value split at the first newline, through m365_farm_parse() with
 * the prefix "m365:", and the whole input as a connection name from
 * CLIENT LIST through m365_farm_parse_client_name().  What either accepts
 * must say what it read: a host of the allowed bytes, a known front end,
 * a positive pid; and writing it back must give the same again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m365_farm.h"

#define PREFIX "m365:"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
host_ok(const char *h)
{
	size_t n = strlen(h);

	return n > 0 && n <= M365_FARM_HOST_MAX &&
	       strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789._-") == n;
}

static void
check_roundtrip(const struct m365_farm_entry *e)
{
	struct m365_farm_entry again;
	char key[512], val[256];

	if (m365_farm_key(PREFIX, e, key, sizeof(key)) == NULL)
		abort();
	m365_farm_value(e, val, sizeof(val));
	if (m365_farm_parse(key, strlen(PREFIX), val, &again) != 0 ||
	    strcmp(again.host, e->host) != 0 ||
	    strcmp(again.frontend, e->frontend) != 0 || again.pid != e->pid ||
	    strcmp(again.version, e->version) != 0 ||
	    again.published_at != e->published_at ||
	    again.seen_at != e->seen_at)
		abort();
}

/* The input as a connection name (not NUL-terminated). */
static void
check_client_name(const uint8_t *data, size_t size)
{
	struct m365_farm_entry e, again;
	char name[512];

	if (m365_farm_parse_client_name((const char *)data, size, PREFIX, &e) !=
	    0)
		return;
	if (!host_ok(e.host) || e.pid <= 0 ||
	    (strcmp(e.frontend, "squid") != 0 &&
	     strcmp(e.frontend, "icap") != 0) ||
	    m365_farm_client_name(PREFIX, &e, name, sizeof(name)) == NULL ||
	    m365_farm_parse_client_name(name, strlen(name), PREFIX, &again) !=
	        0 ||
	    memcmp(&e, &again, sizeof(e)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m365_farm_entry e;
	char *buf = malloc(size + 1), *nl;

	if (buf == NULL)
		return 0;
	check_client_name(data, size);
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		if (m365_farm_parse(buf, strlen(PREFIX), nl + 1, &e) == 0) {
			if (strncmp(buf, PREFIX, strlen(PREFIX)) != 0 &&
			    strlen(buf) < strlen(PREFIX))
				abort();
			if (!host_ok(e.host) || e.pid <= 0 ||
			    (strcmp(e.frontend, "squid") != 0 &&
			     strcmp(e.frontend, "icap") != 0) ||
			    e.published_at < 0 || e.seen_at < 0)
				abort();
			check_roundtrip(&e);
		}
	}
	free(buf);
	return 0;
}
