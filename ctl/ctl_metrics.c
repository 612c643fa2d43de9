/* ctl_metrics.c - m365ctl metrics: the host's counters for Prometheus,
 * printed once or served at GET /metrics (--listen). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "httpd.h"
#include "prom.h"
#include "publish.h"

struct metrics {
	const char *dir, *state_dir, *listen;
	int serving; /* notes are printed once while they stay the same */
	char counters_note[M365_ERR_MAX], runlog_note[M365_ERR_MAX];
};

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: m365ctl metrics [--metrics DIR] [--state-dir DIR]\n"
	    "         [--listen ADDR:PORT]\n"
	    "\n"
	    "Prints this host's counters (DIR/counters, default "
	    "%s)\n"
	    "and the updater's last run (default state dir %s)\n"
	    "in Prometheus's text format, or serves them at GET /metrics\n"
	    "on ADDR:PORT (IPV4:PORT, [IPV6]:PORT, localhost:PORT, :PORT).\n"
	    "Exit status: 0, 1 when the counters cannot be read (what can\n"
	    "be is printed), 2 usage, 4 when it cannot listen.\n",
	    M365_METRICS_DIR_DEFAULT, STATE_DIR_DEFAULT);
}

/* Prints msg ("" for none) on stderr; a server prints it only when it
 * is not the last one printed to last. */
static void
note(struct metrics *m, char last[M365_ERR_MAX], const char *msg)
{
	if (m->serving && strcmp(last, msg) == 0)
		return;
	snprintf(last, M365_ERR_MAX, "%s", msg);
	if (msg[0])
		fprintf(stderr, "m365ctl metrics: %s\n", msg);
}

/* Reads the counters and the run record now and renders them; *up is 0
 * when the counters could not be read.  NULL when memory runs out. */
static char *
scrape(struct metrics *m, size_t *len, int *up)
{
	struct m365_metrics_view view;
	struct run_record run;
	struct m365_err err;
	int rc;
	char *text;

	*up = m365_metrics_read(m->dir, &view, &err) == 0;
	note(m, m->counters_note, *up ? "" : err.msg);
	if ((rc = runlog_read(m->state_dir, &run, &err)) < 0)
		note(m, m->runlog_note, err.msg);
	else
		note(m, m->runlog_note, "");
	text = prom_render(*up ? &view : NULL, rc == 1 ? &run : NULL, len);
	if (*up)
		m365_metrics_view_free(&view);
	return text;
}

/* The body of GET /metrics (struct httpd_resource's render). */
static char *
render(void *arg, size_t *len)
{
	int up;

	return scrape(arg, len, &up);
}

static int
print_once(struct metrics *m)
{
	size_t len;
	char *text;
	int up;

	if ((text = scrape(m, &len, &up)) == NULL) {
		fprintf(stderr, "m365ctl metrics: out of memory\n");
		return 4;
	}
	fwrite(text, 1, len, stdout);
	free(text);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("m365ctl metrics: standard output");
		return 4;
	}
	return up ? 0 : 1;
}

static int
serve(struct metrics *m)
{
	struct httpd_resource res = {.path = "/metrics",
	                             .content_type = PROM_CONTENT_TYPE,
	                             .render = render,
	                             .arg = m};
	struct m365_err err;
	struct httpd *h;
	int rc = 0;

	if ((h = httpd_open(m->listen, &err)) == NULL) {
		fprintf(stderr, "m365ctl metrics: --listen %s\n", err.msg);
		return err.code == M365_E_INPUT ? 2 : 4;
	}
	m->serving = 1;
	fprintf(stderr, "m365ctl metrics: listening on %s\n", httpd_address(h));
	if (httpd_run(h, &res, &err) < 0) {
		fprintf(stderr, "m365ctl metrics: %s\n", err.msg);
		rc = 4;
	}
	httpd_close(h);
	return rc;
}

/* The command line; 0, or the exit status (-1: 0 after --help). */
static int
options(int argc, char **argv, struct metrics *m)
{
	static const struct option longopts[] = {
	    {"metrics", required_argument, NULL, 'm'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"listen", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm': m->dir = optarg; break;
		case 'd': m->state_dir = optarg; break;
		case 'l': m->listen = optarg; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

int
ctl_metrics(int argc, char **argv)
{
	struct metrics m = {.dir = M365_METRICS_DIR_DEFAULT,
	                    .state_dir = STATE_DIR_DEFAULT};
	int rc;

	if ((rc = options(argc, argv, &m)) != 0)
		return rc < 0 ? 0 : rc;
	return m.listen ? serve(&m) : print_once(&m);
}
