/*
 * m365_endpoints.h - Microsoft's endpoint list and its JSON loader.
 *
 * The list is what https://endpoints.office.com/endpoints/<Instance> returns:
 * an array of endpoint sets.  The loader accepts every shape Microsoft has
 * published (optional urls/ips/ports/notes, spaces in port lists, "" values,
 * unknown new fields) and refuses anything else with the JSON path and the
 * reason.  A loaded list is never modified.
 */
#ifndef M365_ENDPOINTS_H
#define M365_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m365_err.h"
#include "m365_ports.h"

/* How the bundled list is named in messages. */
#define M365_BUNDLED_NAME "bundled list (Worldwide, 2025-12-01)"
/* The bundled list's version, and that day (00:00 UTC) as Unix time. */
#define M365_BUNDLED_VERSION "2025120100"
#define M365_BUNDLED_PUBLISHED 1764547200LL
/* The bundled list is old when older than this, and says so at start. */
#define M365_BUNDLED_OLD_S (60LL * 86400)

/* Microsoft's categories, in priority order. */
enum m365_category {
	M365_CAT_OPTIMIZE = 0,
	M365_CAT_ALLOW = 1,
	M365_CAT_DEFAULT = 2,
	M365_CAT_OTHER = 3 /* a value Microsoft may add; never selected */
};

/* One CIDR of a set's "ips", as parsed (host bits cleared). */
struct m365_cidr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order */
	uint8_t plen;     /* prefix length */
	char *text;       /* as written by Microsoft */
};

/* What an IPv6 range says about IPv4 (m365_cidr_v4_part()). */
enum m365_cidr_v4 {
	M365_CIDR_V4_NONE, /* nothing: an IPv4 range, or IPv6 only */
	M365_CIDR_V4_ONLY, /* it is an IPv4 range, written as IPv6 */
	M365_CIDR_V4_TOO,  /* it holds every IPv4 address besides its own */
};

/*
 * The IPv4 side of range c, as the matcher and the exports take it
 * (contract.md: an IPv4-mapped address is that IPv4 address).  ONLY when c
 * lies inside ::ffff:0:0/96: *v4 is the IPv4 range it stands for instead
 * of itself.  TOO when c is wider and holds that /96 whole (only a never
 * rule may be that broad): *v4 is 0.0.0.0/0, which c holds besides its
 * IPv6 addresses.  NONE otherwise, *v4 untouched.  v4->text is c->text.
 */
enum m365_cidr_v4 m365_cidr_v4_part(const struct m365_cidr *c,
                                    struct m365_cidr *v4);

/* One endpoint set. */
struct m365_set {
	int64_t id;
	char id_text[24];        /* the id in decimal, for answers */
	char *service_area;      /* "Skype", "Common", ... (any value) */
	char *service_area_name; /* serviceAreaDisplayName, or NULL */
	char *category_name;     /* as written */
	enum m365_category category;
	bool required, express_route;
	char **urls; /* lowercase glob patterns */
	size_t n_urls;
	struct m365_cidr *ips;
	size_t n_ips;
	struct m365_ports tcp, udp;
	bool has_tcp, has_udp; /* the field was present */
	char *notes;           /* or NULL */
	size_t index;          /* position in the JSON array */
};

struct m365_endpoints {
	char *source; /* file name or description, for messages */
	struct m365_set *sets;
	size_t n_sets;
	size_t n_urls, n_ips; /* totals over all sets */
};

/*
 * Parses a JSON document of `len` bytes.  `source` names it in messages and
 * is copied.  Returns a new list owned by the caller, or NULL with err set to
 * "SOURCE: line L: reason" (JSON syntax) or "SOURCE: $[i].field: reason".
 * A list without a single set that has urls or ips is an error.
 */
struct m365_endpoints *m365_endpoints_parse(const char *json, size_t len,
                                            const char *source,
                                            struct m365_err *err);

/* Reads and parses the file at path (at most 64 MiB); see _parse(). */
struct m365_endpoints *m365_endpoints_load_file(const char *path,
                                                struct m365_err *err);

/* Returns the list bundled into the binary (parsed anew on every call). */
struct m365_endpoints *m365_endpoints_load_bundled(struct m365_err *err);

/* Frees the list and everything it owns; NULL is a no-op. */
void m365_endpoints_free(struct m365_endpoints *ep);

/* "Optimize", "Allow", "Default" or "Other". */
const char *m365_category_name(enum m365_category c);

/*
 * Maps a name to its category, exactly as Microsoft spells it ("Allow",
 * not "allow").  Returns -1 for a name
 * that is not one of the three Microsoft defines.
 */
int m365_category_from_name(const char *name);

#endif
