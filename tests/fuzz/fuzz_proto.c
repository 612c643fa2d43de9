/* fuzz_proto.c - libFuzzer: one helper input line through the wire
 * parser, classify and the answer formatter; the answer must be one line
 * that starts with the channel ID and never says BH. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m365_classify.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct m365_list *list;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m365_options opt = {0};
	struct outbuf o = {NULL, 0, 0};
	struct request req;
	struct m365_verdict v;
	struct m365_err err;
	char *scratch;
	const char *line = (const char *)data;

	if (list == NULL && (list = m365_list_load(&opt, &err)) == NULL)
		abort();
	if (memchr(data, '\n', size) != NULL)
		return 0; /* the helper splits lines before parsing */
	if ((scratch = malloc(size + 8)) == NULL)
		return 0;
	proto_parse(line, size, true, &req, scratch);
	if (req.channel != NULL) {
		m365_classify_n(list, req.dst, req.dst_len, req.port,
		                req.port_len, req.sni, req.sni_len, &v);
		if (proto_answer(&o, req.channel, req.channel_len, &v,
		                 req.bad) == 0) {
			if (o.len == 0 || o.data[o.len - 1] != '\n' ||
			    memchr(o.data, '\n', o.len - 1) != NULL ||
			    memcmp(o.data, req.channel, req.channel_len) != 0)
				abort();
			if (o.len >= req.channel_len + 3 &&
			    memcmp(o.data + req.channel_len, " BH", 3) == 0)
				abort();
		}
	}
	outbuf_free(&o);
	free(scratch);
	return 0;
}
