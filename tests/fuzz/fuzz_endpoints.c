/* fuzz_endpoints.c - libFuzzer: Microsoft's JSON through the loader, then
 * (when it loads) the list build and a few lookups. */
#include <stddef.h>
#include <stdint.h>

#include "m365_classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m365_endpoints *ep;
	struct m365_policy policy;
	struct m365_list *l;
	struct m365_verdict v;
	struct m365_err err;

	ep = m365_endpoints_parse((const char *)data, size, "fuzz", &err);
	if (ep == NULL)
		return 0;
	if (m365_policy_init(&policy, "Optimize,Allow,Default", NULL, NULL,
	                     &err) < 0) {
		m365_endpoints_free(ep);
		return 0;
	}
	l = m365_list_build(ep, NULL, &policy, &err);
	m365_policy_free(&policy);
	if (l == NULL)
		return 0;
	m365_classify(l, "teams.microsoft.com", "443", NULL, &v);
	m365_classify(l, "a.b.c.example.com", "-", "x.example.com", &v);
	m365_classify(l, "52.112.0.1", NULL, NULL, &v);
	m365_classify(l, "2603:1063::1", "80", NULL, &v);
	m365_list_unref(l);
	return 0;
}
