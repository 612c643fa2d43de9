/* tests/unit/test_prom.c - m365ctl metrics's Prometheus text (ctl/prom.c):
 * which series it prints, the histogram, the gauges' rules, and label
 * values from the counters file and the run record printed safely. */
#include <stdlib.h>
#include <string.h>

#include "prom.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* The text of view and run; the caller frees it. */
static char *
render(const struct m365_metrics_view *v, const struct run_record *r)
{
	size_t len;
	char *text = prom_render(v, r, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* True when line is one whole line of text. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

/* True when a line of text starts with prefix. */
static int
has_prefix(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = text;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, n) == 0)
			return 1;
	return 0;
}

#define ASSERT_LINE(text, line)                                                \
	do {                                                                   \
		if (!has_line(text, line))                                     \
			fail_msg("no line [%s] in:\n%s", line, text);          \
	} while (0)
#define ASSERT_NO_PREFIX(text, prefix)                                         \
	do {                                                                   \
		if (has_prefix(text, prefix))                                  \
			fail_msg("a line starts [%s] in:\n%s", prefix, text);  \
	} while (0)

/* A process of fe with a list of version published at pub. */
static struct m365_metrics_proc
proc(enum m365_frontend fe, int loaded, enum m365_redis_state redis,
     const char *version, long long pub)
{
	struct m365_metrics_proc p = {.pid = 100,
	                              .frontend = fe,
	                              .list_loaded = loaded,
	                              .redis = redis,
	                              .published_at = pub};

	memcpy(p.version, version, strlen(version) + 1);
	return p;
}

TEST(test_an_empty_view_still_has_every_counter_family)
{
	struct m365_metrics_view v = {.procs = NULL, .n_procs = 0};
	char *t;

	t = render(&v, NULL);
	ASSERT_LINE(t, "m365_bypass_metrics_up 1");
	ASSERT_LINE(t, "# TYPE m365_bypass_lookups_total counter");
	ASSERT_LINE(t, "m365_bypass_lookups_total{frontend=\"squid\","
	               "verdict=\"err\",category=\"none\",service=\"none\"} 0");
	ASSERT_LINE(t, "m365_bypass_lookups_total{frontend=\"icap\","
	               "verdict=\"err\",category=\"none\",service=\"none\"} 0");
	ASSERT_NO_PREFIX(t, "m365_bypass_lookups_total{frontend=\"squid\","
	                    "verdict=\"ok\"");
	ASSERT_LINE(t, "m365_bypass_invalid_requests_total{frontend=\"icap\","
	               "reason=\"line_too_long\"} 0");
	ASSERT_LINE(t, "m365_bypass_invalid_requests_total{frontend=\"squid\","
	               "reason=\"syntax\"} 0");
	ASSERT_LINE(t,
	            "m365_bypass_lookups_without_list_total{frontend=\"icap\"} "
	            "0");
	ASSERT_LINE(t, "m365_bypass_list_switches_total{frontend=\"squid\"} 0");
	ASSERT_LINE(t, "m365_bypass_list_refused_total{frontend=\"icap\"} 0");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_count{frontend="
	               "\"icap\"} 0");
	ASSERT_LINE(t, "m365_bypass_processes{frontend=\"squid\"} 0");
	ASSERT_LINE(t, "m365_bypass_processes{frontend=\"icap\"} 0");
	/* gauges of processes that do not exist are left out */
	ASSERT_NO_PREFIX(t, "m365_bypass_list_loaded");
	ASSERT_NO_PREFIX(t, "# HELP m365_bypass_list_loaded");
	ASSERT_NO_PREFIX(t, "m365_bypass_list_version");
	ASSERT_NO_PREFIX(t, "m365_bypass_redis_up");
	ASSERT_NO_PREFIX(t, "m365_bypass_update_");
	free(t);
}

TEST(test_only_lookup_series_that_are_not_zero_are_printed)
{
	struct m365_metrics_view v = {.n_procs = 0};
	char *t;

	v.fe[M365_FE_SQUID]
	    .lookups[M365_OK][M365_MCAT_OPTIMIZE][M365_MSVC_EXCHANGE] = 7;
	v.fe[M365_FE_ICAP]
	    .lookups[M365_ERR][M365_MCAT_DEFAULT][M365_MSVC_COMMON] = 2;
	t = render(&v, NULL);
	ASSERT_LINE(t, "m365_bypass_lookups_total{frontend=\"squid\","
	               "verdict=\"ok\",category=\"Optimize\","
	               "service=\"Exchange\"} 7");
	ASSERT_LINE(t, "m365_bypass_lookups_total{frontend=\"icap\","
	               "verdict=\"err\",category=\"Default\","
	               "service=\"Common\"} 2");
	ASSERT_NO_PREFIX(t, "m365_bypass_lookups_total{frontend=\"squid\","
	                    "verdict=\"ok\",category=\"Allow\"");
	ASSERT_LINE(t, "m365_bypass_lookups_total{frontend=\"squid\","
	               "verdict=\"err\",category=\"none\",service=\"none\"} 0");
	free(t);
}

TEST(test_histogram_buckets_are_cumulative_and_inf_is_the_count)
{
	struct m365_metrics_view v = {.n_procs = 0};
	struct m365_metrics_counts *c = &v.fe[M365_FE_SQUID];
	char *t;

	c->latency[0] = 1;                        /* <= 1 us */
	c->latency[1] = 2;                        /* <= 2.5 us */
	c->latency[M365_METRICS_BUCKETS - 1] = 3; /* <= 10 ms */
	c->latency[M365_METRICS_BUCKETS] = 4;     /* more */
	c->latency_sum_ns = 1500000000;
	t = render(&v, NULL);
	ASSERT_LINE(t, "# TYPE m365_bypass_lookup_duration_seconds histogram");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_bucket{frontend="
	               "\"squid\",le=\"1e-06\"} 1");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_bucket{frontend="
	               "\"squid\",le=\"2.5e-06\"} 3");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_bucket{frontend="
	               "\"squid\",le=\"0.005\"} 3");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_bucket{frontend="
	               "\"squid\",le=\"0.01\"} 6");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_bucket{frontend="
	               "\"squid\",le=\"+Inf\"} 10");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_count{frontend="
	               "\"squid\"} 10");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_sum{frontend="
	               "\"squid\"} 1.5");
	ASSERT_LINE(t, "m365_bypass_lookup_duration_seconds_bucket{frontend="
	               "\"icap\",le=\"+Inf\"} 0");
	free(t);
}

TEST(test_label_values_are_escaped_and_control_bytes_never_printed)
{
	struct m365_metrics_proc p[] = {proc(M365_FE_SQUID, 1,
	                                     M365_REDIS_UNUSED,
	                                     "a\\b\"c\nd\x01"
	                                     "e\x7f\xff\xc3\xa9\xc2\x85",
	                                     0)};
	struct m365_metrics_view v = {.procs = p, .n_procs = 1};
	char *t, *s;

	t = render(&v, NULL);
	/* \\ \" \n escaped; \x01, DEL, a byte that is not UTF-8 and the C1
	 * control U+0085 replaced by U+FFFD; é kept */
	ASSERT_LINE(t, "m365_bypass_list_version{frontend=\"squid\","
	               "version=\"a\\\\b\\\"c\\nd\xef\xbf\xbd"
	               "e\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\"} 1");
	for (s = t; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n')
			fail_msg("control byte 0x%02x printed", *s);
	free(t);
}

TEST(test_versions_that_read_alike_are_one_series)
{
	struct m365_metrics_proc p[] = {
	    proc(M365_FE_SQUID, 1, M365_REDIS_UP, "v\x01", 0),
	    proc(M365_FE_SQUID, 1, M365_REDIS_UP, "v\x02", 0),
	    proc(M365_FE_SQUID, 0, M365_REDIS_UP, "", 0),
	    proc(M365_FE_SQUID, 1, M365_REDIS_UP, "unknown", 0),
	    proc(M365_FE_ICAP, 1, M365_REDIS_UP, "2025120100", 0)};
	struct m365_metrics_view v = {.procs = p, .n_procs = 5};
	char *t;

	t = render(&v, NULL);
	ASSERT_LINE(t, "m365_bypass_list_version{frontend=\"squid\","
	               "version=\"v\xef\xbf\xbd\"} 2");
	ASSERT_LINE(t, "m365_bypass_list_version{frontend=\"squid\","
	               "version=\"unknown\"} 2");
	ASSERT_LINE(t, "m365_bypass_list_version{frontend=\"icap\","
	               "version=\"2025120100\"} 1");
	ASSERT_LINE(t, "m365_bypass_processes{frontend=\"squid\"} 4");
	free(t);
}

TEST(test_list_loaded_is_0_when_one_process_has_none)
{
	struct m365_metrics_proc p[] = {
	    proc(M365_FE_SQUID, 1, M365_REDIS_UNUSED, "1", 0),
	    proc(M365_FE_SQUID, 0, M365_REDIS_UNUSED, "", 0),
	    proc(M365_FE_ICAP, 1, M365_REDIS_UNUSED, "1", 0)};
	struct m365_metrics_view v = {.procs = p, .n_procs = 3};
	char *t;

	t = render(&v, NULL);
	ASSERT_LINE(t, "m365_bypass_list_loaded{frontend=\"squid\"} 0");
	ASSERT_LINE(t, "m365_bypass_list_loaded{frontend=\"icap\"} 1");
	free(t);
	v.n_procs = 1; /* the squid process with a list alone */
	t = render(&v, NULL);
	ASSERT_LINE(t, "m365_bypass_list_loaded{frontend=\"squid\"} 1");
	ASSERT_NO_PREFIX(t, "m365_bypass_list_loaded{frontend=\"icap\"");
	free(t);
}

TEST(test_redis_up_needs_every_user_up_and_is_left_out_without_users)
{
	struct m365_metrics_proc p[] = {
	    proc(M365_FE_SQUID, 1, M365_REDIS_UP, "1", 0),
	    proc(M365_FE_SQUID, 1, M365_REDIS_UNUSED, "1", 0),
	    proc(M365_FE_ICAP, 1, M365_REDIS_UP, "1", 0),
	    proc(M365_FE_ICAP, 1, M365_REDIS_DOWN, "1", 0)};
	struct m365_metrics_view v = {.procs = p, .n_procs = 4};
	char *t;

	t = render(&v, NULL);
	ASSERT_LINE(t, "m365_bypass_redis_up{frontend=\"squid\"} 1");
	ASSERT_LINE(t, "m365_bypass_redis_up{frontend=\"icap\"} 0");
	free(t);
	p[0].redis = M365_REDIS_UNUSED;
	v.n_procs = 2;
	t = render(&v, NULL);
	ASSERT_NO_PREFIX(t, "m365_bypass_redis_up");
	ASSERT_NO_PREFIX(t, "# TYPE m365_bypass_redis_up");
	free(t);
}

TEST(test_published_is_the_oldest_known_publication)
{
	struct m365_metrics_proc p[] = {
	    proc(M365_FE_SQUID, 1, M365_REDIS_UP, "2", 1764583200),
	    proc(M365_FE_SQUID, 1, M365_REDIS_UP, "1", 1764496800),
	    proc(M365_FE_SQUID, 1, M365_REDIS_UNUSED, "file", 0),
	    proc(M365_FE_ICAP, 1, M365_REDIS_UNUSED, "bundled", 0)};
	struct m365_metrics_view v = {.procs = p, .n_procs = 4};
	char *t;

	t = render(&v, NULL);
	ASSERT_LINE(t, "m365_bypass_list_published_timestamp_seconds{frontend="
	               "\"squid\"} 1764496800");
	ASSERT_LINE(t, "m365_bypass_list_published_timestamp_seconds{frontend="
	               "\"icap\"} 0");
	free(t);
}

TEST(test_unreadable_counters_print_only_up_and_the_updater)
{
	struct run_record r = {.attempt_at = 1764583200,
	                       .result = RUN_CURRENT,
	                       .success_at = 1764583200,
	                       .version = "2025120100"};
	char *t;

	t = render(NULL, &r);
	ASSERT_LINE(t, "m365_bypass_metrics_up 0");
	ASSERT_NO_PREFIX(t, "m365_bypass_lookups");
	ASSERT_NO_PREFIX(t, "m365_bypass_processes");
	ASSERT_LINE(t, "m365_bypass_update_last_attempt_timestamp_seconds "
	               "1764583200");
	ASSERT_LINE(t, "m365_bypass_update_last_result{result=\"current\"} 1");
	free(t);
	t = render(NULL, NULL);
	assert_string_equal(t, "# HELP m365_bypass_metrics_up 1 when the "
	                       "counters file could be read, else 0.\n"
	                       "# TYPE m365_bypass_metrics_up gauge\n"
	                       "m365_bypass_metrics_up 0\n");
	free(t);
}

TEST(test_the_run_record_prints_only_what_it_holds)
{
	struct run_record r = {.attempt_at = 1764583300,
	                       .result = RUN_REFUSED,
	                       .success_at = 1764496800,
	                       .version = "2025120100",
	                       .refused_at = 1764583300,
	                       .refused_reason = "breadth",
	                       .retry_until = 1764586900};
	struct m365_metrics_view v = {.n_procs = 0};
	char *t;

	t = render(&v, &r);
	ASSERT_LINE(t, "# TYPE m365_bypass_update_last_attempt_timestamp_"
	               "seconds gauge");
	ASSERT_LINE(t, "m365_bypass_update_last_success_timestamp_seconds "
	               "1764496800");
	ASSERT_LINE(t, "m365_bypass_update_last_refusal_timestamp_seconds{"
	               "reason=\"breadth\"} 1764583300");
	ASSERT_LINE(t, "m365_bypass_update_last_version{version="
	               "\"2025120100\"} 1");
	ASSERT_LINE(t, "m365_bypass_update_retry_after_timestamp_seconds "
	               "1764586900");
	ASSERT_LINE(t, "m365_bypass_update_last_result{result=\"refused\"} 1");
	free(t);
	memset(&r, 0, sizeof(r));
	r.attempt_at = 1764583300;
	r.result = RUN_ERROR;
	t = render(&v, &r);
	ASSERT_NO_PREFIX(t, "m365_bypass_update_last_success");
	ASSERT_NO_PREFIX(t, "m365_bypass_update_last_refusal");
	ASSERT_NO_PREFIX(t, "m365_bypass_update_last_version");
	ASSERT_NO_PREFIX(t, "m365_bypass_update_retry_after");
	ASSERT_LINE(t, "m365_bypass_update_last_result{result=\"error\"} 1");
	free(t);
}

TEST(test_each_family_has_one_help_and_type_before_its_samples)
{
	struct m365_metrics_proc p[] = {
	    proc(M365_FE_SQUID, 1, M365_REDIS_UP, "1", 1),
	    proc(M365_FE_ICAP, 1, M365_REDIS_UP, "2", 1)};
	struct m365_metrics_view v = {.procs = p, .n_procs = 2};
	const char *fams[] = {
	    "m365_bypass_lookups_total", "m365_bypass_list_version",
	    "m365_bypass_redis_up", "m365_bypass_lookup_duration_seconds"};
	char *t, *type, *first, buf[128];
	size_t i;

	t = render(&v, NULL);
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		snprintf(buf, sizeof(buf), "# TYPE %s ", fams[i]);
		assert_non_null(type = strstr(t, buf));
		assert_null(strstr(type + 1, buf));
		snprintf(buf, sizeof(buf), "\n%s", fams[i]);
		assert_non_null(first = strstr(t, buf));
		assert_true(first > type);
	}
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_an_empty_view_still_has_every_counter_family),
	    cmocka_unit_test(
	        test_only_lookup_series_that_are_not_zero_are_printed),
	    cmocka_unit_test(
	        test_histogram_buckets_are_cumulative_and_inf_is_the_count),
	    cmocka_unit_test(
	        test_label_values_are_escaped_and_control_bytes_never_printed),
	    cmocka_unit_test(test_versions_that_read_alike_are_one_series),
	    cmocka_unit_test(test_list_loaded_is_0_when_one_process_has_none),
	    cmocka_unit_test(
	        test_redis_up_needs_every_user_up_and_is_left_out_without_users),
	    cmocka_unit_test(test_published_is_the_oldest_known_publication),
	    cmocka_unit_test(
	        test_unreadable_counters_print_only_up_and_the_updater),
	    cmocka_unit_test(test_the_run_record_prints_only_what_it_holds),
	    cmocka_unit_test(
	        test_each_family_has_one_help_and_type_before_its_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
