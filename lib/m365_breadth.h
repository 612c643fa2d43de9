/*
 * m365_breadth.h - how much of the Internet a list may let bypass.
 *
 * An OK skips authentication, TLS inspection and scanning, so a list is a
 * security boundary: however it arrives (a file, the bundled snapshot, a
 * download, Redis, a cache, an admin's local list), it must not be able to
 * widen the bypass to the Internet.  Microsoft's own lists never go wider
 * than /13 (IPv4) and /35 (IPv6) and cover about 2.5 million IPv4
 * addresses; the limits leave room for growth and nothing more:
 *
 *   - no IPv4 range wider than /12, no IPv6 range wider than /29;
 *   - at most 16,777,216 IPv4 addresses (a /8's worth) over all the sets
 *     checked, counted per range;
 *   - no name pattern whose fixed part (what follows its last '*', from
 *     the first whole label) is a public suffix or shorter: "*.co.uk",
 *     "*.github.io", "*.com", "*" (the Public Suffix List, through libpsl,
 *     private suffixes included);
 *   - no tcpPorts or udpPorts that cover more than half the port space.
 *
 * Which sets are checked: the sets a policy selects when a list is loaded
 * for use (so Microsoft's 2021 "*.cloudapp.net", in a Default set, loads
 * wherever Default is not selected), and every Optimize and Allow set when
 * a list is published.
 */
#ifndef M365_BREADTH_H
#define M365_BREADTH_H

#include <stdbool.h>

#include "m365_endpoints.h"
#include "m365_err.h"
#include "m365_local.h"
#include "m365_policy.h"

#define M365_BREADTH_V4_MIN_PLEN 12
#define M365_BREADTH_V6_MIN_PLEN 29
#define M365_BREADTH_V4_TOTAL (1ull << 24)
#define M365_BREADTH_PORTS_MAX 32767u

/*
 * Checks the sets of ep that p selects (p NULL: every Optimize and Allow
 * set).  Returns 0, or -1 with err set to "SOURCE: set ID: FIELD "VALUE":
 * reason" for the first refusal (M365_E_REFUSED; M365_E_IO when no Public
 * Suffix List can be loaded).
 */
int m365_breadth_check(const struct m365_endpoints *ep,
                       const struct m365_policy *p, struct m365_err *err);

/*
 * Checks the bypass rules of a local list with the same limits (never
 * rules may be as broad as they like).  Returns 0, or -1 with err set to
 * "SOURCE:LINE: reason" (M365_E_REFUSED).
 */
int m365_breadth_check_local(const struct m365_local *l, struct m365_err *err);

/*
 * True when the literal tail of a lowercase glob (what follows its last
 * '*', from its first whole label) is a public suffix or shorter; a glob
 * without '*' never is.  Fails closed (true) when no Public Suffix List
 * can be loaded.
 */
bool m365_glob_is_public(const char *lower);

#endif
