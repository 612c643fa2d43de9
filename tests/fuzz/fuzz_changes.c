/* fuzz_changes.c - libFuzzer: what m365ctl changes and update read from
 * outside.  The first byte picks the reader; the rest is its input:
 *   even: Microsoft's /changes answer, cross-checked with the report of
 *         two small lists (changes_crosscheck()), which must end with a
 *         "microsoft" member saying whether it was asked, and a count
 *         that matches the differences listed when it was;
 *   odd:  a stored change report (Redis, DIR/changes/), cleaned and
 *         printed whole and brief (changes_clean(), changes_print()),
 *         which must leave no control character in what is printed but
 *         the newlines. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char old_json[] =
    "[{\"id\": 1, \"serviceArea\": \"Common\", \"urls\": [\"a.example.com\","
    " \"b.example.com\"], \"ips\": [\"10.0.0.0/24\", \"2001:db8::/48\"], "
    "\"tcpPorts\": \"80,443\", \"category\": \"Allow\", \"required\": "
    "true},"
    "{\"id\": 2, \"serviceArea\": \"Skype\", \"urls\": [\"x.example.org\"],"
    " \"tcpPorts\": \"443\", \"category\": \"Optimize\", \"required\": "
    "true}]";
static const char new_json[] =
    "[{\"id\": 1, \"serviceArea\": \"Common\", \"urls\": [\"b.example.com\","
    " \"c.example.com\"], \"ips\": [\"10.1.0.0/24\"], \"tcpPorts\": "
    "\"443\", \"category\": \"Optimize\", \"required\": true},"
    "{\"id\": 3, \"serviceArea\": \"Exchange\", \"urls\": "
    "[\"n.example.net\"], \"udpPorts\": \"3478-3481\", \"category\": "
    "\"Allow\", \"required\": false}]";

static void
crosscheck(const char *text, size_t len)
{
	static struct m365_endpoints *o, *n;
	struct m365_err err;
	const json_t *m;
	json_t *r;

	if (o == NULL) {
		o = m365_endpoints_parse(old_json, strlen(old_json), "old",
		                         &err);
		n = m365_endpoints_parse(new_json, strlen(new_json), "new",
		                         &err);
		if (o == NULL || n == NULL)
			abort();
	}
	if ((r = changes_report(o, "2024041700", n)) == NULL)
		abort();
	changes_crosscheck(r, o, n, text, len, "2024041700", "2025120100",
	                   len % 2);
	m = json_object_get(r, "microsoft");
	if (!json_is_boolean(json_object_get(m, "asked")))
		abort();
	if (json_is_true(json_object_get(m, "asked"))) {
		json_int_t total =
		    json_integer_value(json_object_get(m, "differencesTotal"));
		size_t listed =
		    json_array_size(json_object_get(m, "differences"));
		if (total < (json_int_t)listed ||
		    json_is_true(json_object_get(m, "agrees")) != (total == 0))
			abort();
	}
	json_decref(r);
}

static void
print(const char *text, size_t len)
{
	json_t *r = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	char *out = NULL;
	size_t n = 0, i;
	FILE *f;

	if (r == NULL)
		return;
	changes_clean(r);
	if ((f = open_memstream(&out, &n)) == NULL)
		abort();
	changes_print(f, r, false);
	changes_print(f, r, true);
	fclose(f);
	for (i = 0; i < n; i++)
		if (((unsigned char)out[i] < 0x20 && out[i] != '\n') ||
		    out[i] == 0x7f)
			abort();
	free(out);
	json_decref(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		crosscheck((const char *)data + 1, size - 1);
	else
		print((const char *)data + 1, size - 1);
	return 0;
}
