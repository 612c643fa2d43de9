/*
 * runlog.c - the run record of m365ctl update and import (see runlog.h).
 *
 *     attempt_at 1764583200
 *     result refused
 *     message refused: 3 sets where the current list has 72 (...)
 *     success_at 1764496800
 *     version 2025120100
 *     refused_at 1764583200
 *     refused_reason shrink
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "m365_text.h"
#include "runlog.h"

/* The largest run record read back, and the retry-after file. */
#define RUNLOG_MAX (64u << 10)
#define RETRY_FILE_MAX 64
/* No time in a record lies beyond the year 9999. */
#define TIME_MAX 253402300799L
/* The longest refusal label (struct run_record's refused_reason). */
#define LABEL_MAX 31

static const char *const result_names[] = {
    [RUN_NONE] = "none",       [RUN_PUBLISHED] = "published",
    [RUN_CURRENT] = "current", [RUN_REFUSED] = "refused",
    [RUN_LOCKED] = "locked",   [RUN_ERROR] = "error"};

const char *
run_result_name(enum run_result r)
{
	if ((unsigned)r >= sizeof(result_names) / sizeof(result_names[0]))
		return "none";
	return result_names[r];
}

/* A refusal label: 1 to LABEL_MAX bytes of [a-z_]. */
static int
label_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= LABEL_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

/* Copies text into one line of at most len - 1 bytes, control bytes made
 * '?' (a message is shown on terminals). */
static void
one_line(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < len; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* DIR/retry-after when it lies in the future, else 0. */
static long long
retry_until(const char *dir)
{
	char path[4096], *buf;
	long v;
	size_t len;

	snprintf(path, sizeof(path), "%s/retry-after", dir);
	if ((buf = m365_read_file(path, RETRY_FILE_MAX, &len, NULL)) == NULL)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	if (m365_parse_long(buf, 0, TIME_MAX, &v) < 0 || v <= (long)time(NULL))
		v = 0;
	free(buf);
	return v;
}

/* One "key value" line into r; NULL, or what is wrong with it. */
static const char *
parse_line(char *line, struct run_record *r)
{
	char *v = strchr(line, ' ');
	long n;
	size_t i;

	if (v == NULL)
		return "expected \"KEY VALUE\"";
	*v++ = '\0';
	if (strcmp(line, "message") == 0) {
		one_line(r->message, sizeof(r->message), v);
		return NULL;
	}
	if (strcmp(line, "result") == 0) {
		for (i = 0; i < sizeof(result_names) / sizeof(*result_names);
		     i++)
			if (strcmp(v, result_names[i]) == 0) {
				r->result = (enum run_result)i;
				return NULL;
			}
		return "result: not a result";
	}
	if (strcmp(line, "version") == 0) {
		if (!m365_version_valid(v))
			return "version: not a version";
		snprintf(r->version, sizeof(r->version), "%s", v);
		return NULL;
	}
	if (strcmp(line, "refused_reason") == 0) {
		if (!label_valid(v))
			return "refused_reason: expected 1-31 of [a-z_]";
		snprintf(r->refused_reason, sizeof(r->refused_reason), "%s", v);
		return NULL;
	}
	if (strcmp(line, "attempt_at") != 0 &&
	    strcmp(line, "success_at") != 0 && strcmp(line, "refused_at") != 0)
		return NULL; /* a key of a later version */
	if (m365_parse_long(v, 0, TIME_MAX, &n) < 0)
		return "expected a Unix time";
	if (line[0] == 'a')
		r->attempt_at = n;
	else if (line[0] == 's')
		r->success_at = n;
	else
		r->refused_at = n;
	return NULL;
}

/* The lines of buf[0..len) into r; 0, or -1 with err set. */
static int
parse(const char *path, char *buf, size_t len, struct run_record *r,
      struct m365_err *err)
{
	char *line, *nl, *end = buf + len; /* *end is the NUL */
	const char *why;
	int n = 1;

	if (memchr(buf, '\0', len) != NULL)
		return m365_err_set(err, M365_E_INPUT, "%s: a NUL byte", path);
	for (line = buf; line < end; line = nl + 1, n++) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (line[0] != '\0' && (why = parse_line(line, r)) != NULL)
			return m365_err_set(err, M365_E_INPUT,
			                    "%s: line %d: %s", path, n, why);
	}
	return 0;
}

int
runlog_read(const char *dir, struct run_record *r, struct m365_err *err)
{
	char path[4096], *buf;
	struct stat st;
	size_t len;
	int rc;

	memset(r, 0, sizeof(*r));
	r->retry_until = retry_until(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, RUNLOG_FILE);
	if (stat(path, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if ((buf = m365_read_file(path, RUNLOG_MAX, &len, err)) == NULL)
		return -1;
	rc = parse(path, buf, len, r, err);
	free(buf);
	return rc < 0 ? -1 : 1;
}

/* Appends "key value\n" at buf[*at] unless value is "". */
static void
put(char *buf, size_t len, size_t *at, const char *key, const char *value)
{
	int n;

	if (value[0] == '\0' || *at >= len)
		return;
	n = snprintf(buf + *at, len - *at, "%s %s\n", key, value);
	*at += n > 0 ? (size_t)n : 0;
}

/* The record as the file's text, into buf[len]; its length. */
static size_t
format(const struct run_record *r, char *buf, size_t len)
{
	char num[3][24];
	size_t at = 0;

	snprintf(num[0], sizeof(num[0]), "%lld", r->attempt_at);
	snprintf(num[1], sizeof(num[1]), "%lld", r->success_at);
	snprintf(num[2], sizeof(num[2]), "%lld", r->refused_at);
	buf[0] = '\0';
	put(buf, len, &at, "attempt_at", num[0]);
	put(buf, len, &at, "result", run_result_name(r->result));
	put(buf, len, &at, "message", r->message);
	put(buf, len, &at, "success_at", num[1]);
	put(buf, len, &at, "version", r->version);
	put(buf, len, &at, "refused_at", num[2]);
	put(buf, len, &at, "refused_reason", r->refused_reason);
	return at < len ? at : len - 1;
}

int
runlog_write(const char *dir, long long attempt_at, enum run_result result,
             const char *message, const char *reason, const char *version,
             struct m365_err *err)
{
	char path[4096], text[1024];
	struct run_record r;
	size_t len;

	if (runlog_read(dir, &r, NULL) < 0)
		memset(&r, 0, sizeof(r)); /* a bad record is replaced */
	r.attempt_at = attempt_at;
	r.result = result;
	one_line(r.message, sizeof(r.message), message);
	if (result == RUN_PUBLISHED || result == RUN_CURRENT) {
		r.success_at = (long long)time(NULL);
		if (version && m365_version_valid(version))
			snprintf(r.version, sizeof(r.version), "%s", version);
	} else if (result == RUN_REFUSED) {
		r.refused_at = attempt_at;
		snprintf(r.refused_reason, sizeof(r.refused_reason), "%s",
		         reason && label_valid(reason) ? reason : "other");
	}
	len = format(&r, text, sizeof(text));
	snprintf(path, sizeof(path), "%s/%s", dir, RUNLOG_FILE);
	return m365_write_file_atomic(path, text, len, err);
}
