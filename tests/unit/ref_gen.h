/*
 * ref_gen.h - generators of the differential test: endpoint lists (JSON),
 * local lists (text), policies and queries aimed at their patterns.
 *
 * Everything is drawn from a struct ref_rng: a fixed-seed xorshift for the
 * unit test (the same cases on every run), or the bytes of a fuzzer input
 * (then zeros once they run out), so that one generator serves both.
 */
#ifndef M365_REF_GEN_H
#define M365_REF_GEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m365_classify.h"

struct ref_rng {
	uint64_t s;          /* xorshift state (when data is NULL) */
	const uint8_t *data; /* fuzzer bytes, or NULL */
	size_t len, pos;
};

/* Seeds a xorshift generator (any seed, 0 included). */
void ref_rng_seed(struct ref_rng *r, uint64_t seed);

/* Draws from data[0..len) instead, then zeros. */
void ref_rng_data(struct ref_rng *r, const uint8_t *data, size_t len);

/* A number in [0, n) (0 when n is 0). */
unsigned ref_rng_below(struct ref_rng *r, unsigned n);

/* True with probability about pct percent. */
bool ref_rng_pct(struct ref_rng *r, unsigned pct);

/* A growable NUL-terminated string; aborts when out of memory. */
struct ref_str {
	char *s;
	size_t len, cap;
};

/* Appends printf-style. */
void ref_str_add(struct ref_str *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Takes the string (the caller frees it); b is left empty. */
char *ref_str_take(struct ref_str *b);

#define REF_GEN_MAX_SETS 64 /* most sets in a generated list */

/* How far the generators go. */
struct ref_gen_opts {
	unsigned max_stars; /* most '*' in an irregular glob */
	unsigned max_fill;  /* longest text a '*' expands to in queries
	                       (at most 500) */
	unsigned max_sets;  /* most synthetic sets in a list */
	unsigned max_rules; /* most local rules */
};

/* One generated case: what m365_list_build() gets. */
struct ref_case {
	char *json;       /* the endpoint list */
	char *local;      /* the local list text, or NULL for none */
	char *categories; /* --categories, or NULL (default) */
	char *areas;      /* --service-areas, or NULL (all) */
	char **hints;     /* names the local regexes were written for */
	size_t n_hints;
};

/*
 * Loads the endpoint sets of the JSON fixtures at paths[0..n) into one
 * array to sample from (ref_gen_case()); NULL when one does not load.
 */
json_t *ref_gen_load_fixtures(const char *const *paths, size_t n);

/*
 * Generates a case: some sets sampled from pool (may be NULL) with fresh
 * ids, synthetic sets (exact names, suffixes, irregular globs, nested v4
 * and v6 ranges, port lists), a local list of bypass and never rules of
 * every kind overlapping them (sometimes none), and a policy.
 */
void ref_gen_case(struct ref_rng *r, const struct ref_gen_opts *o,
                  const json_t *pool, struct ref_case *c);

/* Frees what the case holds. */
void ref_case_free(struct ref_case *c);

#define REF_QUERY_MAX 800 /* a percent-encoded 253-character name fits */

/* One query; a field whose flag is false is passed as NULL. */
struct ref_query {
	char dst[REF_QUERY_MAX], port[24], sni[REF_QUERY_MAX];
	bool has_dst, has_port, has_sni;
};

/*
 * Fills q[0..max) with queries aimed at the patterns of a built list and
 * at hints[0..n_hints): names inside and just outside every glob, the
 * first and last address of every range and its neighbours, in every
 * spelling the normaliser accepts (case, trailing dot, percent-encoding,
 * brackets, IPv4-mapped), with ports inside and outside the sets' ports,
 * unknown and invalid, and SNIs none, the same, another, invalid.
 * Returns how many.
 */
size_t ref_gen_queries(struct ref_rng *r, const struct ref_gen_opts *o,
                       const struct m365_list *l, char *const *hints,
                       size_t n_hints, struct ref_query *q, size_t max);

/*
 * Expands a glob into a name it matches (or, with miss, one that should
 * be just outside it) into out[0..cap).
 */
void ref_gen_expand(struct ref_rng *r, const struct ref_gen_opts *o,
                    const char *glob, bool miss, char *out, size_t cap);

#endif
