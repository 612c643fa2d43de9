/*
 * bench_floor.c - the I/O floor of the helper benchmark.
 *
 * A trivial external ACL "helper" that answers every line `ID ERR` without
 * classifying anything, using the I/O strategy a good helper uses: one big
 * read(), every complete line of it answered into one output buffer, one
 * write per read chunk.  bench/run.sh drives it and ext_m365_acl with the
 * same bench_driver and compares the times: the difference is what parsing
 * and classification cost.
 *
 * A partial line is carried over to the next read; a line longer than the
 * buffer is answered `ID ERR` once its end arrives.  A final line without a
 * newline is answered at end of input.  Exit 0 at EOF, 1 on an I/O error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define IN_SIZE (256 * 1024)
#define ID_MAX 64

struct floor_state {
	char in[IN_SIZE];
	size_t in_len;     /* bytes of the current partial line in in[] */
	char out[IN_SIZE]; /* answers, written once per read chunk */
	size_t out_len;
	int write_failed;
	char long_id[ID_MAX]; /* channel ID of an over-long line */
	size_t long_id_len;
	int skipping; /* inside an over-long line */
};

static struct floor_state st;

/* Writes all of buf; returns 0, or -1 on error. */
static int
write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Length of the channel ID (first token) of line[0..len). */
static size_t
id_len(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && line[i] != ' ' && line[i] != '\r' && i < ID_MAX)
		i++;
	return i;
}

/* Writes the output buffer out (once per read chunk, or when full). */
static void
flush_out(void)
{
	if (st.out_len > 0 && write_all(st.out, st.out_len) < 0)
		st.write_failed = 1;
	st.out_len = 0;
}

/* Appends `ID ERR\n` to the output buffer. */
static void
answer(const char *id, size_t len)
{
	if (st.out_len + ID_MAX + 5 > sizeof(st.out))
		flush_out(); /* only for chunks of very short lines */
	memcpy(st.out + st.out_len, id, len);
	st.out_len += len;
	memcpy(st.out + st.out_len, " ERR\n", 5);
	st.out_len += 5;
}

/* Answers an over-long line whose end (or EOF) has been reached. */
static void
answer_long(void)
{
	answer(st.long_id, st.long_id_len);
	st.skipping = 0;
}

/*
 * Answers every complete line in st.in[0..st.in_len) and moves the partial
 * rest to the front.
 */
static void
answer_lines(void)
{
	char *p = st.in, *end = st.in + st.in_len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (st.skipping)
			answer_long();
		else
			answer(p, id_len(p, (size_t)(nl - p)));
		p = nl + 1;
	}
	st.in_len = (size_t)(end - p);
	memmove(st.in, p, st.in_len);
	if (st.in_len == IN_SIZE) { /* a line fills the buffer: skip it */
		if (!st.skipping) {
			st.long_id_len = id_len(st.in, st.in_len);
			memcpy(st.long_id, st.in, st.long_id_len);
		}
		st.skipping = 1;
		st.in_len = 0;
	}
}

/* Answers what is left at end of input. */
static void
answer_eof(void)
{
	if (st.skipping)
		answer_long();
	else if (st.in_len > 0)
		answer(st.in, id_len(st.in, st.in_len));
	st.in_len = 0;
}

int
main(void)
{
	for (;;) {
		ssize_t n =
		    read(STDIN_FILENO, st.in + st.in_len, IN_SIZE - st.in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("bench_floor: read");
			return 1;
		}
		st.in_len += (size_t)n;
		if (n == 0)
			answer_eof();
		else
			answer_lines();
		flush_out();
		if (st.write_failed) {
			perror("bench_floor: write");
			return 1;
		}
		if (n == 0)
			return 0;
	}
}
