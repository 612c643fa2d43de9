/*
 * m365_policy.h - which endpoint sets may bypass.
 *
 * The policy selects sets by category (default Optimize and Allow, the two
 * Microsoft says must not be inspected or authenticated) and by service area
 * (default all).  Local lists come on top of it (see m365_classify.h).
 */
#ifndef M365_POLICY_H
#define M365_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "m365_endpoints.h"
#include "m365_err.h"
#include "m365_options.h"

#define M365_POLICY_DEFAULT_CATEGORIES "Optimize,Allow"

struct m365_policy {
	unsigned categories; /* bit (1 << enum m365_category) */
	char **areas;        /* service areas, or NULL for all */
	size_t n_areas;
	/* how the front end calls the two options, for messages */
	const char *categories_opt, *areas_opt;
};

/*
 * Fills p from the option values; NULL means the default.  categories is a
 * comma list of Optimize, Allow, Default (exactly so spelled); service_areas a
 * comma list of names ("all" or NULL for every area).  Returns 0, or -1 with
 * err set to "OPTION: reason" (M365_E_INPUT), OPTION being the front end's
 * name for the option in names (NULL: "categories", "service areas"); p
 * keeps those names for later messages, so names must outlive it.  The
 * caller releases p with m365_policy_free().
 */
int m365_policy_init(struct m365_policy *p, const char *categories,
                     const char *service_areas,
                     const struct m365_option_names *names,
                     struct m365_err *err);

/*
 * Checks that every service area the policy names is one of ep's (compared
 * as m365_policy_selects() compares).  Returns 0, or -1 with err set to
 * "OPTION: unknown service area "X" (LIST has: A, B, C)" (M365_E_INPUT).
 */
int m365_policy_check_areas(const struct m365_policy *p,
                            const struct m365_endpoints *ep,
                            struct m365_err *err);

/* True when the policy selects the set (names compare exactly, case included).
 */
bool m365_policy_selects(const struct m365_policy *p, const struct m365_set *s);

/*
 * Describes the policy as "categories=Optimize,Allow service-areas=all" into
 * buf; returns buf.
 */
char *m365_policy_describe(const struct m365_policy *p, char *buf, size_t len);

/* Frees what p owns; p may be NULL. */
void m365_policy_free(struct m365_policy *p);

#endif
