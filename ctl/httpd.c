/* httpd.c - a small HTTP server for one resource (see httpd.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "httpd.h"
#include "listen.h"
#include "m365_text.h"

/* How long a closed answer waits for the client's last bytes, so that
 * they do not reset the connection before it reads the answer. */
#define LINGER_MS 2000
/* Connections accepted in one round, and the pause after running out of
 * file descriptors. */
#define ACCEPT_BATCH 256
#define ACCEPT_PAUSE_MS 100

enum conn_state {
	C_FREE,   /* no connection */
	C_HEAD,   /* reading the request head */
	C_SEND,   /* writing the answer */
	C_LINGER, /* answer sent, draining until the client closes */
};

struct conn {
	int fd;
	enum conn_state state;
	long long deadline; /* monotonic ms */
	size_t n_in, scan;  /* bytes read; start of the first unscanned line */
	int seen_line;      /* a non-empty line was scanned */
	char *out;          /* the answer, n_out bytes, sent of them written */
	size_t n_out, sent;
	char in[HTTPD_HEAD_MAX];
};

struct httpd {
	int lfd, sfd; /* listening socket, signalfd */
	long long accept_pause;
	char addr[LISTEN_ADDR_MAX];
	struct conn conns[HTTPD_MAX_CONNS];
};

/* A request head, as far as the answer needs it. */
struct request {
	const char *method, *path; /* path ends at '?' or NUL */
};

struct httpd *
httpd_open(const char *addr, struct m365_err *err)
{
	struct sockaddr_storage ss;
	struct httpd *h;
	socklen_t len = 0;
	sigset_t set;
	size_t i;

	if (listen_parse(addr, &ss, &len, err) < 0)
		return NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "out of memory");
		return NULL;
	}
	h->sfd = -1;
	for (i = 0; i < HTTPD_MAX_CONNS; i++)
		h->conns[i].fd = -1;
	if ((h->lfd = listen_on(addr, &ss, len, err)) < 0 ||
	    listen_name(h->lfd, h->addr, sizeof(h->addr), err) < 0)
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (h->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		m365_err_set(err, M365_E_IO, "signalfd: %s", strerror(errno));
		goto fail;
	}
	return h;
fail:
	httpd_close(h);
	return NULL;
}

const char *
httpd_address(const struct httpd *h)
{
	return h->addr;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->state = C_FREE;
}

void
httpd_close(struct httpd *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < HTTPD_MAX_CONNS; i++)
		conn_close(&h->conns[i]);
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->sfd >= 0)
		close(h->sfd);
	free(h);
}

/* --- the request head ---------------------------------------------------- */

/* RFC 9110 tchar */
static int
is_tchar(unsigned char ch)
{
	return ch < 0x80 && ch > 0x20 &&
	       strchr("\"(),/:;<=>?@[\\]{}", ch) == NULL;
}

/* Scans the lines read since the last call; 1 when the head is complete
 * (an empty line after the request line), else 0. */
static int
head_complete(struct conn *c)
{
	const char *nl;
	size_t len;

	while ((nl = memchr(c->in + c->scan, '\n', c->n_in - c->scan))) {
		len = (size_t)(nl - (c->in + c->scan));
		if (len > 0 && nl[-1] == '\r')
			len--;
		c->scan = (size_t)(nl - c->in) + 1;
		if (len > 0)
			c->seen_line = 1;
		else if (c->seen_line)
			return 1;
	}
	return 0;
}

/* Cuts the next line off *p (its "\r\n" or "\n" replaced by NULs). */
static char *
next_line(char **p)
{
	char *line = *p, *nl = strchr(line, '\n');

	if (nl == NULL) {
		*p = line + strlen(line);
		return line;
	}
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	*p = nl + 1;
	return line;
}

/* The path of an origin-form or absolute-form target; NULL when it is
 * neither ("*" is a path that no resource has). */
static const char *
target_path(const char *t)
{
	const char *p;

	if (t[0] == '/' || strcmp(t, "*") == 0)
		return t;
	if (strncasecmp(t, "http://", 7) == 0)
		p = t + 7;
	else if (strncasecmp(t, "https://", 8) == 0)
		p = t + 8;
	else
		return NULL;
	p += strcspn(p, "/?");
	return *p == '/' ? p : "/";
}

/* The request line; 0, or the status of the answer. */
static int
request_line(char *line, struct request *rq, int *v11)
{
	char *target, *version;
	size_t i;

	if ((target = strchr(line, ' ')) == NULL ||
	    (version = strchr(target + 1, ' ')) == NULL)
		return 400;
	*target++ = '\0';
	*version++ = '\0';
	for (i = 0; line[i]; i++)
		if (!is_tchar((unsigned char)line[i]))
			return 400;
	for (i = 0; target[i]; i++)
		if (target[i] < 0x21 || target[i] > 0x7e)
			return 400;
	if (i == 0 || line[0] == '\0' || target_path(target) == NULL)
		return 400;
	if (strncmp(version, "HTTP/", 5) != 0 || version[5] < '0' ||
	    version[5] > '9' || version[6] != '.' || version[7] < '0' ||
	    version[7] > '9' || version[8] != '\0')
		return 400;
	if (version[5] != '1')
		return 505;
	*v11 = version[7] != '0';
	rq->method = line;
	rq->path = target_path(target);
	return 0;
}

/* A header line: NAME ":" VALUE; 0 or 400.  *host counts Host fields. */
static int
header_line(const char *line, int *host)
{
	const unsigned char *u = (const unsigned char *)line;
	size_t i, n = strcspn(line, ":");

	if (n == 0 || line[n] != ':')
		return 400;
	for (i = 0; i < n; i++)
		if (!is_tchar(u[i]))
			return 400;
	for (i = n + 1; u[i]; i++)
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			return 400;
	if (n == 4 && strncasecmp(line, "host", 4) == 0)
		(*host)++;
	return 0;
}

/* Parses the complete head in c->in (NUL-terminated); 0, or the status
 * of the answer. */
static int
parse_head(struct conn *c, struct request *rq)
{
	char *p = c->in, *line;
	int v11 = 0, host = 0, st;

	c->in[c->scan] = '\0';
	if (memchr(c->in, '\0', c->scan) != NULL)
		return 400;
	while (p[0] == '\n' || (p[0] == '\r' && p[1] == '\n'))
		p += p[0] == '\r' ? 2 : 1; /* empty lines before it */
	if ((st = request_line(next_line(&p), rq, &v11)) != 0)
		return st;
	while (*(line = next_line(&p)) != '\0')
		if ((st = header_line(line, &host)) != 0)
			return st;
	return v11 && host != 1 ? 400 : 0;
}

/* --- answers ----------------------------------------------------------- */

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

/* Makes the answer c->out; -1 when memory runs out. */
static int
answer(struct conn *c, int status, const char *type, const char *body,
       size_t len, int head)
{
	char hdr[512], date[64], text[64];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (body == NULL) {
		snprintf(text, sizeof(text), "%d %s\n", status, reason(status));
		body = text;
		len = strlen(text);
		type = "text/plain; charset=utf-8";
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n = snprintf(hdr, sizeof(hdr),
	             "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n"
	             "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
	             status, reason(status), date, type, len,
	             status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -1;
	if ((c->out = malloc((size_t)n + (head ? 0 : len))) == NULL)
		return -1;
	memcpy(c->out, hdr, (size_t)n);
	if (!head)
		memcpy(c->out + n, body, len);
	c->n_out = (size_t)n + (head ? 0 : len);
	c->sent = 0;
	return 0;
}

/* Answers a complete head (or one too long: status 431). */
static int
respond(struct conn *c, int status, const struct httpd_resource *res)
{
	struct request rq = {.method = "", .path = ""};
	size_t plen;
	char *body;
	int head, rc;

	if (status == 0)
		status = parse_head(c, &rq);
	head = strcmp(rq.method, "HEAD") == 0;
	plen = status == 0 ? strcspn(rq.path, "?") : 0;
	if (status == 0 &&
	    (strlen(res->path) != plen || strncmp(rq.path, res->path, plen)))
		status = 404;
	if (status == 0 && !head && strcmp(rq.method, "GET") != 0)
		status = 405;
	if (status != 0)
		return answer(c, status, NULL, NULL, 0, head);
	if ((body = res->render(res->arg, &plen)) == NULL)
		return answer(c, 500, NULL, NULL, 0, head);
	rc = answer(c, 200, res->content_type, body, plen, head);
	free(body);
	return rc;
}

/* --- connections ------------------------------------------------------- */

static void
on_writable(struct conn *c, long long now)
{
	ssize_t n;

	while (c->sent < c->n_out) {
		n = send(c->fd, c->out + c->sent, c->n_out - c->sent,
		         MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->sent += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->deadline = now + LINGER_MS;
}

static void
on_readable(struct conn *c, const struct httpd_resource *res, long long now)
{
	char drain[4096];
	ssize_t n;
	int done;

	if (c->state == C_LINGER) {
		n = recv(c->fd, drain, sizeof(drain), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	/* one byte is kept for parse_head()'s NUL */
	n = recv(c->fd, c->in + c->n_in, sizeof(c->in) - 1 - c->n_in, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->n_in += (size_t)n;
	done = head_complete(c);
	if (!done && c->n_in < sizeof(c->in) - 1)
		return;
	if (respond(c, done ? 0 : 431, res) < 0) {
		conn_close(c);
		return;
	}
	c->state = C_SEND;
	c->deadline = now + HTTPD_SEND_SECONDS * 1000;
	on_writable(c, now);
}

/* Accepts what waits; the connections beyond the limit are closed. */
static void
accept_all(struct httpd *h, long long now)
{
	struct conn *c;
	int fd, i, j;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				h->accept_pause = now + ACCEPT_PAUSE_MS;
			return;
		}
		for (j = 0; j < HTTPD_MAX_CONNS && h->conns[j].fd >= 0; j++)
			;
		if (j == HTTPD_MAX_CONNS) {
			close(fd);
			continue;
		}
		c = &h->conns[j];
		c->fd = fd;
		c->state = C_HEAD;
		c->deadline = now + HTTPD_HEAD_SECONDS * 1000;
		c->n_in = c->scan = c->sent = c->n_out = 0;
		c->seen_line = 0;
	}
}

/* Closes the connections past their deadline; the poll() timeout until
 * the next deadline (-1: none). */
static int
expire(struct httpd *h, long long now)
{
	long long next = -1;
	size_t i;

	if (h->accept_pause > now)
		next = h->accept_pause;
	for (i = 0; i < HTTPD_MAX_CONNS; i++) {
		if (h->conns[i].fd < 0)
			continue;
		if (h->conns[i].deadline <= now)
			conn_close(&h->conns[i]);
		else if (next < 0 || h->conns[i].deadline < next)
			next = h->conns[i].deadline;
	}
	return next < 0 ? -1 : (int)(next - now);
}

int
httpd_run(struct httpd *h, const struct httpd_resource *res,
          struct m365_err *err)
{
	struct pollfd pfd[2 + HTTPD_MAX_CONNS];
	struct signalfd_siginfo si;
	size_t idx[2 + HTTPD_MAX_CONNS], i, n;
	long long now;
	int timeout;
	short ev;

	for (;;) {
		now = ctl_now_ms();
		timeout = expire(h, now);
		pfd[0] = (struct pollfd){.fd = h->sfd, .events = POLLIN};
		pfd[1] =
		    (struct pollfd){.fd = h->accept_pause > now ? -1 : h->lfd,
		                    .events = POLLIN};
		for (i = 0, n = 2; i < HTTPD_MAX_CONNS; i++) {
			if (h->conns[i].fd < 0)
				continue;
			ev = h->conns[i].state == C_SEND ? POLLOUT : POLLIN;
			pfd[n] =
			    (struct pollfd){.fd = h->conns[i].fd, .events = ev};
			idx[n++] = i;
		}
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return m365_err_set(err, M365_E_IO, "poll: %s",
			                    strerror(errno));
		}
		if (pfd[0].revents &&
		    read(h->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			return 0;
		now = ctl_now_ms();
		for (i = 2; i < n; i++) {
			struct conn *c = &h->conns[idx[i]];

			if (pfd[i].revents & (POLLERR | POLLNVAL))
				conn_close(c);
			else if (c->state == C_SEND && pfd[i].revents)
				on_writable(c, now);
			else if (pfd[i].revents)
				on_readable(c, res, now);
		}
		if (pfd[1].revents & POLLIN)
			accept_all(h, now);
	}
}
