/*
 * srv_m365_bypass - a c-icap service that goes first in Squid's ICAP chain
 * and ends the chain for Microsoft 365 bypass requests.
 *
 *     Service m365_bypass srv_m365_bypass.so             # c-icap.conf
 *     icap_service m365 reqmod_precache icap://127.0.0.1:1344/m365_bypass \
 *         routing=on bypass=on                           # squid.conf
 *
 * For every REQMOD and RESPMOD it reads the destination of the
 * encapsulated HTTP request (dest.c), asks m365_classify(), and answers
 * 204 at once, without a body byte: with an empty X-Next-Services header
 * (Squid then ends the adaptation plan) and X-M365-Category, -Service and
 * -Set for a bypass; without it, so that the chain goes on unchanged (or
 * with m365_bypass.NextServices), for anything else.  See
 * srv_m365_bypass(8).
 */
#include <c_icap/c-icap.h>
#include <c_icap/commands.h>
#include <c_icap/debug.h>
#include <c_icap/request.h>
#include <c_icap/service.h>
#include <c_icap/simple_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bypass.h"
#include "dest.h"

#define BYPASS_ISTAG "m365-bypass-0.2"

struct bypass bypass_ctx;

/*
 * Checks the directives and loads the list.  At startup (commands run
 * after the configuration is read, with the server log open) a mistake
 * stops c-icap; on a reconfigure it leaves the service unusable and says
 * why.
 */
static int
configure(int fatal)
{
	struct m365_err err;
	struct m365_list *l;
	char desc[1024];

	if (bypass_ctx.live != NULL)
		return CI_OK;
	if (bypass_configure(&bypass_ctx, &err) == 0) {
		if ((l = m365_live_acquire(bypass_ctx.live)) != NULL)
			ci_debug_printf(
			    1, BYPASS_SERVICE ": loaded %s\n",
			    m365_list_describe(l, desc, sizeof(desc)));
		m365_list_unref(l);
		return CI_OK;
	}
	ci_debug_printf(1, BYPASS_SERVICE ": ERROR: %s\n", err.msg);
	if (fatal) {
		fprintf(stderr, BYPASS_SERVICE ": %s\n", err.msg);
		exit(1);
	}
	return CI_ERROR;
}

static void
post_config_command(const char *name, int type, void *data)
{
	(void)name, (void)type, (void)data;
	configure(1);
}

/* In each child, after the fork: follow Redis with a thread of its own. */
static void
child_start_command(const char *name, int type, void *data)
{
	struct m365_err err;

	(void)name, (void)type, (void)data;
	if (bypass_ctx.live == NULL)
		return;
	bypass_ctx.metrics = m365_metrics_open(bypass_ctx.cfg.metrics_dir,
	                                       M365_FE_ICAP, bypass_log, NULL);
	m365_live_set_metrics(bypass_ctx.live, bypass_ctx.metrics);
	if (m365_live_follow(bypass_ctx.live, &err) < 0)
		ci_debug_printf(1, BYPASS_SERVICE ": ERROR: %s\n", err.msg);
}

static int
init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *conf)
{
	(void)conf;
	ci_service_set_istag(srv_xdata, BYPASS_ISTAG);
	ci_service_set_preview(srv_xdata, 0);
	ci_service_enable_204(srv_xdata);
	bypass_stats_register(&bypass_ctx.stats);
	register_command_extend(BYPASS_SERVICE "_post_config",
	                        CI_CMD_POST_CONFIG, NULL, post_config_command);
	register_command_extend(BYPASS_SERVICE "_child_start", CHILD_START_CMD,
	                        NULL, child_start_command);
	return CI_OK;
}

static int
post_init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *conf)
{
	(void)srv_xdata, (void)conf;
	return configure(0);
}

static void
close_service(void)
{
	bypass_release(&bypass_ctx);
}

/* The bypass answer's headers: end the chain, say what matched. */
static void
add_bypass_headers(ci_request_t *req, const struct m365_verdict *v)
{
	struct m365_note notes[M365_NOTES_MAX];
	size_t n = m365_verdict_notes(v, NULL, notes), i;
	char line[ICAP_HEADER_MAX];

	ci_icap_add_xheader(req, ICAP_END_OF_CHAIN);
	for (i = 0; i < n; i++)
		if (icap_note_header(&notes[i], line, sizeof(line)) > 0)
			ci_icap_add_xheader(req, line);
}

/* Classifies the request's destination into v (no destination when it
 * cannot be read). */
static void
classify(ci_request_t *req, struct m365_verdict *v, struct m365_list *l)
{
	ci_headers_list_t *h = ci_http_request_headers(req);
	struct dest d;

	if (h != NULL && h->used >= 1 &&
	    dest_parse(h->headers[0], (const char *const *)h->headers + 1,
	               (size_t)h->used - 1, &d) == DEST_OK)
		m365_classify(l, d.host, d.port, NULL, v);
	else
		m365_classify(l, NULL, NULL, NULL, v);
}

/*
 * The whole decision, before any body byte: 204 with the chain ended for
 * a bypass, 204 with the chain unchanged for everything else.
 */
static int
check_preview(char *data, int len, ci_request_t *req)
{
	struct m365_list *l = m365_live_acquire(bypass_ctx.live);
	uint64_t t0 = bypass_ctx.metrics ? m365_metrics_now_ns() : 0;
	struct m365_verdict v;

	(void)data, (void)len;
	/* a client that allows no 204 gets c-icap's echo: let it flow */
	ci_req_unlock_data(req);
	classify(req, &v, l);
	if (v.result == M365_OK)
		add_bypass_headers(req, &v);
	else if (bypass_ctx.cfg.has_next_services)
		ci_icap_add_xheader(req, bypass_ctx.next_header);
	bypass_stats_count(&bypass_ctx.stats, &v);
	if (bypass_ctx.metrics != NULL)
		m365_metrics_lookup(bypass_ctx.metrics, &v,
		                    m365_metrics_now_ns() - t0);
	m365_list_unref(l);
	return CI_MOD_ALLOW204;
}

/*
 * Never reached in practice (every request is decided in preview); where
 * a client forces it, the body passes through unchanged.
 */
static int
service_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof,
           ci_request_t *req)
{
	(void)wbuf, (void)rbuf, (void)iseof, (void)req;
	if (rlen != NULL)
		*rlen = 0;
	if (wlen != NULL)
		*wlen = CI_EOF;
	return CI_OK;
}

/*
 * Reached only when the client allows no 204 (c-icap then echoes the
 * message back, with our headers): nothing to add.
 */
static int
end_of_data(ci_request_t *req)
{
	(void)req;
	return CI_MOD_DONE;
}

CI_DECLARE_MOD_DATA ci_service_module_t service = {
    .mod_name = BYPASS_SERVICE,
    .mod_short_descr = "Microsoft 365 bypass: ends the ICAP chain for "
                       "Microsoft 365 endpoints",
    .mod_type = ICAP_REQMOD | ICAP_RESPMOD,
    .mod_init_service = init_service,
    .mod_post_init_service = post_init_service,
    .mod_close_service = close_service,
    .mod_init_request_data = NULL,
    .mod_release_request_data = NULL,
    .mod_check_preview_handler = check_preview,
    .mod_end_of_data_handler = end_of_data,
    .mod_service_io = service_io,
    .mod_conf_table = bypass_conf_table,
    .mod_data = NULL,
};
