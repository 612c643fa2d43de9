/* listen.c - the listening socket of m365ctl metrics --listen (listen.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "m365_text.h"

#define BACKLOG 64

int
listen_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *len,
             struct m365_err *err)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[LISTEN_ADDR_MAX];
	const char *end;
	size_t n;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (addr[0] == '[')
		end = strchr(addr, ']');
	else
		end = strrchr(addr, ':');
	if (end == NULL || (addr[0] == '[' && end[1] != ':'))
		goto bad;
	n = addr[0] == '[' ? (size_t)(end - addr - 1) : (size_t)(end - addr);
	if (n >= sizeof(host) || m365_parse_long(end + (addr[0] == '[' ? 2 : 1),
	                                         0, 65535, &port) < 0)
		goto bad;
	memcpy(host, addr + (addr[0] == '['), n);
	host[n] = '\0';
	if (addr[0] == '[' || n == 0) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_any;
		*len = sizeof(*sin6);
		if (n == 0 || inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)
			return 0;
		goto bad;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*len = sizeof(*sin);
	if (inet_pton(AF_INET,
	              strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
	              &sin->sin_addr) == 1)
		return 0;
bad:
	return m365_err_set(err, M365_E_INPUT,
	                    "\"%s\" is not IPV4:PORT, [IPV6]:PORT, "
	                    "localhost:PORT or :PORT",
	                    addr);
}

int
listen_on(const char *addr, struct sockaddr_storage *ss, socklen_t len,
          struct m365_err *err)
{
	int fd, one = 1, zero = 0, any6;

	any6 = ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)ss)->sin6_addr);
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd < 0 && any6 && addr[0] == ':') { /* no IPv6: every IPv4 one */
		struct sockaddr_in sin = {
		    .sin_family = AF_INET,
		    .sin_port = ((struct sockaddr_in6 *)ss)->sin6_port,
		    .sin_addr.s_addr = htonl(INADDR_ANY)};
		memcpy(ss, &sin, sizeof(sin));
		len = sizeof(sin);
		any6 = 0;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            0);
	}
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (any6 && addr[0] == ':' &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) <
	         0) ||
	    bind(fd, (struct sockaddr *)ss, len) < 0 ||
	    listen(fd, BACKLOG) < 0) {
		m365_err_set(err, M365_E_IO, "%s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
listen_name(int fd, char *buf, size_t buflen, struct m365_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	const void *a;
	unsigned port;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return m365_err_set(err, M365_E_IO, "getsockname: %s",
		                    strerror(errno));
	if (ss.ss_family == AF_INET6) {
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		a = &((struct sockaddr_in *)&ss)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	inet_ntop(ss.ss_family, a, ip, sizeof(ip));
	snprintf(buf, buflen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	         ip, port);
	return 0;
}
