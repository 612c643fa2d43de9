/* tests/unit/test_redis_url.c - Redis URLs, version names and checksums:
 * the parts of the Redis store that take no server. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "m365_redis.h"
#include "m365_store.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static struct m365_redis_url
parse_ok(const char *url)
{
	struct m365_redis_url u;
	struct m365_err err = {0};

	if (m365_redis_url_parse(url, &u, "--redis", &err) != 0)
		fail_msg("\"%s\" refused: %s", url, err.msg);
	return u;
}

static void
assert_refused(const char *url)
{
	struct m365_redis_url u;
	struct m365_err err = {0};

	if (m365_redis_url_parse(url, &u, "--redis", &err) != -1)
		fail_msg("\"%s\" was accepted", url);
	assert_int_equal(err.code, M365_E_INPUT);
	if (strncmp(err.msg, "--redis: ", 9) != 0)
		fail_msg("\"%s\": message does not name the option: %s", url,
		         err.msg);
}

TEST(test_host_alone_takes_default_port_and_db)
{
	struct m365_redis_url u = parse_ok("redis://10.0.0.5");

	assert_string_equal(u.host, "10.0.0.5");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_string_equal(u.password, "");
	assert_string_equal(u.path, "");
}

TEST(test_port_db_and_password_are_read)
{
	struct m365_redis_url u =
	    parse_ok("redis://:s3cret@cache.example:6380/2");

	assert_string_equal(u.host, "cache.example");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "s3cret");
}

TEST(test_acl_user_and_password_are_read)
{
	struct m365_redis_url u = parse_ok("redis://proxy:pw@h:1/0");

	assert_string_equal(u.user, "proxy");
	assert_string_equal(u.password, "pw");
	assert_string_equal(u.host, "h");
}

TEST(test_password_with_at_sign_splits_at_the_last_at)
{
	struct m365_redis_url u = parse_ok("redis://:p@ss@h");

	assert_string_equal(u.password, "p@ss");
	assert_string_equal(u.host, "h");
}

TEST(test_bracketed_ipv6_host_with_port)
{
	struct m365_redis_url u = parse_ok("redis://[::1]:7000/3");

	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 7000);
	assert_int_equal(u.db, 3);
}

TEST(test_unix_socket_with_db)
{
	struct m365_redis_url u = parse_ok("unix:///run/redis/redis.sock?db=4");

	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_int_equal(u.db, 4);
	assert_string_equal(u.host, "");
}

TEST(test_describe_never_shows_the_password)
{
	struct m365_redis_url u = parse_ok("redis://:s3cret@h:6380/1");
	char buf[300];

	m365_redis_url_describe(&u, buf, sizeof(buf));
	assert_string_equal(buf, "redis://h:6380/1");
	assert_null(strstr(buf, "s3cret"));
}

TEST(test_bad_urls_are_refused_naming_the_option)
{
	assert_refused("");
	assert_refused("http://h");
	assert_refused("redis://");
	assert_refused("redis://h:0");
	assert_refused("redis://h:65536");
	assert_refused("redis://h:abc");
	assert_refused("redis://h/x");
	assert_refused("redis://user@h");
	assert_refused("redis://[::1");
	assert_refused("unix://relative.sock");
	assert_refused("unix:///s?db=x");
	assert_refused("unix:///s?foo=1");
}

TEST(test_over_long_host_is_refused)
{
	char url[600] = "redis://";

	memset(url + 8, 'a', 400);
	url[408] = '\0';
	assert_refused(url);
}

TEST(test_version_names)
{
	assert_true(m365_version_valid("2025120100"));
	assert_true(m365_version_valid("local-466acf1a7c23"));
	assert_false(m365_version_valid(""));
	assert_false(m365_version_valid("a b"));
	assert_false(m365_version_valid("v:1"));
	assert_false(m365_version_valid("x\n"));
	assert_false(m365_version_valid(
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4"));
}

TEST(test_sha256_of_known_inputs)
{
	char hex[65];

	m365_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b"
	                         "934ca495991b7852b855");
	m365_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a39617"
	                         "7a9cb410ff61f20015ad");
}

TEST(test_user_and_password_are_percent_decoded)
{
	struct m365_redis_url u = parse_ok("redis://u%40x:p%3Ass%25@h:1/2");

	assert_string_equal(u.user, "u@x");
	assert_string_equal(u.password, "p:ss%");
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 1);
	assert_int_equal(u.db, 2);
	u = parse_ok("redis://:%2F%2f%20@h");
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "// ");
}

TEST(test_decoded_nul_is_refused_without_echoing_the_password)
{
	struct m365_redis_url u;
	struct m365_err err = {0};

	assert_refused("redis://:s3cr%00et@h");
	assert_refused("redis://us%00er:pw@h");
	assert_int_equal(
	    m365_redis_url_parse("redis://:s3cr%00et@h", &u, NULL, &err), -1);
	assert_null(strstr(err.msg, "s3cr"));
	assert_non_null(strstr(err.msg, "Redis URL"));
}

/* --- password files ------------------------------------------------- */

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/m365-test-auth.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/auth", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* Writes the auth file with mode; returns its path (static). */
static const char *
auth_file(const char *text, mode_t mode)
{
	static char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/auth", dir);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return p;
}

/* The URL's credentials once the file holding text is read. */
static struct m365_redis_url
auth_ok(const char *text)
{
	struct m365_redis_url u = parse_ok("redis://olduser:oldpw@h:6380/3");
	struct m365_err err = {0};

	if (m365_redis_auth_file(auth_file(text, 0600), &u, &err) != 0)
		fail_msg("\"%s\" refused: %s", text, err.msg);
	assert_string_equal(u.host, "h"); /* the rest is kept */
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 3);
	return u;
}

/* The file holding text (mode) must be refused naming it, with want in
 * the message and "hunter2" nowhere in it. */
static void
auth_refused(const char *text, mode_t mode, const char *want)
{
	struct m365_redis_url u = parse_ok("redis://h");
	struct m365_err err = {0};
	const char *p = auth_file(text, mode);

	if (m365_redis_auth_file(p, &u, &err) != -1)
		fail_msg("\"%s\" accepted", text);
	assert_int_equal(err.code, M365_E_INPUT);
	if (strncmp(err.msg, p, strlen(p)) != 0 ||
	    strstr(err.msg, want) == NULL)
		fail_msg("message \"%s\" lacks the path or \"%s\"", err.msg,
		         want);
	assert_null(strstr(err.msg, "hunter2"));
}

TEST(test_auth_file_with_password_only)
{
	struct m365_redis_url u = auth_ok("hunter2\n");

	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "hunter2");
	u = auth_ok("hunter2"); /* no final newline */
	assert_string_equal(u.password, "hunter2");
}

TEST(test_auth_file_with_user_and_password)
{
	struct m365_redis_url u = auth_ok("proxy hunter2\n");

	assert_string_equal(u.user, "proxy");
	assert_string_equal(u.password, "hunter2");
}

TEST(test_auth_file_skips_comments_and_blank_lines)
{
	struct m365_redis_url u = auth_ok("# Redis ACL user for the proxy\n"
	                                  "\n"
	                                  "   \n"
	                                  "  # indented comment\n"
	                                  "\tproxy \t hunter2 \r\n"
	                                  "# trailing comment\n"
	                                  "\n");

	assert_string_equal(u.user, "proxy");
	assert_string_equal(u.password, "hunter2");
}

TEST(test_auth_file_needs_exactly_one_credentials_line)
{
	auth_refused("hunter2\nother\n", 0600, "expected one line");
	auth_refused("proxy hunter2\n# c\nproxy2 pw2\n", 0600,
	             "expected one line");
	auth_refused("proxy hunter2 extra\n", 0600, "expected one line");
	auth_refused("", 0600, "expected one line");
	auth_refused("# only a comment\n\n", 0600, "expected one line");
}

TEST(test_auth_file_readable_by_others_is_refused)
{
	auth_refused("hunter2\n", 0644, "mode 600");
	auth_refused("hunter2\n", 0640, "mode 600");
	auth_ok("hunter2\n"); /* 0600 */
	{
		struct m365_redis_url u = parse_ok("redis://h");
		assert_int_equal(m365_redis_auth_file(
		                     auth_file("hunter2\n", 0400), &u, NULL),
		                 0);
		assert_string_equal(u.password, "hunter2");
	}
}

TEST(test_auth_file_that_is_a_fifo_is_refused_at_once)
{
	struct m365_redis_url u = parse_ok("redis://h");
	struct m365_err err = {0};
	char p[128];

	snprintf(p, sizeof(p), "%s/auth", dir);
	unlink(p);
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10); /* a blocking open() would hang: this kills it instead */
	assert_int_equal(m365_redis_auth_file(p, &u, &err), -1);
	alarm(0);
	assert_int_equal(err.code, M365_E_INPUT);
	assert_non_null(strstr(err.msg, "not a regular file"));
	unlink(p);
}

TEST(test_missing_auth_file_names_it)
{
	struct m365_redis_url u = parse_ok("redis://h");
	struct m365_err err = {0};

	assert_int_equal(
	    m365_redis_auth_file("/nonexistent/m365-auth", &u, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/m365-auth"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_alone_takes_default_port_and_db),
	    cmocka_unit_test(test_port_db_and_password_are_read),
	    cmocka_unit_test(test_acl_user_and_password_are_read),
	    cmocka_unit_test(test_password_with_at_sign_splits_at_the_last_at),
	    cmocka_unit_test(test_bracketed_ipv6_host_with_port),
	    cmocka_unit_test(test_unix_socket_with_db),
	    cmocka_unit_test(test_describe_never_shows_the_password),
	    cmocka_unit_test(test_bad_urls_are_refused_naming_the_option),
	    cmocka_unit_test(test_over_long_host_is_refused),
	    cmocka_unit_test(test_version_names),
	    cmocka_unit_test(test_sha256_of_known_inputs),
	    cmocka_unit_test(test_user_and_password_are_percent_decoded),
	    cmocka_unit_test(
	        test_decoded_nul_is_refused_without_echoing_the_password),
	    cmocka_unit_test(test_auth_file_with_password_only),
	    cmocka_unit_test(test_auth_file_with_user_and_password),
	    cmocka_unit_test(test_auth_file_skips_comments_and_blank_lines),
	    cmocka_unit_test(test_auth_file_needs_exactly_one_credentials_line),
	    cmocka_unit_test(test_auth_file_readable_by_others_is_refused),
	    cmocka_unit_test(test_auth_file_that_is_a_fifo_is_refused_at_once),
	    cmocka_unit_test(test_missing_auth_file_names_it),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
