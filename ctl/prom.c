/* prom.c - a host's metrics in Prometheus's text format 0.0.4. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

/* The longest label value read from a file (longer ones are cut) and the
 * most an escaped one takes (a byte becomes at most 3). */
#define LABEL_IN_MAX 256
#define LABEL_OUT_MAX (3 * LABEL_IN_MAX + 1)

/* A metric family; its # HELP and # TYPE come before its first sample. */
struct family {
	const char *name, *type, *help;
	int started;
};

#define FAMILY(n, t, h) ((struct family){.name = n, .type = t, .help = h})

/* A label; value is already escaped (esc()). */
struct label {
	const char *name, *value;
};

/* The length of the UTF-8 character at s[0..n), its code point in *cp;
 * 0 for a byte that does not start one (overlong, surrogate, cut). */
static size_t
utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t min;
	size_t len, i;

	*cp = s[0];
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, *cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, *cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, *cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* s (at most max bytes, or up to its NUL) as a label value in buf. */
static const char *
esc(char buf[LABEL_OUT_MAX], const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, max < LABEL_IN_MAX ? max : LABEL_IN_MAX);
	size_t i = 0, o = 0, len;
	uint32_t cp;

	while (i < n) {
		if ((len = utf8_len(u + i, n - i, &cp)) == 0)
			len = 1, cp = 0; /* not UTF-8: replaced */
		if (cp == '\\' || cp == '"' || cp == '\n') {
			buf[o++] = '\\';
			buf[o++] = cp == '\n' ? 'n' : (char)cp;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			memcpy(buf + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
		} else {
			memcpy(buf + o, u + i, len);
			o += len;
		}
		i += len;
	}
	buf[o] = '\0';
	return buf;
}

/* The frontend label of fe, in b. */
static struct label
fe_label(char b[LABEL_OUT_MAX], int fe)
{
	return (struct label){.name = "frontend",
	                      .value =
	                          esc(b, m365_frontend_name(fe), SIZE_MAX)};
}

/* Starts a sample line: the family's header when it is the first, the
 * name with suffix and the labels; the caller prints the value. */
static void
sample(FILE *out, struct family *f, const char *suffix, const struct label *l,
       size_t n)
{
	size_t i;

	if (!f->started) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		        f->name, f->type);
		f->started = 1;
	}
	fprintf(out, "%s%s", f->name, suffix);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%s=\"%s\"", i ? "," : "{", l[i].name,
		        l[i].value);
	fprintf(out, "%s ", n ? "}" : "");
}

static void
sample_u64(FILE *out, struct family *f, const struct label *l, size_t n,
           uint64_t v)
{
	sample(out, f, "", l, n);
	fprintf(out, "%" PRIu64 "\n", v);
}

static void
sample_ll(FILE *out, struct family *f, const struct label *l, size_t n,
          long long v)
{
	sample(out, f, "", l, n);
	fprintf(out, "%lld\n", v);
}

/* The shortest text that reads back as d ("1e-06", "0.0025"). */
static const char *
fmt_double(char buf[32], double d)
{
	int p;

	for (p = 1; p <= 17; p++) {
		snprintf(buf, 32, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return buf;
}

/* One series of m365_bypass_lookups_total. */
static void
lookup_series(FILE *out, struct family *f, int fe, int r, int c, int s,
              uint64_t n)
{
	char b[4][LABEL_OUT_MAX];
	struct label l[4] = {
	    fe_label(b[0], fe),
	    {.name = "verdict",
	     .value = esc(b[1], r == M365_OK ? "ok" : "err", SIZE_MAX)},
	    {.name = "category",
	     .value = esc(b[2], m365_mcat_name(c), SIZE_MAX)},
	    {.name = "service",
	     .value = esc(b[3], m365_msvc_name(s), SIZE_MAX)}};

	sample_u64(out, f, l, 4, n);
}

/* Every series that is not zero, and ERR for nothing matched always. */
static void
lookups(FILE *out, const struct m365_metrics_view *v)
{
	struct family f = FAMILY("m365_bypass_lookups_total", "counter",
	                         "Answers to lookups by front end, verdict, "
	                         "category and service area.");
	int fe, r, c, s;
	uint64_t n;

	for (fe = 0; fe < M365_FE_N; fe++)
		for (r = M365_OK; r >= M365_ERR; r--)
			for (c = 0; c < M365_MCAT_N; c++)
				for (s = 0; s < M365_MSVC_N; s++) {
					n = v->fe[fe].lookups[r][c][s];
					if (n != 0 || (r == M365_ERR &&
					               c == M365_MCAT_NONE &&
					               s == M365_MSVC_NONE))
						lookup_series(out, &f, fe, r, c,
						              s, n);
				}
}

static void
invalid(FILE *out, const struct m365_metrics_view *v)
{
	struct family f = FAMILY(
	    "m365_bypass_invalid_requests_total", "counter",
	    "Requests answered ERR because they could not be read, by reason.");
	char b[2][LABEL_OUT_MAX];
	int fe, r;

	for (fe = 0; fe < M365_FE_N; fe++)
		for (r = 0; r < M365_INV_N; r++) {
			struct label l[2] = {
			    fe_label(b[0], fe),
			    {.name = "reason",
			     .value =
			         esc(b[1], m365_invalid_name(r), SIZE_MAX)}};
			sample_u64(out, &f, l, 2, v->fe[fe].invalid[r]);
		}
}

/* A counter with only the frontend label, n[fe] its values. */
static void
per_frontend(FILE *out, struct family *f, const uint64_t n[M365_FE_N])
{
	char b[LABEL_OUT_MAX];
	int fe;

	for (fe = 0; fe < M365_FE_N; fe++) {
		struct label l = fe_label(b, fe);
		sample_u64(out, f, &l, 1, n[fe]);
	}
}

static void
histogram(FILE *out, const struct m365_metrics_view *v)
{
	struct family f = FAMILY("m365_bypass_lookup_duration_seconds",
	                         "histogram", "Time taken to answer a lookup.");
	char b[2][LABEL_OUT_MAX], num[32];
	uint64_t sum;
	int fe, i;

	for (fe = 0; fe < M365_FE_N; fe++) {
		const struct m365_metrics_counts *c = &v->fe[fe];
		struct label l[2] = {fe_label(b[0], fe),
		                     {.name = "le", .value = NULL}};

		for (i = 0, sum = 0; i <= M365_METRICS_BUCKETS; i++) {
			sum += c->latency[i];
			l[1].value =
			    i == M365_METRICS_BUCKETS
			        ? "+Inf"
			        : fmt_double(num,
			                     m365_metrics_bucket_ns[i] / 1e9);
			sample(out, &f, "_bucket", l, 2);
			fprintf(out, "%" PRIu64 "\n", sum);
		}
		sample(out, &f, "_sum", l, 1);
		fprintf(out, "%s\n", fmt_double(num, c->latency_sum_ns / 1e9));
		sample(out, &f, "_count", l, 1);
		fprintf(out, "%" PRIu64 "\n", sum);
	}
}

/* What the live processes of one front end use. */
struct fe_gauges {
	uint64_t procs, loaded, redis_users, redis_up;
	long long oldest_published; /* 0: none known (a file, bundled) */
};

static void
gather(const struct m365_metrics_view *v, struct fe_gauges g[M365_FE_N])
{
	const struct m365_metrics_proc *p;
	size_t i;

	memset(g, 0, M365_FE_N * sizeof(*g));
	for (i = 0; i < v->n_procs; i++) {
		p = &v->procs[i];
		if ((unsigned)p->frontend >= M365_FE_N)
			continue;
		g[p->frontend].procs++;
		g[p->frontend].loaded += p->list_loaded != 0;
		g[p->frontend].redis_users += p->redis != M365_REDIS_UNUSED;
		g[p->frontend].redis_up += p->redis == M365_REDIS_UP;
		if (p->published_at != 0 &&
		    (g[p->frontend].oldest_published == 0 ||
		     p->published_at < g[p->frontend].oldest_published))
			g[p->frontend].oldest_published = p->published_at;
	}
}

/* m365_bypass_list_version: processes per version, the versions whose
 * labels read alike counted together.  -1 when memory runs out. */
static int
versions(FILE *out, const struct m365_metrics_view *v, int fe, struct family *f)
{
	struct ver {
		char label[LABEL_OUT_MAX];
		uint64_t n;
	} * vs;
	char b[LABEL_OUT_MAX];
	const char *name;
	size_t i, j, n = 0;

	if (v->n_procs == 0)
		return 0;
	if ((vs = calloc(v->n_procs, sizeof(*vs))) == NULL)
		return -1;
	for (i = 0; i < v->n_procs; i++) {
		if (v->procs[i].frontend != (enum m365_frontend)fe)
			continue;
		name = v->procs[i].version[0] ? v->procs[i].version : "unknown";
		esc(b, name, sizeof(v->procs[i].version));
		for (j = 0; j < n && strcmp(vs[j].label, b) != 0; j++)
			;
		if (j == n)
			memcpy(vs[n++].label, b, sizeof(b));
		vs[j].n++;
	}
	for (j = 0; j < n; j++) {
		struct label l[2] = {fe_label(b, fe),
		                     {.name = "version", .value = vs[j].label}};
		sample_u64(out, f, l, 2, vs[j].n);
	}
	free(vs);
	return 0;
}

/* The gauges of the live processes; -1 when memory runs out. */
static int
gauges(FILE *out, const struct m365_metrics_view *v)
{
	struct family procs = FAMILY("m365_bypass_processes", "gauge",
	                             "Live processes of the front end.");
	struct family loaded = FAMILY(
	    "m365_bypass_list_loaded", "gauge",
	    "1 when every live process of the front end has a list, else 0.");
	struct family version =
	    FAMILY("m365_bypass_list_version", "gauge",
	           "Live processes of the front end using the list version.");
	struct family published =
	    FAMILY("m365_bypass_list_published_timestamp_seconds", "gauge",
	           "When the oldest list in use by the front end was published "
	           "(0: not known).");
	struct family redis = FAMILY("m365_bypass_redis_up", "gauge",
	                             "1 when every process of the front end "
	                             "that uses Redis can reach it, else 0.");
	struct fe_gauges g[M365_FE_N];
	char b[LABEL_OUT_MAX];
	int fe;

	gather(v, g);
	for (fe = 0; fe < M365_FE_N; fe++) {
		struct label l = fe_label(b, fe);
		sample_u64(out, &procs, &l, 1, g[fe].procs);
	}
	for (fe = 0; fe < M365_FE_N; fe++) {
		struct label l = fe_label(b, fe);
		if (g[fe].procs)
			sample_u64(out, &loaded, &l, 1,
			           g[fe].loaded == g[fe].procs);
	}
	for (fe = 0; fe < M365_FE_N; fe++)
		if (versions(out, v, fe, &version) < 0)
			return -1;
	for (fe = 0; fe < M365_FE_N; fe++) {
		struct label l = fe_label(b, fe);
		if (g[fe].procs)
			sample_ll(out, &published, &l, 1,
			          g[fe].oldest_published);
	}
	for (fe = 0; fe < M365_FE_N; fe++) {
		struct label l = fe_label(b, fe);
		if (g[fe].redis_users)
			sample_u64(out, &redis, &l, 1,
			           g[fe].redis_up == g[fe].redis_users);
	}
	return 0;
}

static void
updates(FILE *out, const struct run_record *r)
{
	struct family attempt =
	    FAMILY("m365_bypass_update_last_attempt_timestamp_seconds", "gauge",
	           "When the last update run started.");
	struct family success = FAMILY(
	    "m365_bypass_update_last_success_timestamp_seconds", "gauge",
	    "When an update run last published or found the list current.");
	struct family refusal =
	    FAMILY("m365_bypass_update_last_refusal_timestamp_seconds", "gauge",
	           "When an update run last refused a list, by reason.");
	struct family version =
	    FAMILY("m365_bypass_update_last_version", "gauge",
	           "The version the last successful update run left current.");
	struct family retry =
	    FAMILY("m365_bypass_update_retry_after_timestamp_seconds", "gauge",
	           "Until when Microsoft asked updates to wait (Retry-After).");
	struct family result = FAMILY("m365_bypass_update_last_result", "gauge",
	                              "How the last update run ended.");
	char b[LABEL_OUT_MAX];
	struct label l;

	sample_ll(out, &attempt, NULL, 0, r->attempt_at);
	if (r->success_at)
		sample_ll(out, &success, NULL, 0, r->success_at);
	if (r->refused_at) {
		l = (struct label){
		    .name = "reason",
		    .value = esc(
		        b, r->refused_reason[0] ? r->refused_reason : "unknown",
		        sizeof(r->refused_reason))};
		sample_ll(out, &refusal, &l, 1, r->refused_at);
	}
	if (r->version[0]) {
		l = (struct label){.name = "version",
		                   .value =
		                       esc(b, r->version, sizeof(r->version))};
		sample_u64(out, &version, &l, 1, 1);
	}
	if (r->retry_until)
		sample_ll(out, &retry, NULL, 0, r->retry_until);
	l = (struct label){.name = "result",
	                   .value =
	                       esc(b, run_result_name(r->result), SIZE_MAX)};
	sample_u64(out, &result, &l, 1, 1);
}

int
prom_write(FILE *out, const struct m365_metrics_view *view,
           const struct run_record *run)
{
	struct family up =
	    FAMILY("m365_bypass_metrics_up", "gauge",
	           "1 when the counters file could be read, else 0.");
	struct family no_list =
	    FAMILY("m365_bypass_lookups_without_list_total", "counter",
	           "Lookups answered ERR because no list was loaded.");
	struct family switches =
	    FAMILY("m365_bypass_list_switches_total", "counter",
	           "Switches to another list version.");
	struct family refused = FAMILY("m365_bypass_list_refused_total",
	                               "counter", "List versions refused.");

	uint64_t nl[M365_FE_N], sw[M365_FE_N], rf[M365_FE_N];
	int fe;

	sample_u64(out, &up, NULL, 0, view != NULL);
	if (view) {
		for (fe = 0; fe < M365_FE_N; fe++) {
			nl[fe] = view->fe[fe].no_list;
			sw[fe] = view->fe[fe].switches;
			rf[fe] = view->fe[fe].refused;
		}
		lookups(out, view);
		invalid(out, view);
		per_frontend(out, &no_list, nl);
		histogram(out, view);
		per_frontend(out, &switches, sw);
		per_frontend(out, &refused, rf);
		if (gauges(out, view) < 0)
			return -1;
	}
	if (run)
		updates(out, run);
	return fflush(out) == EOF || ferror(out) ? -1 : 0;
}

char *
prom_render(const struct m365_metrics_view *view, const struct run_record *run,
            size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&buf, &n)) == NULL)
		return NULL;
	rc = prom_write(f, view, run);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
