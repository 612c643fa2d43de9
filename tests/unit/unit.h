/* tests/unit/unit.h - what every cmocka unit test includes. */
#ifndef M365_UNIT_H
#define M365_UNIT_H

/* cmocka needs these first, in this order */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "m365_classify.h"
#include "m365_endpoints.h"
#include "m365_host.h"
#include "m365_list.h"
#include "m365_local.h"
#include "m365_policy.h"
#include "m365_ports.h"

/* Path of a fixture under tests/fixtures (tests run from the repo root). */
#define FIXTURE(name) FIXTURES "/" name

/* The set with this id; fails the test when there is none. */
static inline const struct m365_set *
find_set(const struct m365_endpoints *ep, int64_t id)
{
	size_t i;

	for (i = 0; i < ep->n_sets; i++)
		if (ep->sets[i].id == id)
			return &ep->sets[i];
	fail_msg("set %lld not found", (long long)id);
	return NULL;
}

#endif
