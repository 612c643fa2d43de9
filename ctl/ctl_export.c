/* ctl_export.c - m365ctl export FORMAT: the list in use for other tools
 * (see export.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "export.h"
#include "fileio.h"
#include "listsrc.h"
#include "m365_text.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: m365ctl export pac|nft|squid|text|json\n" LISTSRC_USAGE
	        "         [--tenant NAME] [-o FILE|DIR]\n"
	        "         [--watch [--exec CMD] [--poll SECONDS]]\n"
	        "         [--direct STRING] [--proxy STRING]"
	        " [--allow-proxy STRING]    (pac)\n"
	        "         [--kind names|ranges|ipv4|ipv6|all]     (text)\n"
	        "\n"
	        "Writes what the helper bypasses, for other tools: a PAC file\n"
	        "(DIRECT where the helper answers OK), nftables sets of the\n"
	        "ranges (and of Teams media's), Squid ACL files (squid: -o\n"
	        "DIR, then include DIR/m365.conf), plain lists, or JSON.\n"
	        "With -o a file is replaced whole, atomically.  With --redis,\n"
	        "the list is the version the helpers following Redis use now;\n"
	        "with --watch too (and -o), it stays running, writes again on\n"
	        "each publish and local list change, then runs CMD (sh -c).\n"
	        "Exit status: 0 written, 1 the list holds a rule the format\n"
	        "cannot express, 2 usage or input error, 4 Redis or file\n"
	        "trouble.\n");
}

static const struct {
	const char *name;
	format_fn fn;
} formats[] = {
    {"pac", export_pac},
    {"nft", export_nft},
    {"text", export_text},
    {"json", export_json},
};

/* The command line as one string, for the files' headers, with the
 * credentials of a Redis URL left out. */
static void
command_line(int argc, char **argv, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "m365ctl export");
	int i;

	for (i = 1; i < argc && at < len; i++) {
		const char *a = argv[i], *scheme = strstr(a, "://");
		const char *cred = scheme ? strchr(scheme + 3, '@') : NULL;
		if (cred != NULL)
			at += (size_t)snprintf(buf + at, len - at, " %.*s***%s",
			                       (int)(scheme + 3 - a), a, cred);
		else
			at += (size_t)snprintf(buf + at, len - at, " %s", a);
	}
}

/* Writes the export to path atomically (m365_write_file_atomic(), once
 * the whole of it is made); 0, 1 or 4 (see usage()). */
static int
write_file(const char *path, format_fn fn, const struct xm *m,
           const struct export_opts *o)
{
	struct m365_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (f == NULL) {
		fprintf(stderr, "m365ctl export: out of memory\n");
		return 4;
	}
	rc = fn(f, m, o);
	if (fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "m365ctl export: out of memory\n");
		rc = -1;
	}
	if (rc == 0 && m365_write_file_atomic(path, text, len, &err) < 0) {
		fprintf(stderr, "m365ctl export: %s\n", err.msg);
		rc = 4;
	}
	free(text);
	return rc < 0 ? 1 : rc;
}

/* The whole export to stdout; 0, 1 or 4. */
static int
write_stdout(format_fn fn, const struct xm *m, const struct export_opts *o)
{
	if (fn(stdout, m, o) != 0)
		return 1;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "m365ctl export: standard output: %s\n",
		        strerror(errno));
		return 4;
	}
	return 0;
}

int
export_run(struct export_job *j)
{
	struct m365_list *l;
	struct xm m;
	int rc;

	j->src.origin[0] = '\0';
	if ((l = listsrc_load(&j->src, &rc)) == NULL)
		return rc;
	if (xm_build(&m, l, j->src.origin, j->tenant) < 0) {
		fprintf(stderr, "m365ctl export: out of memory\n");
		rc = 4;
	} else if (j->squid) {
		rc = export_squid(j->out, &m, &j->o) == 0 ? 0 : 1;
	} else {
		rc = j->out ? write_file(j->out, j->fn, &m, &j->o)
		            : write_stdout(j->fn, &m, &j->o);
	}
	xm_free(&m);
	m365_list_unref(l);
	return rc;
}

/* The format named name into j; 0, or 2 after a message. */
static int
pick_format(struct export_job *j, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(name, formats[i].name) == 0)
			j->fn = formats[i].fn;
	j->squid = strcmp(name, "squid") == 0;
	if (j->fn == NULL && !j->squid) {
		fprintf(stderr,
		        "m365ctl export: unknown format \"%s\" (pac, nft, "
		        "squid, text, json)\n",
		        name);
		return 2;
	}
	if (j->squid && j->out == NULL) {
		fprintf(stderr, "m365ctl export: squid needs -o DIR (the "
		                "directory of its files)\n");
		return 2;
	}
	if (j->fn == export_pac && (j->o.proxy == NULL || !*j->o.proxy)) {
		fprintf(stderr, "m365ctl export: pac needs --proxy STRING "
		                "(for example \"PROXY proxy.example:3128\")\n");
		return 2;
	}
	return 0;
}

/* The values of the options; 0, or 2 after a message. */
static int
check_values(const struct export_job *j)
{
	const char *t = j->tenant, *k = j->o.kind;

	if (t != NULL &&
	    (t[0] == '\0' || strspn(t, "abcdefghijklmnopqrstuvwxyz"
	                               "0123456789-") != strlen(t))) {
		fprintf(stderr, "m365ctl export: --tenant: expected a tenant "
		                "name (lowercase letters, digits, '-')\n");
		return 2;
	}
	if (strcmp(k, "all") != 0 && strcmp(k, "names") != 0 &&
	    strcmp(k, "ranges") != 0 && strcmp(k, "ipv4") != 0 &&
	    strcmp(k, "ipv6") != 0) {
		fprintf(stderr, "m365ctl export: --kind: expected names, "
		                "ranges, ipv4, ipv6 or all\n");
		return 2;
	}
	if (j->watch && (j->src.ro.url == NULL || j->out == NULL)) {
		fprintf(stderr, "m365ctl export: --watch needs --redis and -o "
		                "(it rewrites the file on each publish)\n");
		return 2;
	}
	if (j->exec != NULL && !j->watch) {
		fprintf(stderr, "m365ctl export: --exec goes with --watch\n");
		return 2;
	}
	return 0;
}

int
ctl_export(int argc, char **argv)
{
	static const struct option longopts[] = {
	    LISTSRC_LONGOPTS,
	    {"tenant", required_argument, NULL, 'T'},
	    {"output", required_argument, NULL, 'o'},
	    {"direct", required_argument, NULL, 'D'},
	    {"proxy", required_argument, NULL, 'P'},
	    {"allow-proxy", required_argument, NULL, 'Y'},
	    {"kind", required_argument, NULL, 'k'},
	    {"watch", no_argument, NULL, 'w'},
	    {"exec", required_argument, NULL, 'e'},
	    {"poll", required_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	static struct export_job j;
	static char cmd[1024];
	long num;
	int c, rc;

	memset(&j, 0, sizeof(j));
	j.o.direct = "DIRECT";
	j.o.kind = "all";
	j.poll_s = 2;
	listsrc_init(&j.src, "export");
	command_line(argc, argv, cmd, sizeof(cmd)); /* before getopt permutes */
	xm_clean(cmd);
	j.o.command = cmd;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if ((rc = listsrc_option(&j.src, c, optarg)) == 2)
			return 2;
		if (rc == 1)
			continue;
		switch (c) {
		case 'T': j.tenant = optarg; break;
		case 'o': j.out = optarg; break;
		case 'D': j.o.direct = optarg; break;
		case 'P': j.o.proxy = optarg; break;
		case 'Y': j.o.allow_proxy = optarg; break;
		case 'k': j.o.kind = optarg; break;
		case 'w': j.watch = 1; break;
		case 'e': j.exec = optarg; break;
		case 'q':
			if (m365_parse_long(optarg, 1, 3600, &num) < 0) {
				fprintf(stderr,
				        "m365ctl export: --poll: expected "
				        "1 to 3600 seconds\n");
				return 2;
			}
			j.poll_s = (int)num;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	if ((rc = pick_format(&j, argv[optind])) != 0 ||
	    (rc = check_values(&j)) != 0 || (rc = listsrc_check(&j.src)) != 0)
		return rc;
	return j.watch ? export_watch(&j) : export_run(&j);
}
