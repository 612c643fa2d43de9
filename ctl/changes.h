/*
 * changes.h - the change report of a publish: per endpoint set, the names,
 * address ranges and ports added and removed against the version it
 * replaces (changes.c), cross-checked with Microsoft's /changes answer
 * (changes_ms.c), printed whole or short (changes_text.c).
 *
 * The report is JSON, stored with the version (PREFIX "v:" VERSION field
 * "changes", and DIR/changes/VERSION.json):
 *
 *   {"version": V, "previous": W or null, "publishedAt": unix time,
 *    "params": "instance=...", "source": "...",
 *    "totals": {"sets": {"added": n, "removed": n, "changed": n},
 *               "urls": {"added": n, "removed": n},
 *               "ips": {"added": n, "removed": n}},
 *    "sets": [{"id": 11, "serviceArea": "Skype", "category": "Optimize",
 *              "change": "added" | "removed" | "changed",
 *              "categoryWas": "Allow" (only when it changed),
 *              "urls": {"added": [..], "removed": [..]},
 *              "ips": {"added": [..], "removed": [..]},
 *              "tcpPorts": {"added": [..], "removed": [..]},
 *              "udpPorts": {"added": [..], "removed": [..]}}, ...],
 *    "microsoft": {"asked": true, "agrees": bool, "differences": [..]}
 *              or {"asked": false, "why": "..."}}
 *
 * Only sets that changed are listed, by id.  Ports are ranges ("80",
 * "3478-3481").
 */
#ifndef M365CTL_CHANGES_H
#define M365CTL_CHANGES_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "m365_endpoints.h"
#include "m365_store.h"

/*
 * The report of neu against old (NULL: nothing before it; previous is
 * then ignored), without "microsoft".  NULL when memory runs out.
 */
json_t *changes_report(const struct m365_endpoints *old, const char *previous,
                       const struct m365_endpoints *neu);

/* Sets the report's version, publishedAt, params and source from s. */
void changes_describe(json_t *report, const struct m365_snapshot *s);

/* The report's entry for set id, or NULL when that set did not change. */
const json_t *changes_set(const json_t *report, long long id);

/* Records that Microsoft's /changes was not asked, and why. */
void changes_not_asked(json_t *report, const char *why);

/*
 * Cross-checks the report with Microsoft's /changes answer (json, len
 * bytes: an array of {endpointSetId, version, disposition, add {urls,
 * ips}, remove {urls, ips}}), counting the entries of versions after from
 * and up to to.  Sets in neither old nor neu (another service area) and, with
 * no_ipv6, IPv6 ranges are left out.  Sets "microsoft" to whether both
 * say the same and, when not, the differences; an answer that is no such
 * array is recorded as not asked, with the reason.
 */
void changes_crosscheck(json_t *report, const struct m365_endpoints *old,
                        const struct m365_endpoints *neu, const char *json,
                        size_t len, const char *from, const char *to,
                        bool no_ipv6);

/* Replaces the control characters of every string of v (a report read
 * back from Redis or a file) with '?', so that printing it is safe. */
void changes_clean(json_t *v);

/*
 * Prints the report as text: the whole of it, or (brief) one line per
 * changed set, at most 20, and how to see the rest.
 */
void changes_print(FILE *f, const json_t *report, bool brief);

/*
 * Writes a report (JSON text) as DIR/changes/VERSION.json, atomically, and
 * removes the reports there beyond the keep newest.  0, or -1 with err.
 */
int changes_save(const char *dir, const char *version, const char *text,
                 int keep, struct m365_err *err);

/*
 * Reads version's report from Redis (when c is not NULL) or DIR.  Returns
 * the JSON text (the caller frees it), or NULL with err set: M365_E_INPUT
 * when there is none, M365_E_REDIS or M365_E_IO when it cannot be read.
 */
char *changes_load(redisContext *c, const char *prefix, const char *dir,
                   const char *version, struct m365_err *err);

#endif
