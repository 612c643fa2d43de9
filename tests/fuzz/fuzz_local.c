/* fuzz_local.c - libFuzzer: local lists through the parser, the list
 * build and a few lookups. */
#include <stddef.h>
#include <stdint.h>

#include "m365_classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m365_endpoints *ep;
	struct m365_local *local;
	struct m365_policy policy;
	struct m365_list *l;
	struct m365_verdict v;
	struct m365_err err;

	local = m365_local_parse((const char *)data, size, "fuzz", &err);
	if (local == NULL)
		return 0;
	if ((ep = m365_endpoints_load_bundled(&err)) == NULL ||
	    m365_policy_init(&policy, NULL, NULL, NULL, &err) < 0) {
		m365_endpoints_free(ep);
		m365_local_free(local);
		return 0;
	}
	l = m365_list_build(ep, local, &policy, &err);
	m365_policy_free(&policy);
	if (l == NULL)
		return 0;
	m365_classify(l, "teams.microsoft.com", "443", NULL, &v);
	m365_classify(l, "meet1.example.net", "-", NULL, &v);
	m365_classify(l, "203.0.113.7", NULL, NULL, &v);
	m365_list_unref(l);
	return 0;
}
