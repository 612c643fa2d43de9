/* tests/unit/test_host.c - m365_host_normalize (contract.md, "Normalising a
 * host"), one test per step. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "host_impl.h"
#include "unit.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* Normalises the NUL-terminated s and returns the kind. */
static enum m365_host_kind
norm(const char *s, struct m365_host *h)
{
	return m365_host_normalize(s, strlen(s), h);
}

static void
assert_name(const char *in, const char *want)
{
	struct m365_host h;

	if (norm(in, &h) != M365_HOST_NAME)
		fail_msg("\"%s\": kind %d, expected hostname", in, (int)h.kind);
	assert_int_equal(h.kind, M365_HOST_NAME);
	assert_string_equal(h.name, want);
	assert_int_equal(h.len, strlen(want));
}

static void
assert_kind(const char *in, enum m365_host_kind want)
{
	struct m365_host h;
	enum m365_host_kind got = norm(in, &h);

	if (got != want)
		fail_msg("\"%s\": kind %d, expected %d", in, (int)got,
		         (int)want);
	assert_int_equal(h.kind, want);
}

/* A string of n copies of c (caller frees). */
static char *
repeat(char c, size_t n)
{
	char *s = test_malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

TEST(test_plain_hostname_is_a_name)
{
	assert_name("teams.microsoft.com", "teams.microsoft.com");
	assert_name("localhost", "localhost");
}

TEST(test_percent_encoded_dots_are_decoded)
{
	assert_name("teams%2emicrosoft%2ecom", "teams.microsoft.com");
	assert_name("teams%2Emicrosoft%2Ecom", "teams.microsoft.com");
	assert_name("%74eams.microsoft.com", "teams.microsoft.com");
}

TEST(test_percent_decoding_happens_once)
{
	/* "%252e" decodes to "%2e", which is not a hostname character */
	assert_kind("teams%252emicrosoft.com", M365_HOST_INVALID);
}

TEST(test_bad_percent_escape_is_invalid)
{
	assert_kind("teams%zzmicrosoft.com", M365_HOST_INVALID);
	assert_kind("teams.microsoft.com%", M365_HOST_INVALID);
	assert_kind("teams.microsoft.com%2", M365_HOST_INVALID);
}

TEST(test_percent_encoded_nul_is_invalid)
{
	assert_kind("teams.microsoft.com%00", M365_HOST_INVALID);
	assert_kind("teams%00.microsoft.com", M365_HOST_INVALID);
}

TEST(test_long_percent_encoded_input_is_measured_after_decoding)
{
	/* 363 bytes of escapes decode to a valid 121-character name */
	char in[512], want[128];
	size_t i, o = 0;

	for (i = 0; i < 60; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "%%61");
	o += (size_t)snprintf(in + o, sizeof(in) - o, "%%2e");
	for (i = 0; i < 60; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "%%62");
	memset(want, 'a', 60);
	want[60] = '.';
	memset(want + 61, 'b', 60);
	want[121] = '\0';
	assert_true(strlen(in) > M365_HOST_MAX);
	assert_name(in, want);
}

TEST(test_dash_and_empty_are_none)
{
	struct m365_host h;

	assert_kind("-", M365_HOST_NONE);
	assert_kind("", M365_HOST_NONE);
	assert_int_equal(m365_host_normalize("teams", 0, &h), M365_HOST_NONE);
	assert_int_equal(m365_host_normalize("-x", 1, &h), M365_HOST_NONE);
	/* step 1 comes before step 2 */
	assert_kind("%2d", M365_HOST_NONE);
}

TEST(test_double_dash_is_a_name_not_none)
{
	assert_name("--", "--");
}

TEST(test_brackets_around_ipv6_are_stripped)
{
	struct m365_host h;
	static const uint8_t want[16] = {0x26, 0x03, 0x10, 0x63, 0, 0, 0, 0,
	                                 0,    0,    0,    0,    0, 0, 0, 1};

	assert_int_equal(norm("[2603:1063::1]", &h), M365_HOST_IPV6);
	assert_string_equal(h.name, "2603:1063::1");
	assert_memory_equal(h.addr, want, 16);
	assert_int_equal(norm("%5b2603:1063::1%5d", &h), M365_HOST_IPV6);
	assert_memory_equal(h.addr, want, 16);
}

TEST(test_only_one_pair_of_brackets_is_stripped)
{
	assert_kind("[[2603:1063::1]]", M365_HOST_INVALID);
	assert_kind("[2603:1063::1", M365_HOST_INVALID);
	assert_kind("2603:1063::1]", M365_HOST_INVALID);
	assert_kind("[]", M365_HOST_INVALID);
}

TEST(test_uppercase_is_lowercased)
{
	struct m365_host h;

	assert_name("Teams.Microsoft.COM", "teams.microsoft.com");
	assert_name("OUTLOOK.OFFICE365.COM", "outlook.office365.com");
	assert_int_equal(norm("2603:1063::ABCD", &h), M365_HOST_IPV6);
	assert_string_equal(h.name, "2603:1063::abcd");
}

TEST(test_one_trailing_dot_is_removed)
{
	struct m365_host h;

	assert_name("teams.microsoft.com.", "teams.microsoft.com");
	assert_name("teams.microsoft.com%2e", "teams.microsoft.com");
	assert_int_equal(norm("52.112.0.1.", &h), M365_HOST_IPV4);
	assert_string_equal(h.name, "52.112.0.1");
}

TEST(test_two_trailing_dots_are_invalid)
{
	assert_kind("teams.microsoft.com..", M365_HOST_INVALID);
	assert_kind(".", M365_HOST_INVALID);
	assert_kind("..", M365_HOST_INVALID);
}

TEST(test_ipv4_literal_fills_addr)
{
	struct m365_host h;
	static const uint8_t want[4] = {52, 112, 0, 1};

	assert_int_equal(norm("52.112.0.1", &h), M365_HOST_IPV4);
	assert_string_equal(h.name, "52.112.0.1");
	assert_int_equal(h.len, strlen("52.112.0.1"));
	assert_memory_equal(h.addr, want, 4);
	assert_kind("0.0.0.0", M365_HOST_IPV4);
	assert_kind("255.255.255.255", M365_HOST_IPV4);
}

TEST(test_ipv6_literal_fills_addr)
{
	struct m365_host h;
	static const uint8_t loop[16] = {0, 0, 0, 0, 0, 0, 0, 0,
	                                 0, 0, 0, 0, 0, 0, 0, 1};

	assert_int_equal(norm("::1", &h), M365_HOST_IPV6);
	assert_memory_equal(h.addr, loop, 16);
	assert_string_equal(h.name, "::1");
	assert_kind("::", M365_HOST_IPV6);
	assert_kind("2620:1ec:4::152", M365_HOST_IPV6);
}

TEST(test_ipv4_mapped_ipv6_is_the_ipv4_address)
{
	struct m365_host h;
	static const uint8_t want[4] = {52, 112, 0, 1};

	assert_int_equal(norm("::ffff:52.112.0.1", &h), M365_HOST_IPV4);
	assert_memory_equal(h.addr, want, 4);
	assert_string_equal(h.name, "52.112.0.1");
	assert_int_equal(norm("[::FFFF:52.112.0.1]", &h), M365_HOST_IPV4);
	assert_memory_equal(h.addr, want, 4);
	assert_int_equal(norm("::ffff:3470:1", &h), M365_HOST_IPV4);
	assert_memory_equal(h.addr, want, 4);
}

TEST(test_octal_and_decimal_ipv4_spellings_are_names_not_ips)
{
	assert_name("052.112.0.1", "052.112.0.1");
	assert_name("885014528", "885014528");
	assert_name("0x34.0x70.0.1", "0x34.0x70.0.1");
	assert_name("52.112.1", "52.112.1");
	assert_name("256.1.1.1", "256.1.1.1");
}

TEST(test_ipv6_zone_id_is_invalid)
{
	assert_kind("fe80::1%25eth0", M365_HOST_INVALID);
}

TEST(test_label_of_63_chars_is_valid_and_64_invalid)
{
	char *l63 = repeat('a', 63), *l64 = repeat('a', 64);
	char buf[200];

	snprintf(buf, sizeof(buf), "%s.example.com", l63);
	assert_name(buf, buf);
	snprintf(buf, sizeof(buf), "%s.example.com", l64);
	assert_kind(buf, M365_HOST_INVALID);
	snprintf(buf, sizeof(buf), "www.%s", l64);
	assert_kind(buf, M365_HOST_INVALID);
	test_free(l63);
	test_free(l64);
}

/* A name of exactly n characters: labels of 49 'a' and a final label. */
static void
make_name(char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (i % 50 == 49) ? '.' : 'a';
	if (buf[n - 1] == '.')
		buf[n - 1] = 'b';
	buf[n] = '\0';
}

TEST(test_name_of_253_chars_is_valid_and_254_invalid)
{
	char buf[300];

	make_name(buf, 253);
	assert_int_equal(strlen(buf), 253);
	assert_name(buf, buf);
	make_name(buf, 254);
	assert_kind(buf, M365_HOST_INVALID);
}

TEST(test_name_of_253_chars_with_trailing_dot_is_valid)
{
	char buf[300], want[260];

	make_name(want, 253);
	snprintf(buf, sizeof(buf), "%s.", want);
	assert_name(buf, want);
}

TEST(test_very_long_input_is_invalid)
{
	char *s = repeat('a', 10000);
	size_t i;

	for (i = 50; i < 10000; i += 50)
		s[i] = '.';
	assert_kind(s, M365_HOST_INVALID);
	test_free(s);
}

TEST(test_empty_labels_are_invalid)
{
	assert_kind("teams..microsoft.com", M365_HOST_INVALID);
	assert_kind(".teams.microsoft.com", M365_HOST_INVALID);
}

TEST(test_spaces_are_invalid)
{
	assert_kind("teams microsoft.com", M365_HOST_INVALID);
	assert_kind(" teams.microsoft.com", M365_HOST_INVALID);
	assert_kind("teams.microsoft.com ", M365_HOST_INVALID);
	assert_kind("teams%20.microsoft.com", M365_HOST_INVALID);
	assert_kind("teams.microsoft.com\t", M365_HOST_INVALID);
}

TEST(test_nul_inside_is_invalid)
{
	static const char in[] = "teams\0.microsoft.com";
	struct m365_host h;

	assert_int_equal(m365_host_normalize(in, sizeof(in) - 1, &h),
	                 M365_HOST_INVALID);
	assert_int_equal(m365_host_normalize("a\0", 2, &h), M365_HOST_INVALID);
}

TEST(test_length_argument_bounds_the_input)
{
	struct m365_host h;

	/* not NUL-terminated at len: only the first 19 bytes count */
	assert_int_equal(m365_host_normalize("teams.microsoft.comXYZ", 19, &h),
	                 M365_HOST_NAME);
	assert_string_equal(h.name, "teams.microsoft.com");
	assert_int_equal(m365_host_normalize("52.112.0.1999", 10, &h),
	                 M365_HOST_IPV4);
	assert_string_equal(h.name, "52.112.0.1");
}

TEST(test_non_ascii_bytes_are_invalid)
{
	assert_kind("t\xc3\xa9\x61ms.microsoft.com", M365_HOST_INVALID);
	assert_kind("teams.microsoft.com\xff", M365_HOST_INVALID);
	assert_kind("teams.microsoft.com%ff", M365_HOST_INVALID);
	assert_kind("\x80", M365_HOST_INVALID);
}

TEST(test_underscore_and_hyphen_are_allowed)
{
	assert_name("_dmarc.example.com", "_dmarc.example.com");
	assert_name("a_b.example.com", "a_b.example.com");
	assert_name("spoprod-a.akamaihd.net", "spoprod-a.akamaihd.net");
	assert_name("-a.example.com", "-a.example.com");
}

TEST(test_other_punctuation_is_invalid)
{
	assert_kind("*.microsoft.com", M365_HOST_INVALID);
	assert_kind("teams.microsoft.com:443", M365_HOST_INVALID);
	assert_kind("teams.microsoft.com/path", M365_HOST_INVALID);
	assert_kind("user@teams.microsoft.com", M365_HOST_INVALID);
	assert_kind("teams\"microsoft.com", M365_HOST_INVALID);
	assert_kind("1.2.3.4/24", M365_HOST_INVALID);
}

TEST(test_kind_names_are_readable)
{
	assert_string_equal(m365_host_kind_name(M365_HOST_NONE), "none");
	assert_string_equal(m365_host_kind_name(M365_HOST_NAME), "hostname");
	assert_string_equal(m365_host_kind_name(M365_HOST_IPV4), "IPv4");
	assert_string_equal(m365_host_kind_name(M365_HOST_IPV6), "IPv6");
	assert_non_null(m365_host_kind_name(M365_HOST_INVALID));
	assert_string_not_equal(m365_host_kind_name(M365_HOST_INVALID),
	                        "hostname");
}

/* xorshift64*: a fixed sequence. */
static uint64_t
next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

/*
 * The one-pass path (plain input, a word at a time) and the general one
 * (the same input with its first byte percent-encoded) give the same host
 * and the same labels, for many random inputs around the limits.
 */
TEST(test_fast_and_general_paths_agree)
{
	static const char alphabet[] = "aZ09.-_.b.c1.x.YQ...9";
	static const char odd[] = " /:%[\x80\xff@";
	uint64_t seed = 42;
	int round;

	for (round = 0; round < 200000; round++) {
		char plain[300], coded[910];
		size_t n, i;
		struct m365_host a, b;
		struct host_labels la, lbb;
		uint64_t r = next_rand(&seed);
		n = 1 + (r % 7 == 0 ? (r >> 8) % 260 : (r >> 8) % 40);
		for (i = 0; i < n; i++) {
			uint64_t c = next_rand(&seed);
			plain[i] =
			    c % 97 == 0
			        ? odd[(c >> 8) % (sizeof(odd) - 1)]
			        : alphabet[(c >> 8) % (sizeof(alphabet) - 1)];
		}
		plain[n] = '\0';
		snprintf(coded, sizeof(coded), "%%%02x%s",
		         (unsigned char)plain[0], plain + 1);
		host_scan(plain, n, &a, &la, HOST_IP_TEXT);
		host_scan(coded, strlen(coded), &b, &lbb, HOST_IP_TEXT);
		if (a.kind != b.kind || a.len != b.len ||
		    strcmp(a.name, b.name) != 0 || la.n != lbb.n ||
		    memcmp(la.start, lbb.start, la.n) != 0 ||
		    (a.kind == M365_HOST_IPV4 &&
		     memcmp(a.addr, b.addr, 4) != 0))
			fail_msg("\"%s\": %d \"%s\" (%u labels) against "
			         "%d \"%s\" (%u labels)",
			         plain, (int)a.kind, a.name, la.n, (int)b.kind,
			         b.name, lbb.n);
	}
}

/*
 * IP literals are what inet_pton says they are: random strings of hex
 * digits, colons and dots (and brackets, a trailing dot, upper case) give
 * the kind and address inet_pton gives, IPv4-mapped ones as IPv4.
 */
TEST(test_ip_literals_agree_with_inet_pton)
{
	static const char alphabet[] = "0123456789abcdefABCDEF::::...f0";
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
	                                   0, 0, 0, 0, 0xff, 0xff};
	uint64_t seed = 7;
	int round, v6 = 0, v4 = 0;

	for (round = 0; round < 300000; round++) {
		char s[64], in[70];
		uint8_t a[16];
		size_t n, i;
		struct m365_host h;
		enum m365_host_kind want = M365_HOST_INVALID;
		uint64_t r = next_rand(&seed);
		n = 1 + (r >> 8) % 46;
		for (i = 0; i < n; i++)
			s[i] =
			    alphabet[next_rand(&seed) % (sizeof(alphabet) - 1)];
		s[n] = '\0';
		if (r % 5 == 0 && n > 3) /* some real-looking ones */
			memcpy(s, r % 2 ? "::ffff:" : "2603:10", n > 7 ? 7 : n);
		snprintf(in, sizeof(in), r % 3 == 0 ? "[%s]" : "%s", s);
		if (s[n - 1] == '.') /* the normaliser drops one */
			s[n - 1] = '\0';
		if (strchr(s, ':') != NULL && inet_pton(AF_INET6, s, a) == 1)
			want = memcmp(a, mapped, 12) == 0 ? M365_HOST_IPV4
			                                  : M365_HOST_IPV6;
		else if (strchr(s, ':') == NULL &&
		         inet_pton(AF_INET, s, a) == 1 && r % 3 != 0)
			want = M365_HOST_IPV4;
		m365_host_normalize(in, strlen(in), &h);
		if (h.kind == M365_HOST_NAME && want == M365_HOST_INVALID)
			continue; /* digits and dots that are a name */
		if (h.kind != want ||
		    (want == M365_HOST_IPV6 && memcmp(h.addr, a, 16) != 0) ||
		    (want == M365_HOST_IPV4 &&
		     memcmp(h.addr, strchr(s, ':') ? a + 12 : a, 4) != 0))
			fail_msg("\"%s\": kind %d, inet_pton says %d", in,
			         (int)h.kind, (int)want);
		v6 += want == M365_HOST_IPV6;
		v4 += want == M365_HOST_IPV4;
	}
	assert_true(v6 > 1000);
	assert_true(v4 > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_hostname_is_a_name),
	    cmocka_unit_test(test_percent_encoded_dots_are_decoded),
	    cmocka_unit_test(test_percent_decoding_happens_once),
	    cmocka_unit_test(test_bad_percent_escape_is_invalid),
	    cmocka_unit_test(test_percent_encoded_nul_is_invalid),
	    cmocka_unit_test(
	        test_long_percent_encoded_input_is_measured_after_decoding),
	    cmocka_unit_test(test_dash_and_empty_are_none),
	    cmocka_unit_test(test_double_dash_is_a_name_not_none),
	    cmocka_unit_test(test_brackets_around_ipv6_are_stripped),
	    cmocka_unit_test(test_only_one_pair_of_brackets_is_stripped),
	    cmocka_unit_test(test_uppercase_is_lowercased),
	    cmocka_unit_test(test_one_trailing_dot_is_removed),
	    cmocka_unit_test(test_two_trailing_dots_are_invalid),
	    cmocka_unit_test(test_ipv4_literal_fills_addr),
	    cmocka_unit_test(test_ipv6_literal_fills_addr),
	    cmocka_unit_test(test_ipv4_mapped_ipv6_is_the_ipv4_address),
	    cmocka_unit_test(
	        test_octal_and_decimal_ipv4_spellings_are_names_not_ips),
	    cmocka_unit_test(test_ipv6_zone_id_is_invalid),
	    cmocka_unit_test(test_label_of_63_chars_is_valid_and_64_invalid),
	    cmocka_unit_test(test_name_of_253_chars_is_valid_and_254_invalid),
	    cmocka_unit_test(test_name_of_253_chars_with_trailing_dot_is_valid),
	    cmocka_unit_test(test_very_long_input_is_invalid),
	    cmocka_unit_test(test_empty_labels_are_invalid),
	    cmocka_unit_test(test_spaces_are_invalid),
	    cmocka_unit_test(test_nul_inside_is_invalid),
	    cmocka_unit_test(test_length_argument_bounds_the_input),
	    cmocka_unit_test(test_non_ascii_bytes_are_invalid),
	    cmocka_unit_test(test_underscore_and_hyphen_are_allowed),
	    cmocka_unit_test(test_other_punctuation_is_invalid),
	    cmocka_unit_test(test_kind_names_are_readable),
	    cmocka_unit_test(test_fast_and_general_paths_agree),
	    cmocka_unit_test(test_ip_literals_agree_with_inet_pton),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
