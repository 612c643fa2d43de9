/* tests/unit/test_runlog.c - the run record of m365ctl update and import
 * (ctl/runlog.c), read back as untrusted input, and the farm records
 * m365ctl status reads from Redis (m365_farm_parse). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "m365_farm.h"
#include "runlog.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static char dir[] = "/tmp/test_runlog.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, RUNLOG_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/retry-after", dir);
	unlink(path);
	return rmdir(dir);
}

/* Writes text as DIR/name. */
static void
put(const char *name, const char *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void
clear(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, RUNLOG_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/retry-after", dir);
	unlink(path);
}

/* Reads DIR's record expecting an error whose message ends with want. */
static void
assert_bad(const char *text, size_t len, const char *want)
{
	struct run_record r;
	struct m365_err err = {0};
	size_t n = strlen(want), m;

	put(RUNLOG_FILE, text, len);
	assert_int_equal(runlog_read(dir, &r, &err), -1);
	assert_int_equal(err.code, M365_E_INPUT);
	m = strlen(err.msg);
	if (m < n || strcmp(err.msg + m - n, want) != 0)
		fail_msg("[%s]: expected [...%s]", err.msg, want);
	if (strstr(err.msg, dir) == NULL)
		fail_msg("[%s] does not name the file", err.msg);
}

TEST(test_no_record_is_none)
{
	struct run_record r;

	clear();
	assert_int_equal(runlog_read(dir, &r, NULL), 0);
	assert_int_equal(r.result, RUN_NONE);
	assert_int_equal(r.attempt_at, 0);
	assert_string_equal(run_result_name(r.result), "none");
}

TEST(test_a_missing_directory_is_no_record)
{
	struct run_record r;

	assert_int_equal(runlog_read("/nonexistent/m365", &r, NULL), 0);
}

TEST(test_success_then_refusal_keeps_the_success)
{
	struct run_record r;
	struct m365_err err = {0};
	long long now = (long long)time(NULL);

	clear();
	assert_int_equal(runlog_write(dir, 1000, RUN_PUBLISHED, NULL, NULL,
	                              "2025120100", &err),
	                 0);
	assert_int_equal(runlog_write(dir, 2000, RUN_REFUSED,
	                              "refused: 3 sets\nwhere 72", "shrink",
	                              NULL, &err),
	                 0);
	assert_int_equal(runlog_read(dir, &r, &err), 1);
	assert_int_equal(r.attempt_at, 2000);
	assert_int_equal(r.result, RUN_REFUSED);
	assert_string_equal(r.message, "refused: 3 sets?where 72");
	assert_true(r.success_at >= now && r.success_at <= now + 5);
	assert_string_equal(r.version, "2025120100");
	assert_int_equal(r.refused_at, 2000);
	assert_string_equal(r.refused_reason, "shrink");
	assert_int_equal(r.retry_until, 0);
}

TEST(test_current_records_a_success_and_clears_the_message)
{
	struct run_record r;

	clear();
	assert_int_equal(
	    runlog_write(dir, 10, RUN_ERROR, "redis: down", NULL, NULL, NULL),
	    0);
	assert_int_equal(
	    runlog_write(dir, 20, RUN_CURRENT, NULL, NULL, "v2", NULL), 0);
	assert_int_equal(runlog_read(dir, &r, NULL), 1);
	assert_int_equal(r.result, RUN_CURRENT);
	assert_string_equal(r.message, "");
	assert_string_equal(r.version, "v2");
	assert_true(r.success_at > 0);
}

TEST(test_a_bad_label_is_recorded_as_other)
{
	struct run_record r;

	clear();
	assert_int_equal(
	    runlog_write(dir, 5, RUN_REFUSED, "x", "Not A Label", NULL, NULL),
	    0);
	assert_int_equal(runlog_read(dir, &r, NULL), 1);
	assert_string_equal(r.refused_reason, "other");
}

TEST(test_unknown_keys_and_blank_lines_are_ignored)
{
	static const char text[] = "attempt_at 7\n\nfuture_key anything at "
	                           "all\nresult locked\n";
	struct run_record r;

	put(RUNLOG_FILE, text, sizeof(text) - 1);
	assert_int_equal(runlog_read(dir, &r, NULL), 1);
	assert_int_equal(r.attempt_at, 7);
	assert_int_equal(r.result, RUN_LOCKED);
}

TEST(test_bad_fields_name_the_file_and_line)
{
	static const char nul[] = "result current\n\0x\n";

	assert_bad("attempt_at 12x\n", 15, "line 1: expected a Unix time");
	assert_bad("result current\nsuccess_at -1\n", 29,
	           "line 2: expected a Unix time");
	assert_bad("success_at 99999999999999999999\n", 32,
	           "line 1: expected a Unix time");
	assert_bad("result maybe\n", 13, "line 1: result: not a result");
	assert_bad("\n\nversion a/b\n", 14, "line 3: version: not a version");
	assert_bad("refused_reason Breadth\n", 23,
	           "line 1: refused_reason: expected 1-31 of [a-z_]");
	assert_bad("resultcurrent\n", 14, "line 1: expected \"KEY VALUE\"");
	assert_bad(nul, sizeof(nul) - 1, "a NUL byte");
}

TEST(test_an_oversized_record_is_refused)
{
	size_t n = (64u << 10) + 1;
	char *big = malloc(n);
	struct run_record r;
	struct m365_err err = {0};

	assert_non_null(big);
	memset(big, '\n', n);
	put(RUNLOG_FILE, big, n);
	free(big);
	assert_int_equal(runlog_read(dir, &r, &err), -1);
	assert_int_equal(err.code, M365_E_INPUT);
}

TEST(test_retry_after_only_when_in_the_future)
{
	char text[32];
	struct run_record r;
	long long now = (long long)time(NULL);

	clear();
	snprintf(text, sizeof(text), "%lld\n", now + 600);
	put("retry-after", text, strlen(text));
	assert_int_equal(runlog_read(dir, &r, NULL), 0);
	assert_int_equal(r.retry_until, now + 600);
	snprintf(text, sizeof(text), "%lld", now - 1);
	put("retry-after", text, strlen(text));
	assert_int_equal(runlog_read(dir, &r, NULL), 0);
	assert_int_equal(r.retry_until, 0);
	put("retry-after", "soon", 4);
	assert_int_equal(runlog_read(dir, &r, NULL), 0);
	assert_int_equal(r.retry_until, 0);
}

TEST(test_farm_records_parse)
{
	struct m365_farm_entry e;

	assert_int_equal(m365_farm_parse("m365:proxy:px1.example:squid:4242", 5,
	                                 "1 2025120100 1764547200 1764550000",
	                                 &e),
	                 0);
	assert_string_equal(e.host, "px1.example");
	assert_string_equal(e.frontend, "squid");
	assert_int_equal(e.pid, 4242);
	assert_string_equal(e.version, "2025120100");
	assert_int_equal(e.published_at, 1764547200);
	assert_int_equal(e.seen_at, 1764550000);
	assert_int_equal(m365_farm_parse("p:proxy:h:icap:1", 2, "1 - 0 5", &e),
	                 0);
	assert_string_equal(e.version, "");
}

TEST(test_bad_farm_records_are_refused)
{
	static const char *const keys[] = {
	    "m365:proxy:h:squid:x",  "m365:proxy:h:ftp:1",
	    "m365:proxy::squid:1",   "m365:proxy:h/x:squid:1",
	    "m365:proxy:h:squid:0",  "m365:other",
	    "m365:proxy:h:squid:1:2"};
	static const char *const values[] = {
	    "2 v 1 2",   "1 v 1",     "1 v x 2", "1  1 2",
	    "1 v 1 2 3", "1 a/b 1 2", ""};
	struct m365_farm_entry e;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (m365_farm_parse(keys[i], 5, "1 v 1 2", &e) != -1)
			fail_msg("key [%s] accepted", keys[i]);
	for (i = 0; i < sizeof(values) / sizeof(*values); i++)
		if (m365_farm_parse("m365:proxy:h:squid:1", 5, values[i], &e) !=
		    -1)
			fail_msg("value [%s] accepted", values[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_record_is_none),
	    cmocka_unit_test(test_a_missing_directory_is_no_record),
	    cmocka_unit_test(test_success_then_refusal_keeps_the_success),
	    cmocka_unit_test(
	        test_current_records_a_success_and_clears_the_message),
	    cmocka_unit_test(test_a_bad_label_is_recorded_as_other),
	    cmocka_unit_test(test_unknown_keys_and_blank_lines_are_ignored),
	    cmocka_unit_test(test_bad_fields_name_the_file_and_line),
	    cmocka_unit_test(test_an_oversized_record_is_refused),
	    cmocka_unit_test(test_retry_after_only_when_in_the_future),
	    cmocka_unit_test(test_farm_records_parse),
	    cmocka_unit_test(test_bad_farm_records_are_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
