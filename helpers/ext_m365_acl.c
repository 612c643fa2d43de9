/*
 * ext_m365_acl - Squid external ACL helper: answers OK for destinations that
 * Microsoft says must reach Microsoft 365 without authentication, TLS
 * inspection or content scanning, ERR for everything else.
 *
 *   external_acl_type m365 concurrency=50 ttl=300 %DST %PORT %ssl::>sni \
 *       /usr/lib/squid/ext_m365_acl [--list FILE] [--local FILE] ...
 *
 * See ext_m365_acl(8) and contract.md.  Never answers BH.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "m365_classify.h"
#include "m365_live.h"
#include "m365_text.h"
#include "proto.h"
#include "squid_answer.h"

#define PROG "ext_m365_acl"
#define VERSION "0.2.0"
#define LINE_MAX_BYTES (64 * 1024)
#define READ_CHUNK (256 * 1024)

/* Everything the helper keeps: the one context of the process. */
struct helper {
	struct m365_live_config cfg;
	bool concurrency;
	bool debug;
	struct m365_live *live;
	const char *metrics_dir;      /* --metrics, NULL for the default */
	struct m365_metrics *metrics; /* this process's counters, or NULL */
	uint64_t answers;       /* answers in the current batch (for latency) */
	bool said_concurrency;  /* warned that lines carry no channel ID */
	struct m365_list *list; /* in use for the current batch, or NULL */
	struct outbuf out;
	char *in; /* READ_CHUNK + LINE_MAX_BYTES + 1 */
	size_t in_len;
	char *scratch; /* decoded fields of one line */
	/* the rest of an over-long line, already answered, is being skipped */
	bool skipping;
};

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: " PROG " [--list FILE] [--local FILE] [--categories LIST]\n"
	    "       [--service-areas LIST] [--redis URL] [--redis-prefix P]\n"
	    "       [--redis-auth-file FILE] [--verify-key FILE]\n"
	    "       [--redis-max-bytes N] [--cache FILE] [--poll SECONDS]\n"
	    "       [--local-max-bytes N]\n"
	    "       [--metrics DIR|off] [--no-concurrency] [-d]\n"
	    "\n"
	    "Reads \"CHANNEL DST [PORT [SNI]]\" lines from Squid and answers\n"
	    "\"CHANNEL OK m365_category=.. m365_service=.. m365_set=..\" for\n"
	    "Microsoft 365 endpoints the policy lets through, \"CHANNEL ERR\"\n"
	    "otherwise.\n"
	    "\n"
	    "  --list FILE           Microsoft endpoint JSON (default: "
	    "bundled)\n"
	    "  --local FILE          local bypass/never rules (read again "
	    "when\n"
	    "                        the file changes, or on SIGHUP)\n"
	    "  --local-max-bytes N   refuse local lists larger than N bytes "
	    "(256 MiB)\n"
	    "  --categories LIST     categories that bypass (Optimize,Allow)\n"
	    "  --service-areas LIST  service areas that bypass (all)\n"
	    "  --redis URL           follow the list published in Redis\n"
	    "                        (redis://[[user:]pass@]host[:port][/db],\n"
	    "                        unix:///path[?db=N])\n"
	    "  --redis-prefix P      Redis key prefix (m365:)\n"
	    "  --redis-auth-file FILE  Redis credentials, \"USER PASSWORD\" "
	    "or\n"
	    "                        \"PASSWORD\" (mode 600; never in argv)\n"
	    "  --verify-key FILE     refuse versions not signed by this "
	    "Ed25519\n"
	    "                        public key (PEM)\n"
	    "  --redis-max-bytes N   refuse versions larger than N bytes "
	    "(64 MiB)\n"
	    "  --cache FILE          keep the last list Redis gave here\n"
	    "  --poll SECONDS        check the version pointer this often "
	    "(10)\n"
	    "  --metrics DIR|off     count into DIR/counters, shared by the\n"
	    "                        host's processes "
	    "(" M365_METRICS_DIR_DEFAULT ")\n"
	    "  --no-concurrency      lines carry no channel ID "
	    "(concurrency=0)\n"
	    "  -d, --debug           log every request and answer to stderr\n");
}

/* The helper's names for the options the library reports on. */
static const struct m365_option_names option_names = {
    .list = "--list",
    .local = "--local",
    .categories = "--categories",
    .service_areas = "--service-areas",
    .redis = "--redis",
    .cache = "--cache",
    .auth_file = "--redis-auth-file",
    .verify_key = "--verify-key",
    .local_max_bytes = "--local-max-bytes",
};

/* The library's messages go to stderr, which Squid puts in cache.log. */
static void
log_stderr(void *ctx, enum m365_log_level level, const char *msg)
{
	(void)ctx;
	if (level == M365_LOG_INFO)
		fprintf(stderr, PROG ": %s\n", msg);
	else
		fprintf(stderr, PROG ": %s: %s\n", m365_log_level_name(level),
		        msg);
}

static void
parse_options(struct helper *h, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"list", required_argument, NULL, 'l'},
	    {"local", required_argument, NULL, 'L'},
	    {"categories", required_argument, NULL, 'c'},
	    {"service-areas", required_argument, NULL, 's'},
	    {"redis", required_argument, NULL, 'r'},
	    {"redis-prefix", required_argument, NULL, 'p'},
	    {"cache", required_argument, NULL, 'C'},
	    {"poll", required_argument, NULL, 'P'},
	    {"redis-auth-file", required_argument, NULL, 'A'},
	    {"verify-key", required_argument, NULL, 'K'},
	    {"redis-max-bytes", required_argument, NULL, 'M'},
	    {"metrics", required_argument, NULL, 'm'},
	    {"local-max-bytes", required_argument, NULL, 'X'},
	    {"no-concurrency", no_argument, NULL, 'n'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0}};
	long num;
	int c;

	h->concurrency = true;
	h->cfg.opt.names = &option_names;
	h->cfg.opt.answer = squid_answer_text;
	h->cfg.log = log_stderr;
	while ((c = getopt_long(argc, argv, "dhv", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': h->cfg.opt.list = optarg; break;
		case 'L': h->cfg.opt.local = optarg; break;
		case 'c': h->cfg.opt.categories = optarg; break;
		case 's': h->cfg.opt.service_areas = optarg; break;
		case 'r': h->cfg.redis = optarg; break;
		case 'p': h->cfg.prefix = optarg; break;
		case 'C': h->cfg.cache = optarg; break;
		case 'P':
			if (m365_parse_long(optarg, 1, 30, &num) < 0) {
				fprintf(stderr, PROG
				        ": --poll: expected 1 to 30 seconds\n");
				exit(2);
			}
			h->cfg.poll_ms = (int)num * 1000;
			break;
		case 'A': h->cfg.auth_file = optarg; break;
		case 'K': h->cfg.verify_key = optarg; break;
		case 'M':
			if (m365_parse_long(optarg, M365_MAX_BYTES_MIN,
			                    M365_MAX_BYTES_MAX, &num) < 0) {
				fprintf(stderr,
				        PROG ": --redis-max-bytes: "
				             "expected 4096 to 1073741824\n");
				exit(2);
			}
			h->cfg.max_bytes = (size_t)num;
			break;
		case 'X':
			if (m365_parse_long(optarg, M365_LOCAL_MAX_BYTES_MIN,
			                    M365_LOCAL_MAX_BYTES_MAX,
			                    &num) < 0) {
				fprintf(stderr,
				        PROG ": --local-max-bytes: "
				             "expected 4096 to 4294967296\n");
				exit(2);
			}
			h->cfg.opt.local_max_bytes = (size_t)num;
			break;
		case 'm': h->metrics_dir = optarg; break;
		case 'n': h->concurrency = false; break;
		case 'd': h->debug = true; break;
		case 'h': usage(stdout); exit(0);
		case 'v': printf(PROG " " VERSION "\n"); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n",
		        argv[optind]);
		usage(stderr);
		exit(2);
	}
}

/* The live list SIGHUP reloads the local list of (the one thing a signal
 * handler must find without the process's context). */
static struct m365_live *hup_target;

static void
on_hup(int sig)
{
	(void)sig;
	m365_live_reload(hup_target);
}

/* Starts the live list; a bad configuration (Redis URL) is fatal. */
static void
start(struct helper *h)
{
	struct sigaction sa;
	struct m365_err err;
	struct m365_list *l;
	char desc[1024];

	h->metrics =
	    m365_metrics_open(h->metrics_dir, M365_FE_SQUID, log_stderr, NULL);
	m365_metrics_single_writer(h->metrics);
	h->cfg.metrics = h->metrics;
	h->cfg.frontend = M365_FE_SQUID;
	if ((h->live = m365_live_start(&h->cfg, &err)) == NULL) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		exit(2);
	}
	hup_target = h->live;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	if ((l = m365_live_acquire(h->live)) == NULL)
		return;
	fprintf(stderr, PROG ": loaded %s\n",
	        m365_list_describe(l, desc, sizeof(desc)));
	m365_list_unref(l);
}

/* Writes all pending answers; exits when Squid has gone. */
static void
flush(struct helper *h)
{
	size_t off = 0;

	while (off < h->out.len) {
		ssize_t n =
		    write(STDOUT_FILENO, h->out.data + off, h->out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(0); /* nobody reads our answers any more */
		off += (size_t)n;
	}
	h->out.len = 0;
}

static void
answer_error(struct helper *h, const char *ch, size_t ch_len, const char *msg,
             enum m365_invalid reason)
{
	struct m365_verdict v = {
	    .result = M365_ERR, .why = M365_WHY_NO_MATCH, .message = msg};

	if (proto_answer(&h->out, ch, ch_len, &v, NULL) < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	m365_metrics_invalid(h->metrics, reason);
	h->answers++;
}

/*
 * Warns once when a channel ID is not a number: Squid then sends no
 * channel IDs (concurrency=0), and the helper reads the destination as
 * one.  The answers stay as the contract says.
 */
static void
check_channel(struct helper *h, const struct request *req)
{
	size_t i;

	if (h->said_concurrency || req->channel == NULL)
		return;
	for (i = 0; i < req->channel_len; i++)
		if (req->channel[i] < '0' || req->channel[i] > '9')
			break;
	if (i == req->channel_len)
		return;
	h->said_concurrency = true;
	fprintf(stderr,
	        PROG ": WARNING: a request's first field \"%.*s\" is not a "
	             "channel ID: squid.conf probably says concurrency=0 (or "
	             "nothing) for this helper; give it concurrency=N, or "
	             "start the helper with --no-concurrency\n",
	        (int)(req->channel_len > 80 ? 80 : req->channel_len),
	        req->channel);
}

/* Answers one complete line (without its newline). */
static void
handle_line(struct helper *h, const char *line, size_t len)
{
	struct request req;
	struct m365_verdict v;
	size_t before = h->out.len;

	proto_parse(line, len, h->concurrency, &req, h->scratch);
	if (h->concurrency && req.channel == NULL)
		return; /* a blank line: no channel to answer on */
	if (h->concurrency)
		check_channel(h, &req);
	if (req.bad != NULL) {
		answer_error(h, req.channel, req.channel_len, req.bad,
		             M365_INV_SYNTAX);
	} else {
		m365_classify_n(h->list, req.dst, req.dst_len, req.port,
		                req.port_len, req.sni, req.sni_len, &v);
		if (proto_answer(&h->out, req.channel, req.channel_len, &v,
		                 NULL) < 0) {
			fprintf(stderr, PROG ": out of memory\n");
			exit(1);
		}
		m365_metrics_lookup(h->metrics, &v, UINT64_MAX);
		h->answers++;
	}
	if (h->debug)
		fprintf(stderr, PROG ": %.*s -> %.*s", (int)len, line,
		        (int)(h->out.len - before), h->out.data + before);
}

/*
 * Answers a line longer than the limit, complete or not (a prefix of it is
 * enough: every line before it is answered already, so the order holds).
 */
static void
too_long(struct helper *h, const char *line, size_t len)
{
	size_t ch_len = 0;
	const char *ch = NULL;

	fprintf(stderr, PROG ": WARNING: request line longer than %d bytes\n",
	        LINE_MAX_BYTES);
	if (h->concurrency && (ch = proto_channel(line, len, &ch_len)) == NULL)
		return; /* the channel ID itself was unreadable */
	answer_error(h, ch, ch_len, "line too long", M365_INV_LINE_TOO_LONG);
}

/* Uses up every complete line in the input buffer. */
static void
consume(struct helper *h)
{
	size_t pos = 0;
	char *nl;

	while ((nl = memchr(h->in + pos, '\n', h->in_len - pos)) != NULL) {
		size_t len = (size_t)(nl - (h->in + pos));
		if (h->skipping)
			h->skipping = false; /* its end: answered already */
		else if (len > LINE_MAX_BYTES)
			too_long(h, h->in + pos, len);
		else
			handle_line(h, h->in + pos, len);
		pos += len + 1;
	}
	memmove(h->in, h->in + pos, h->in_len - pos);
	h->in_len -= pos;
	if (!h->skipping && h->in_len > LINE_MAX_BYTES) {
		too_long(h, h->in, h->in_len);
		h->skipping = true;
	}
	if (h->skipping)
		h->in_len = 0;
}

int
main(int argc, char **argv)
{
	struct helper h;
	uint64_t t0;

	memset(&h, 0, sizeof(h));
	signal(SIGPIPE, SIG_IGN);
	parse_options(&h, argc, argv);
	h.in = malloc(READ_CHUNK + LINE_MAX_BYTES + 1);
	h.scratch = malloc(READ_CHUNK + LINE_MAX_BYTES + 8);
	if (h.in == NULL || h.scratch == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	start(&h);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, h.in + h.in_len, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		h.in_len += (size_t)n;
		t0 = h.metrics ? m365_metrics_now_ns() : 0;
		/* one list for the whole batch: a swap never splits a batch */
		h.list = m365_live_acquire(h.live);
		consume(&h);
		m365_list_unref(h.list);
		h.list = NULL;
		flush(&h);
		/* every answer of the batch waited for the whole batch */
		if (h.metrics != NULL && h.answers > 0)
			m365_metrics_latency(h.metrics, h.answers,
			                     m365_metrics_now_ns() - t0);
		h.answers = 0;
	}
	/* end of input: a last line without its newline is still answered */
	h.list = m365_live_acquire(h.live);
	if (!h.skipping && h.in_len > 0)
		handle_line(&h, h.in, h.in_len);
	flush(&h);
	m365_list_unref(h.list);
	if (m365_live_stop(h.live) == 0)
		m365_metrics_close(h.metrics);
	outbuf_free(&h.out);
	free(h.in);
	free(h.scratch);
	return 0;
}
