/* tests/unit/test_redis_url.c - Redis URLs, version names and checksums:
 * the parts of the Redis store that take no server. */
#include <string.h>

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
