/* tests/unit/test_icap_dest.c - dest_parse: an HTTP request's destination. */
#include <string.h>

#include "unit.h"

#include "dest.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* The headers array and its length, as dest_parse takes them. */
#define HDRS(...)                                                              \
	(const char *const[]){__VA_ARGS__},                                    \
	    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define NO_HDRS NULL, 0

/* Room for the long lines the length tests build. */
#define BIG 6000

/* Parses into a struct full of garbage, so unset fields show. */
static enum dest_status
parse(const char *line, const char *const *h, size_t n, struct dest *d)
{
	memset(d, 0x5a, sizeof(*d));
	d->why = "garbage";
	return dest_parse(line, h, n, d);
}

/* The request must parse to exactly this source, host and port. */
static void
expect_ok(const char *line, const char *const *h, size_t n,
          enum dest_source from, const char *host, const char *port)
{
	struct dest d;
	enum dest_status st = parse(line, h, n, &d);

	if (st != DEST_OK)
		fail_msg("\"%s\": status %d (%s)", line, (int)st, d.why);
	assert_int_equal(d.from, from);
	assert_string_equal(d.host, host);
	assert_string_equal(d.port, port);
	assert_null(d.why);
}

/* The request must fail with this status and reason, and empty output. */
static void
expect_fail(const char *line, const char *const *h, size_t n,
            enum dest_status want, const char *why)
{
	struct dest d;
	enum dest_status st = parse(line, h, n, &d);

	if (st != want)
		fail_msg("\"%s\": status %d, want %d (%s)",
		         line != NULL ? line : "(null)", (int)st, (int)want,
		         st == DEST_OK ? d.host : d.why);
	assert_int_equal(d.from, DEST_FROM_NONE);
	assert_string_equal(d.host, "");
	assert_string_equal(d.port, "");
	assert_non_null(d.why);
	assert_string_equal(d.why, why);
}

#define MALFORMED(line, why) expect_fail(line, NO_HDRS, DEST_MALFORMED, why)

/* pre, then n times c, then post, in buf[BIG]. */
static const char *
build(char *buf, const char *pre, char c, size_t n, const char *post)
{
	size_t lp = strlen(pre);

	assert_true(lp + n + strlen(post) < BIG);
	memcpy(buf, pre, lp);
	memset(buf + lp, c, n);
	strcpy(buf + lp + n, post);
	return buf;
}

TEST(test_absolute_http_url_defaults_to_port_80)
{
	expect_ok("GET http://teams.microsoft.com/x HTTP/1.1", NO_HDRS,
	          DEST_FROM_URL, "teams.microsoft.com", "80");
}

TEST(test_absolute_urls_default_to_their_schemes_ports)
{
	expect_ok("GET https://a.example/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "443");
	expect_ok("GET ftp://a.example/pub HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "21");
	expect_ok("GET ws://a.example/chat HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "80");
	expect_ok("GET wss://a.example/chat HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "443");
}

TEST(test_absolute_urls_with_explicit_ports_use_them)
{
	expect_ok("GET http://a.example:8080/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "8080");
	expect_ok("GET https://a.example:8443/x HTTP/1.1", NO_HDRS,
	          DEST_FROM_URL, "a.example", "8443");
	expect_ok("GET ftp://a.example:2121/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "2121");
	expect_ok("GET ws://a.example:81/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "81");
	expect_ok("GET wss://a.example:444/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "444");
	expect_ok("GET https://a.example:80/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "80");
}

TEST(test_url_authority_ends_at_slash_query_fragment_or_target_end)
{
	expect_ok("GET http://a.example HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "80");
	expect_ok("GET http://a.example:81 HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "81");
	expect_ok("GET http://a.example?q=1 HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "80");
	expect_ok("GET http://a.example:82#f HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "82");
	expect_ok("GET http://a.example/p@evil.example HTTP/1.1", NO_HDRS,
	          DEST_FROM_URL, "a.example", "80");
	expect_ok("GET http://a.example/x:1:2 HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "80");
}

TEST(test_uppercase_and_mixed_case_schemes_are_recognised)
{
	expect_ok("GET HTTP://A.example/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "A.example", "80");
	expect_ok("GET HtTpS://a.example/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "443");
	expect_ok("GET WSS://a.example/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "443");
	expect_ok("GET FTP://a.example/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "21");
}

TEST(test_url_empty_port_means_the_schemes_default)
{
	expect_ok("GET http://a.example:/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "80");
	expect_ok("GET https://a.example: HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "443");
	expect_ok("GET https://[::1]:/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "[::1]", "443");
}

TEST(test_leading_zeros_in_ports_are_dropped)
{
	expect_ok("GET http://a.example:0443/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "443");
	expect_ok("GET http://a.example:00001/ HTTP/1.1", NO_HDRS,
	          DEST_FROM_URL, "a.example", "1");
	expect_ok("CONNECT a.example:0443 HTTP/1.1", NO_HDRS, DEST_FROM_CONNECT,
	          "a.example", "443");
	expect_ok("GET / HTTP/1.1", HDRS("Host: a.example:080"), DEST_FROM_HOST,
	          "a.example", "80");
	MALFORMED("GET http://a.example:000443/ HTTP/1.1", "bad port");
}

TEST(test_unknown_scheme_needs_an_explicit_port)
{
	MALFORMED("GET gopher://a.example/ HTTP/1.1",
	          "unknown scheme without a port");
	MALFORMED("GET git://a.example:/x HTTP/1.1",
	          "unknown scheme without a port");
	MALFORMED("GET httpx://a.example/ HTTP/1.1",
	          "unknown scheme without a port");
	expect_ok("GET git://a.example:9418/x HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "9418");
	expect_ok("GET svn+ssh.v-2://a.example:22/ HTTP/1.1", NO_HDRS,
	          DEST_FROM_URL, "a.example", "22");
}

TEST(test_absolute_url_wins_over_a_disagreeing_host_header)
{
	expect_ok("GET http://teams.microsoft.com/ HTTP/1.1",
	          HDRS("Host: evil.example"), DEST_FROM_URL,
	          "teams.microsoft.com", "80");
	expect_ok("GET https://teams.microsoft.com/ HTTP/1.1",
	          HDRS("Host: evil.example:8080"), DEST_FROM_URL,
	          "teams.microsoft.com", "443");
}

TEST(test_absolute_url_wins_over_two_or_broken_host_headers)
{
	expect_ok("GET http://teams.microsoft.com/ HTTP/1.1",
	          HDRS("Host: a.example", "Accept: */*", "host: b.example"),
	          DEST_FROM_URL, "teams.microsoft.com", "80");
	expect_ok("GET http://teams.microsoft.com/ HTTP/1.1",
	          HDRS("Host : a@b", "Host:"), DEST_FROM_URL,
	          "teams.microsoft.com", "80");
}

TEST(test_absolute_url_with_ipv6_literal_keeps_the_brackets)
{
	expect_ok("GET http://[2603:1063::1]:8080/x HTTP/1.1", NO_HDRS,
	          DEST_FROM_URL, "[2603:1063::1]", "8080");
	expect_ok("GET https://[::1]/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "[::1]", "443");
}

TEST(test_connect_host_and_port)
{
	expect_ok("CONNECT teams.microsoft.com:443 HTTP/1.1", NO_HDRS,
	          DEST_FROM_CONNECT, "teams.microsoft.com", "443");
	expect_ok("CONNECT 52.112.0.1:3478 HTTP/1.0", NO_HDRS,
	          DEST_FROM_CONNECT, "52.112.0.1", "3478");
}

TEST(test_connect_ipv6_literal_with_port)
{
	expect_ok("CONNECT [2603:1063::1]:443 HTTP/1.1", NO_HDRS,
	          DEST_FROM_CONNECT, "[2603:1063::1]", "443");
}

TEST(test_connect_ignores_host_headers)
{
	expect_ok("CONNECT a.example:443 HTTP/1.1", HDRS("Host: b.example:80"),
	          DEST_FROM_CONNECT, "a.example", "443");
	expect_ok("CONNECT a.example:443 HTTP/1.1",
	          HDRS("Host: b.example", "Host: c.example"), DEST_FROM_CONNECT,
	          "a.example", "443");
}

TEST(test_connect_without_port_is_malformed)
{
	MALFORMED("CONNECT teams.microsoft.com HTTP/1.1",
	          "CONNECT without a port");
	MALFORMED("CONNECT [2603:1063::1] HTTP/1.1", "CONNECT without a port");
	expect_fail("CONNECT a.example HTTP/1.1", HDRS("Host: a.example:443"),
	            DEST_MALFORMED, "CONNECT without a port");
}

TEST(test_connect_with_empty_port_is_malformed)
{
	MALFORMED("CONNECT teams.microsoft.com: HTTP/1.1",
	          "CONNECT without a port");
	MALFORMED("CONNECT [2603:1063::1]: HTTP/1.1", "CONNECT without a port");
}

TEST(test_connect_with_url_or_path_is_malformed)
{
	MALFORMED("CONNECT https://teams.microsoft.com:443/ HTTP/1.1",
	          "CONNECT target is not host:port");
	MALFORMED("CONNECT https://teams.microsoft.com HTTP/1.1",
	          "CONNECT target is not host:port");
	MALFORMED("CONNECT teams.microsoft.com:443/x HTTP/1.1",
	          "CONNECT target is not host:port");
	MALFORMED("CONNECT a.example:443?x HTTP/1.1",
	          "CONNECT target is not host:port");
	MALFORMED("CONNECT /x HTTP/1.1", "CONNECT target is not host:port");
	MALFORMED("CONNECT * HTTP/1.1", "CONNECT without a port");
}

TEST(test_lowercase_connect_is_not_connect)
{
	MALFORMED("connect a.example:443 HTTP/1.1",
	          "request target is not a URL, a path or *");
	MALFORMED("Connect a.example:443 HTTP/1.1",
	          "request target is not a URL, a path or *");
}

TEST(test_origin_form_takes_host_header_with_or_without_port)
{
	expect_ok("GET /x HTTP/1.1", HDRS("Host: teams.microsoft.com"),
	          DEST_FROM_HOST, "teams.microsoft.com", "80");
	expect_ok("POST /x?y HTTP/1.1",
	          HDRS("Accept: */*", "Host: a.example:8080", "X: y"),
	          DEST_FROM_HOST, "a.example", "8080");
	expect_ok("GET / HTTP/1.1", HDRS("Host: [2603:1063::1]:8443"),
	          DEST_FROM_HOST, "[2603:1063::1]", "8443");
	expect_ok("GET / HTTP/1.1", HDRS("Host: [::1]"), DEST_FROM_HOST,
	          "[::1]", "80");
	expect_ok("GET //a.example/x HTTP/1.1", HDRS("Host: b.example"),
	          DEST_FROM_HOST, "b.example", "80");
}

TEST(test_host_header_optional_whitespace_is_trimmed)
{
	expect_ok("GET / HTTP/1.1", HDRS("Host:a.example"), DEST_FROM_HOST,
	          "a.example", "80");
	expect_ok("GET / HTTP/1.1", HDRS("Host: \t a.example \t "),
	          DEST_FROM_HOST, "a.example", "80");
	expect_ok("GET / HTTP/1.1", HDRS("Host:\ta.example:81\t"),
	          DEST_FROM_HOST, "a.example", "81");
}

TEST(test_host_header_name_is_case_insensitive)
{
	expect_ok("GET / HTTP/1.1", HDRS("host: a.example"), DEST_FROM_HOST,
	          "a.example", "80");
	expect_ok("GET / HTTP/1.1", HDRS("HOST: a.example"), DEST_FROM_HOST,
	          "a.example", "80");
	expect_ok("GET / HTTP/1.1", HDRS("hOsT: a.example"), DEST_FROM_HOST,
	          "a.example", "80");
}

TEST(test_host_header_empty_port_means_80)
{
	expect_ok("GET / HTTP/1.1", HDRS("Host: a.example:"), DEST_FROM_HOST,
	          "a.example", "80");
	expect_ok("GET / HTTP/1.1", HDRS("Host: [::1]:"), DEST_FROM_HOST,
	          "[::1]", "80");
}

TEST(test_asterisk_form_takes_host_header)
{
	expect_ok("OPTIONS * HTTP/1.1", HDRS("Host: a.example:8080"),
	          DEST_FROM_HOST, "a.example", "8080");
	expect_fail("OPTIONS * HTTP/1.1", NO_HDRS, DEST_MISSING,
	            "no Host header");
}

TEST(test_no_host_header_is_missing)
{
	expect_fail("GET / HTTP/1.1", NO_HDRS, DEST_MISSING, "no Host header");
	expect_fail("GET / HTTP/1.1", HDRS("Accept: */*", "X-Y: z"),
	            DEST_MISSING, "no Host header");
}

TEST(test_empty_host_header_is_missing)
{
	expect_fail("GET / HTTP/1.1", HDRS("Host:"), DEST_MISSING,
	            "empty Host header");
	expect_fail("GET / HTTP/1.1", HDRS("Host: "), DEST_MISSING,
	            "empty Host header");
	expect_fail("GET / HTTP/1.1", HDRS("Host: \t  "), DEST_MISSING,
	            "empty Host header");
}

TEST(test_two_host_headers_are_malformed)
{
	expect_fail("GET / HTTP/1.1",
	            HDRS("Host: a.example", "Host: b.example"), DEST_MALFORMED,
	            "two Host headers");
	expect_fail("GET / HTTP/1.1",
	            HDRS("Host: a.example", "host: a.example"), DEST_MALFORMED,
	            "two Host headers");
	expect_fail("GET / HTTP/1.1", HDRS("Host:", "Host: a.example"),
	            DEST_MALFORMED, "two Host headers");
	expect_fail("OPTIONS * HTTP/1.1",
	            HDRS("HOST: a.example", "X: y", "Host: a.example", "Z: w"),
	            DEST_MALFORMED, "two Host headers");
}

TEST(test_headers_that_merely_start_with_host_are_not_host_headers)
{
	expect_fail("GET / HTTP/1.1",
	            HDRS("Hostname: x.example", "X-Host: y.example",
	                 "Host-Override: z.example", "Host", "Hos", ""),
	            DEST_MISSING, "no Host header");
	expect_ok(
	    "GET / HTTP/1.1",
	    HDRS("Hostname: x.example", "Host: a.example", "X-Host: y.example"),
	    DEST_FROM_HOST, "a.example", "80");
}

TEST(test_space_before_colon_in_host_header_is_malformed)
{
	expect_fail("GET / HTTP/1.1", HDRS("Host : a.example"), DEST_MALFORMED,
	            "space before colon in Host header");
	expect_fail("GET / HTTP/1.1", HDRS("Host\t: a.example"), DEST_MALFORMED,
	            "space before colon in Host header");
}

TEST(test_folded_host_header_is_malformed)
{
	expect_fail("GET / HTTP/1.1", HDRS("Host: a.example\r\n b.example"),
	            DEST_MALFORMED, "forbidden character in host");
	expect_fail("GET / HTTP/1.1", HDRS("Host:\r\n a.example"),
	            DEST_MALFORMED, "forbidden character in host");
	expect_fail("GET / HTTP/1.1", HDRS("Host: a.example:80\r\n 81"),
	            DEST_MALFORMED, "bad port");
}

TEST(test_null_header_entries_are_skipped)
{
	expect_ok("GET / HTTP/1.1", HDRS(NULL, "Host: a.example", NULL),
	          DEST_FROM_HOST, "a.example", "80");
	expect_fail("GET / HTTP/1.1", HDRS(NULL), DEST_MISSING,
	            "no Host header");
	expect_fail("GET / HTTP/1.1", NULL, 3, DEST_MISSING, "no Host header");
}

TEST(test_userinfo_is_malformed_in_every_source)
{
	MALFORMED("GET http://teams.microsoft.com@evil.example/ HTTP/1.1",
	          "userinfo in authority");
	MALFORMED("GET http://user:pass@a.example/ HTTP/1.1",
	          "userinfo in authority");
	MALFORMED("GET http://@a.example/ HTTP/1.1", "userinfo in authority");
	MALFORMED("CONNECT teams.microsoft.com@evil.example:443 HTTP/1.1",
	          "userinfo in authority");
	expect_fail("GET / HTTP/1.1",
	            HDRS("Host: teams.microsoft.com@evil.example"),
	            DEST_MALFORMED, "userinfo in authority");
	expect_fail("GET / HTTP/1.1", HDRS("Host: [::1]@evil.example"),
	            DEST_MALFORMED, "userinfo in authority");
}

TEST(test_unbracketed_ipv6_is_malformed)
{
	MALFORMED("CONNECT 2603:1063::1:443 HTTP/1.1",
	          "unbracketed IPv6 literal");
	MALFORMED("GET http://2603:1063::1/ HTTP/1.1",
	          "unbracketed IPv6 literal");
	expect_fail("GET / HTTP/1.1", HDRS("Host: ::1"), DEST_MALFORMED,
	            "unbracketed IPv6 literal");
	expect_fail("GET / HTTP/1.1", HDRS("Host: a.example:80:81"),
	            DEST_MALFORMED, "unbracketed IPv6 literal");
}

TEST(test_unclosed_bracket_is_malformed)
{
	MALFORMED("CONNECT [2603:1063::1:443 HTTP/1.1",
	          "unclosed IPv6 bracket");
	MALFORMED("GET http://[::1/x] HTTP/1.1", "unclosed IPv6 bracket");
	expect_fail("GET / HTTP/1.1", HDRS("Host: [::1"), DEST_MALFORMED,
	            "unclosed IPv6 bracket");
}

TEST(test_bracketed_name_keeps_its_brackets_for_the_normaliser)
{
	/* the core refuses brackets around anything but an IPv6 literal, as
	 * the helper does: dest must not take them off a name */
	expect_ok("CONNECT [teams.microsoft.com]:443 HTTP/1.1", NO_HDRS,
	          DEST_FROM_CONNECT, "[teams.microsoft.com]", "443");
	expect_ok("GET / HTTP/1.1", HDRS("Host: [52.112.0.1]"), DEST_FROM_HOST,
	          "[52.112.0.1]", "80");
}

TEST(test_empty_brackets_are_malformed)
{
	MALFORMED("CONNECT []:443 HTTP/1.1", "empty IPv6 brackets");
	MALFORMED("GET http://[]/ HTTP/1.1", "empty IPv6 brackets");
	expect_fail("GET / HTTP/1.1", HDRS("Host: []"), DEST_MALFORMED,
	            "empty IPv6 brackets");
}

TEST(test_anything_but_a_port_after_the_bracket_is_malformed)
{
	MALFORMED("CONNECT [::1]443 HTTP/1.1", "junk after IPv6 literal");
	MALFORMED("CONNECT [::1]x:443 HTTP/1.1", "junk after IPv6 literal");
	MALFORMED("GET http://[::1]]/ HTTP/1.1", "junk after IPv6 literal");
	expect_fail("GET / HTTP/1.1", HDRS("Host: [::1] :80"), DEST_MALFORMED,
	            "junk after IPv6 literal");
}

TEST(test_bad_ports_are_malformed)
{
	MALFORMED("CONNECT a.example:0 HTTP/1.1", "bad port");
	MALFORMED("CONNECT a.example:00000 HTTP/1.1", "bad port");
	MALFORMED("CONNECT a.example:65536 HTTP/1.1", "bad port");
	MALFORMED("CONNECT a.example:99999 HTTP/1.1", "bad port");
	MALFORMED("CONNECT a.example:123456 HTTP/1.1", "bad port");
	MALFORMED("CONNECT a.example:+80 HTTP/1.1", "bad port");
	MALFORMED("CONNECT a.example:-1 HTTP/1.1", "bad port");
	MALFORMED("CONNECT a.example:8a HTTP/1.1", "bad port");
	MALFORMED("CONNECT a.example:0x50 HTTP/1.1", "bad port");
	MALFORMED("GET http://a.example:65536/ HTTP/1.1", "bad port");
	MALFORMED("GET http://a.example:8a/ HTTP/1.1", "bad port");
	expect_fail("GET / HTTP/1.1", HDRS("Host: a.example: 80"),
	            DEST_MALFORMED, "bad port");
	expect_fail("GET / HTTP/1.1", HDRS("Host: a.example:0"), DEST_MALFORMED,
	            "bad port");
	expect_fail("GET / HTTP/1.1", HDRS("Host: a.example:80 81"),
	            DEST_MALFORMED, "bad port");
}

TEST(test_extreme_ports_1_and_65535_are_valid)
{
	expect_ok("CONNECT a.example:1 HTTP/1.1", NO_HDRS, DEST_FROM_CONNECT,
	          "a.example", "1");
	expect_ok("CONNECT a.example:65535 HTTP/1.1", NO_HDRS,
	          DEST_FROM_CONNECT, "a.example", "65535");
}

TEST(test_empty_host_is_malformed)
{
	MALFORMED("GET http:///x HTTP/1.1", "empty host");
	MALFORMED("GET http://:80/x HTTP/1.1", "empty host");
	MALFORMED("GET http://?x HTTP/1.1", "empty host");
	MALFORMED("CONNECT :443 HTTP/1.1", "empty host");
	expect_fail("GET / HTTP/1.1", HDRS("Host: :80"), DEST_MALFORMED,
	            "empty host");
}

TEST(test_forbidden_characters_in_host_are_malformed)
{
	static const char *const bad[] = {
	    "Host: a b",  "Host: a\tb",  "Host: a\x01z", "Host: a\x7fz",
	    "Host: a/b",  "Host: a?b",   "Host: a#b",    "Host: a\rb",
	    "Host: a\nb", "Host: [a b]", "Host: [a/b]",  "Host: [a\x1f]:80",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_fail("GET / HTTP/1.1", &bad[i], 1, DEST_MALFORMED,
		            "forbidden character in host");
}

TEST(test_host_of_1024_bytes_is_accepted_and_1025_refused)
{
	char line[BIG], hdr[BIG], want[BIG];

	build(want, "", 'a', 1024, "");
	expect_ok(build(line, "GET http://", 'a', 1024, "/ HTTP/1.1"), NO_HDRS,
	          DEST_FROM_URL, want, "80");
	expect_ok(build(line, "CONNECT ", 'a', 1024, ":443 HTTP/1.1"), NO_HDRS,
	          DEST_FROM_CONNECT, want, "443");
	/* the brackets count: they stay in the host */
	build(want, "[", 'a', 1022, "]");
	expect_ok(build(line, "CONNECT [", 'a', 1022, "]:443 HTTP/1.1"),
	          NO_HDRS, DEST_FROM_CONNECT, want, "443");
	build(want, "", 'a', 1024, "");
	build(hdr, "Host: ", 'a', 1024, ":8080");
	expect_ok("GET / HTTP/1.1", HDRS(hdr), DEST_FROM_HOST, want, "8080");

	MALFORMED(build(line, "GET http://", 'a', 1025, "/ HTTP/1.1"),
	          "host longer than 1024 bytes");
	MALFORMED(build(line, "CONNECT ", 'a', 1025, ":443 HTTP/1.1"),
	          "host longer than 1024 bytes");
	MALFORMED(build(line, "CONNECT [", 'a', 1023, "]:443 HTTP/1.1"),
	          "host longer than 1024 bytes");
	build(hdr, "Host: ", 'a', 1025, "");
	expect_fail("GET / HTTP/1.1", HDRS(hdr), DEST_MALFORMED,
	            "host longer than 1024 bytes");
}

TEST(test_5000_byte_host_header_is_malformed)
{
	char hdr[BIG];

	build(hdr, "Host: ", 'a', 5000, "");
	expect_fail("GET / HTTP/1.1", HDRS(hdr), DEST_MALFORMED,
	            "host longer than 1024 bytes");
	build(hdr, "Host: ", 'a', 5000, ":443");
	expect_fail("OPTIONS * HTTP/1.1", HDRS(hdr), DEST_MALFORMED,
	            "host longer than 1024 bytes");
}

TEST(test_5000_byte_url_host_is_malformed)
{
	char line[BIG];

	MALFORMED(build(line, "GET https://", 'a', 5000, ":443/x HTTP/1.1"),
	          "host longer than 1024 bytes");
	MALFORMED(build(line, "CONNECT ", 'a', 5000, ":443 HTTP/1.1"),
	          "host longer than 1024 bytes");
}

TEST(test_control_characters_in_request_line_are_malformed)
{
	static const char *const bad[] = {
	    "GET http://a.example/ HTTP/1.1\r\n",
	    "GET http://a.example/ HTTP/1.1\n",
	    "GET\thttp://a.example/ HTTP/1.1",
	    "G\x01T http://a.example/ HTTP/1.1",
	    "GET http://a.example/ HTTP\x7f/1.1",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		MALFORMED(bad[i], "control character in request line");
	/* in the authority: not a host */
	MALFORMED("GET http://a\x01.example/ HTTP/1.1",
	          "forbidden character in host");
	MALFORMED("CONNECT a.example:443\x1b HTTP/1.1", "bad port");
}

TEST(test_the_path_does_not_decide_the_destination)
{
	/* only where the target ends is looked for in the path */
	expect_ok("GET http://a.example/\r HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "80");
	expect_ok("GET http://a.example/\x7f?\x01 HTTP/1.1", NO_HDRS,
	          DEST_FROM_URL, "a.example", "80");
}

TEST(test_request_line_with_missing_parts_is_malformed)
{
	MALFORMED("", "bad method or no request target");
	MALFORMED("GET", "bad method or no request target");
	MALFORMED(" /x HTTP/1.1", "bad method or no request target");
	MALFORMED("GET ", "empty request target");
	MALFORMED("GET  HTTP/1.1", "empty request target");
	MALFORMED("GET http://a.example/", "request line without a version");
	MALFORMED("GET http://a.example/ ", "bad HTTP version");
	MALFORMED("GET http://a.example/ FTP/1.0", "bad HTTP version");
	MALFORMED("GET http://a.example/ http/1.1", "bad HTTP version");
}

TEST(test_request_line_with_an_extra_space_is_malformed)
{
	MALFORMED("GET http://a.example/  HTTP/1.1",
	          "extra space in request line");
	MALFORMED("GET http://a.example/ HTTP/1.1 ",
	          "extra space in request line");
	MALFORMED("GET http://a.example/ x HTTP/1.1",
	          "extra space in request line");
	MALFORMED("CONNECT a.example :443 HTTP/1.1",
	          "extra space in request line");
	expect_fail("GET /a b HTTP/1.1", HDRS("Host: a.example"),
	            DEST_MALFORMED, "extra space in request line");
}

TEST(test_lowercase_and_long_methods_are_tokens)
{
	expect_ok("get http://a.example/ HTTP/1.1", NO_HDRS, DEST_FROM_URL,
	          "a.example", "80");
	expect_ok("PROPFIND / HTTP/1.1", HDRS("Host: a.example"),
	          DEST_FROM_HOST, "a.example", "80");
	expect_ok("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef / HTTP/1.1",
	          HDRS("Host: a.example"), DEST_FROM_HOST, "a.example", "80");
}

TEST(test_odd_methods_are_malformed)
{
	MALFORMED("G3T http://a.example/ HTTP/1.1",
	          "bad method or no request target");
	MALFORMED("M-SEARCH * HTTP/1.1", "bad method or no request target");
	MALFORMED("GET/ http://a.example/ HTTP/1.1",
	          "bad method or no request target");
	MALFORMED("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg / HTTP/1.1",
	          "bad method or no request target");
	MALFORMED("G\xc3\x89T / HTTP/1.1", "bad method or no request target");
}

TEST(test_targets_that_are_neither_url_path_nor_asterisk_are_malformed)
{
	static const char *const bad[] = {
	    "GET urn:x HTTP/1.1",
	    "GET teams.microsoft.com HTTP/1.1",
	    "GET teams.microsoft.com:443 HTTP/1.1",
	    "GET http:/a.example/ HTTP/1.1",
	    "GET http:a.example HTTP/1.1",
	    "GET http HTTP/1.1",
	    "GET 1http://a.example/ HTTP/1.1",
	    "GET +http://a.example/ HTTP/1.1",
	    "GET ://a.example/ HTTP/1.1",
	    "OPTIONS ** HTTP/1.1",
	    "OPTIONS *x HTTP/1.1",
	    "GET ?x HTTP/1.1",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_fail(bad[i], HDRS("Host: a.example"), DEST_MALFORMED,
		            "request target is not a URL, a path or *");
}

TEST(test_null_request_line_is_missing)
{
	expect_fail(NULL, NO_HDRS, DEST_MISSING, "no request line");
	expect_fail(NULL, HDRS("Host: a.example"), DEST_MISSING,
	            "no request line");
}

TEST(test_failure_after_success_clears_the_output)
{
	struct dest d;

	assert_int_equal(
	    dest_parse("CONNECT a.example:443 HTTP/1.1", NULL, 0, &d), DEST_OK);
	assert_int_equal(
	    dest_parse("CONNECT a.example:0 HTTP/1.1", NULL, 0, &d),
	    DEST_MALFORMED);
	assert_int_equal(d.from, DEST_FROM_NONE);
	assert_string_equal(d.host, "");
	assert_string_equal(d.port, "");
	assert_string_equal(d.why, "bad port");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_absolute_http_url_defaults_to_port_80),
	    cmocka_unit_test(test_absolute_urls_default_to_their_schemes_ports),
	    cmocka_unit_test(test_absolute_urls_with_explicit_ports_use_them),
	    cmocka_unit_test(
	        test_url_authority_ends_at_slash_query_fragment_or_target_end),
	    cmocka_unit_test(
	        test_uppercase_and_mixed_case_schemes_are_recognised),
	    cmocka_unit_test(test_url_empty_port_means_the_schemes_default),
	    cmocka_unit_test(test_leading_zeros_in_ports_are_dropped),
	    cmocka_unit_test(test_unknown_scheme_needs_an_explicit_port),
	    cmocka_unit_test(
	        test_absolute_url_wins_over_a_disagreeing_host_header),
	    cmocka_unit_test(
	        test_absolute_url_wins_over_two_or_broken_host_headers),
	    cmocka_unit_test(
	        test_absolute_url_with_ipv6_literal_keeps_the_brackets),
	    cmocka_unit_test(test_connect_host_and_port),
	    cmocka_unit_test(test_connect_ipv6_literal_with_port),
	    cmocka_unit_test(test_connect_ignores_host_headers),
	    cmocka_unit_test(test_connect_without_port_is_malformed),
	    cmocka_unit_test(test_connect_with_empty_port_is_malformed),
	    cmocka_unit_test(test_connect_with_url_or_path_is_malformed),
	    cmocka_unit_test(test_lowercase_connect_is_not_connect),
	    cmocka_unit_test(
	        test_origin_form_takes_host_header_with_or_without_port),
	    cmocka_unit_test(test_host_header_optional_whitespace_is_trimmed),
	    cmocka_unit_test(test_host_header_name_is_case_insensitive),
	    cmocka_unit_test(test_host_header_empty_port_means_80),
	    cmocka_unit_test(test_asterisk_form_takes_host_header),
	    cmocka_unit_test(test_no_host_header_is_missing),
	    cmocka_unit_test(test_empty_host_header_is_missing),
	    cmocka_unit_test(test_two_host_headers_are_malformed),
	    cmocka_unit_test(
	        test_headers_that_merely_start_with_host_are_not_host_headers),
	    cmocka_unit_test(
	        test_space_before_colon_in_host_header_is_malformed),
	    cmocka_unit_test(test_folded_host_header_is_malformed),
	    cmocka_unit_test(test_null_header_entries_are_skipped),
	    cmocka_unit_test(test_userinfo_is_malformed_in_every_source),
	    cmocka_unit_test(test_unbracketed_ipv6_is_malformed),
	    cmocka_unit_test(test_unclosed_bracket_is_malformed),
	    cmocka_unit_test(
	        test_bracketed_name_keeps_its_brackets_for_the_normaliser),
	    cmocka_unit_test(test_empty_brackets_are_malformed),
	    cmocka_unit_test(
	        test_anything_but_a_port_after_the_bracket_is_malformed),
	    cmocka_unit_test(test_bad_ports_are_malformed),
	    cmocka_unit_test(test_extreme_ports_1_and_65535_are_valid),
	    cmocka_unit_test(test_empty_host_is_malformed),
	    cmocka_unit_test(test_forbidden_characters_in_host_are_malformed),
	    cmocka_unit_test(
	        test_host_of_1024_bytes_is_accepted_and_1025_refused),
	    cmocka_unit_test(test_5000_byte_host_header_is_malformed),
	    cmocka_unit_test(test_5000_byte_url_host_is_malformed),
	    cmocka_unit_test(
	        test_control_characters_in_request_line_are_malformed),
	    cmocka_unit_test(test_the_path_does_not_decide_the_destination),
	    cmocka_unit_test(test_request_line_with_missing_parts_is_malformed),
	    cmocka_unit_test(
	        test_request_line_with_an_extra_space_is_malformed),
	    cmocka_unit_test(test_lowercase_and_long_methods_are_tokens),
	    cmocka_unit_test(test_odd_methods_are_malformed),
	    cmocka_unit_test(
	        test_targets_that_are_neither_url_path_nor_asterisk_are_malformed),
	    cmocka_unit_test(test_null_request_line_is_missing),
	    cmocka_unit_test(test_failure_after_success_clears_the_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
