/* ctl_export.c - m365ctl export FORMAT: the list in use for other tools
 * (see export.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "export.h"
#include "listsrc.h"

static void
usage(FILE *f)
{
	fprintf(
	    f, "usage: m365ctl export pac|nft|text|json\n" LISTSRC_USAGE
	       "         [--tenant NAME] [-o FILE]\n"
	       "         [--direct STRING] [--proxy STRING]"
	       " [--allow-proxy STRING]    (pac)\n"
	       "         [--kind names|ranges|ipv4|ipv6|all]     (text)\n"
	       "\n"
	       "Writes what the helper bypasses, for other tools: a PAC file\n"
	       "(DIRECT where the helper answers OK), nftables sets of the\n"
	       "ranges (and of Teams media's), plain lists, or JSON.  With\n"
	       "-o the file is replaced whole, atomically.  With --redis, the\n"
	       "list is the version the helpers following Redis use now.\n"
	       "Exit status: 0 written, 1 the list holds a rule the format\n"
	       "cannot express, 2 usage or input error, 4 Redis or file\n"
	       "trouble.\n");
}

typedef int (*format_fn)(FILE *f, const struct xm *m,
                         const struct export_opts *o);

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
	size_t at = (size_t)snprintf(buf, len, "m365ctl");
	int i;

	for (i = 0; i < argc && at < len; i++) {
		const char *a = argv[i], *scheme = strstr(a, "://");
		const char *cred = scheme ? strchr(scheme + 3, '@') : NULL;
		if (cred != NULL)
			at += (size_t)snprintf(buf + at, len - at, " %.*s***%s",
			                       (int)(scheme + 3 - a), a, cred);
		else
			at += (size_t)snprintf(buf + at, len - at, " %s", a);
	}
}

/* Writes the export to path atomically (a temporary file beside it,
 * flushed, then renamed over it); 0, 1 or 4 (see usage()). */
static int
write_file(const char *path, format_fn fn, const struct xm *m,
           const struct export_opts *o)
{
	char tmp[4096];
	FILE *f;
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, "m365ctl export: %s: name too long\n", path);
		return 2;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	        0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "m365ctl export: %s: %s\n", tmp,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return 4;
	}
	if ((rc = fn(f, m, o)) != 0) {
		fclose(f);
		unlink(tmp);
		return 1;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		fprintf(stderr, "m365ctl export: %s: %s\n", tmp,
		        strerror(errno));
		fclose(f);
		unlink(tmp);
		return 4;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "m365ctl export: %s: %s\n", path,
		        strerror(errno));
		unlink(tmp);
		return 4;
	}
	return 0;
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
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct export_opts o = {.direct = "DIRECT", .kind = "all"};
	const char *out = NULL, *tenant = NULL;
	format_fn fn = NULL;
	struct listsrc src;
	struct m365_list *l;
	char cmd[1024];
	struct xm m;
	size_t i;
	int c, rc, squid;

	listsrc_init(&src, "export");
	command_line(argc, argv, cmd, sizeof(cmd)); /* before getopt permutes */
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if ((rc = listsrc_option(&src, c, optarg)) == 2)
			return 2;
		if (rc == 1)
			continue;
		switch (c) {
		case 'T': tenant = optarg; break;
		case 'o': out = optarg; break;
		case 'D': o.direct = optarg; break;
		case 'P': o.proxy = optarg; break;
		case 'Y': o.allow_proxy = optarg; break;
		case 'k': o.kind = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(argv[optind], formats[i].name) == 0)
			fn = formats[i].fn;
	if (strcmp(argv[optind], "squid") == 0)
		fn = export_pac; /* a stand-in: squid writes a directory */
	if (fn == NULL) {
		fprintf(stderr,
		        "m365ctl export: unknown format \"%s\" (pac, nft, "
		        "squid, text, json)\n",
		        argv[optind]);
		return 2;
	}
	squid = strcmp(argv[optind], "squid") == 0;
	if (squid && out == NULL) {
		fprintf(stderr, "m365ctl export: squid needs -o DIR (the "
		                "directory of its files)\n");
		return 2;
	}
	if (!squid && fn == export_pac && o.proxy == NULL) {
		fprintf(stderr, "m365ctl export: pac needs --proxy STRING "
		                "(for example \"PROXY proxy.example:3128\")\n");
		return 2;
	}
	if (tenant != NULL &&
	    (tenant[0] == '\0' ||
	     strspn(tenant, "abcdefghijklmnopqrstuvwxyz"
	                    "0123456789-") != strlen(tenant))) {
		fprintf(stderr, "m365ctl export: --tenant: expected a tenant "
		                "name (lowercase letters, digits, '-')\n");
		return 2;
	}
	if (strcmp(o.kind, "all") != 0 && strcmp(o.kind, "names") != 0 &&
	    strcmp(o.kind, "ranges") != 0 && strcmp(o.kind, "ipv4") != 0 &&
	    strcmp(o.kind, "ipv6") != 0) {
		fprintf(stderr, "m365ctl export: --kind: expected names, "
		                "ranges, ipv4, ipv6 or all\n");
		return 2;
	}
	if ((rc = listsrc_check(&src)) != 0)
		return rc;
	o.command = cmd;
	if ((l = listsrc_load(&src, &rc)) == NULL)
		return rc;
	if (xm_build(&m, l, src.origin, tenant) < 0) {
		fprintf(stderr, "m365ctl export: out of memory\n");
		rc = 4;
	} else if (squid) {
		rc = export_squid(out, &m, &o) == 0 ? 0 : 1;
	} else {
		rc = out ? write_file(out, fn, &m, &o)
		         : write_stdout(fn, &m, &o);
	}
	xm_free(&m);
	m365_list_unref(l);
	return rc;
}
