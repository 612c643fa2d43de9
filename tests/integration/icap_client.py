#!/usr/bin/env python3
"""icap_client.py - a small, strict ICAP/1.0 (RFC 3507) client for the tests.

Talks to a real ICAP server (c-icap) over TCP, the way Squid does: REQMOD,
RESPMOD or OPTIONS, "Allow: 204", "Preview: 0" by default, the encapsulated
HTTP heads with exact Encapsulated offsets, bodies chunked, the preview
handshake (empty preview, wait for "100 Continue" or a final answer, then the
rest).  Responses are parsed strictly: anything malformed, a closed
connection, a timeout or a size limit exceeded is an error, never a guess.

As a command (see --help), it prints every response, or one JSON object per
response with --json, and exits 0 when every response was read completely,
3 when the server closed the connection, timed out or answered something
unparsable (the reason on stderr), 2 on usage errors.

As a module:

    import icap_client
    with icap_client.Connection("127.0.0.1", port) as c:
        r = c.reqmod("echo", icap_client.http_request("GET http://x/ HTTP/1.1"))
        r.status, r.header("ISTag"), r.http_head, r.body
    r = icap_client.request(port, "REQMOD", "echo", body=b"x" * 1000)

Python 3 standard library only.
"""

import argparse
import http
import json
import re
import os
import select
import socket
import sys
import time

__all__ = [
    "ICAPError", "ICAPClosed", "ICAPTimeout", "ICAPProtocolError",
    "Response", "Connection", "http_request", "http_response",
    "request", "parse_encapsulated",
]

MAX_HEAD = 64 * 1024           # ICAP response head, and encapsulated heads
MAX_BODY = 16 * 1024 * 1024    # decoded encapsulated body
DEFAULT_CHUNK = 16 * 1024      # size of the chunks we send
DEFAULT_TIMEOUT = 5.0

ENTITY_HEADS = ("req-hdr", "res-hdr")
ENTITY_BODIES = ("req-body", "res-body", "opt-body", "null-body")


class ICAPError(Exception):
    """Base class: the exchange failed (exit status 3 in the CLI)."""


class ICAPClosed(ICAPError):
    """The server closed the connection before a complete response."""


class ICAPTimeout(ICAPError):
    """No complete response within the timeout."""


class ICAPProtocolError(ICAPError):
    """The response is malformed or exceeds a limit."""


class Response:
    """One ICAP response.

    status      int, e.g. 204
    reason      the reason phrase ("" if none)
    status_line the whole status line, without CRLF
    headers     [(name, value), ...] in order, duplicates kept
    encapsulated [(entity, offset), ...] from the Encapsulated header ([] if none)
    http_head   the encapsulated HTTP head(s), bytes exactly as received
    body        the decoded (de-chunked) encapsulated body, bytes, or None when
                the response encapsulates no body
    interim     list of interim (100 Continue) status lines seen before it
    conn        sequence number of the TCP connection that carried it (1-based)
    """

    def __init__(self):
        self.status = 0
        self.reason = ""
        self.status_line = ""
        self.headers = []
        self.encapsulated = []
        self.http_head = b""
        self.body = None
        self.interim = []
        self.conn = 0
        self.raw_head = b""

    def header(self, name, default=None):
        """Value of the first header NAME (case-insensitive), or DEFAULT."""
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        """Values of every header NAME (case-insensitive), in order."""
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def http_lines(self):
        """The encapsulated HTTP head(s) as a list of text lines, no CRLF."""
        text = self.http_head.decode("latin-1")
        return text.split("\r\n")

    def to_json(self):
        body = self.body if self.body is not None else b""
        try:
            text, enc = body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = body.decode("latin-1"), "latin-1"
        return {
            "status": self.status,
            "reason": self.reason,
            "headers": [[n, v] for n, v in self.headers],
            "encapsulated": [[e, o] for e, o in self.encapsulated],
            "http_head": self.http_head.decode("latin-1"),
            "body": text,
            "body_encoding": enc,
            "body_len": len(body),
            "has_body": self.body is not None,
            "interim": list(self.interim),
            "conn": self.conn,
        }

    def __repr__(self):
        return "<ICAP Response %d %s>" % (self.status, self.reason)


def http_request(request_line="GET http://example.com/ HTTP/1.1", headers=(),
                 auto_host=True):
    """Builds an HTTP request head (bytes, ending with CRLF CRLF).

    HEADERS is a list of "Name: value" strings or (name, value) pairs.  When
    AUTO_HOST is true and no Host header is given, one is derived from the
    request line's absolute URL or CONNECT authority, as a proxy would send.
    """
    lines = [request_line]
    hdrs = [_hdr_str(h) for h in headers]
    if auto_host and not any(h.lower().startswith("host:") for h in hdrs):
        host = _host_of(request_line)
        if host:
            lines.append("Host: " + host)
    lines.extend(hdrs)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def http_response(status=200, headers=(), content_length=None,
                  content_type="text/plain"):
    """Builds an HTTP response head (bytes, ending with CRLF CRLF)."""
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    hdrs = [_hdr_str(h) for h in headers]
    if content_type and not any(h.lower().startswith("content-type:") for h in hdrs):
        lines.append("Content-Type: " + content_type)
    if content_length is not None and not any(
            h.lower().startswith("content-length:") for h in hdrs):
        lines.append("Content-Length: %d" % content_length)
    lines.extend(hdrs)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def _hdr_str(h):
    if isinstance(h, (tuple, list)):
        return "%s: %s" % (h[0], h[1])
    return h


def _host_of(request_line):
    parts = request_line.split()
    if len(parts) < 2:
        return None
    target = parts[1]
    m = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)", target)
    if m:
        host = m.group(1)
        return host.rsplit("@", 1)[-1] or None
    if parts[0].upper() == "CONNECT":
        return target
    return None


def parse_encapsulated(value):
    """Parses an Encapsulated header value into [(entity, offset), ...].

    Strict: known entity names, integer offsets, increasing, heads first,
    exactly one body-or-null entity, last.
    """
    out = []
    for part in value.split(","):
        part = part.strip()
        m = re.match(r"^([a-z]+-[a-z]+)=([0-9]+)$", part)
        if not m:
            raise ICAPProtocolError("bad Encapsulated element %r" % part)
        name, off = m.group(1), int(m.group(2))
        if name not in ENTITY_HEADS + ENTITY_BODIES:
            raise ICAPProtocolError("unknown Encapsulated entity %r" % name)
        out.append((name, off))
    if not out:
        raise ICAPProtocolError("empty Encapsulated header")
    for i, (name, off) in enumerate(out):
        last = i == len(out) - 1
        if last and name not in ENTITY_BODIES:
            raise ICAPProtocolError("Encapsulated does not end with a body entity: %r" % value)
        if not last and name not in ENTITY_HEADS:
            raise ICAPProtocolError("Encapsulated body entity not last: %r" % value)
        if i == 0 and off != 0:
            raise ICAPProtocolError("Encapsulated first offset is not 0: %r" % value)
        if i > 0 and off <= out[i - 1][1]:
            raise ICAPProtocolError("Encapsulated offsets not increasing: %r" % value)
    return out


class Connection:
    """One ICAP connection (keep-alive).  Reconnects by itself when the
    previous response said "Connection: close" or the server closed an idle
    connection; `conns` counts the TCP connections opened."""

    def __init__(self, host="127.0.0.1", port=1344, timeout=DEFAULT_TIMEOUT,
                 chunk_size=DEFAULT_CHUNK, max_head=MAX_HEAD, max_body=MAX_BODY):
        self.host = host
        self.port = int(port)
        self.timeout = float(timeout)
        self.chunk_size = int(chunk_size)
        self.max_head = max_head
        self.max_body = max_body
        self.sock = None
        self.rbuf = bytearray()
        self.conns = 0
        self._deadline = None
        self._must_reconnect = False
        self._send_error = None

    # -- connection management -------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def connect(self):
        self.close()
        try:
            self.sock = socket.create_connection((self.host, self.port), self.timeout)
        except socket.timeout:
            raise ICAPTimeout("connect to %s:%d timed out" % (self.host, self.port))
        except OSError as e:
            raise ICAPClosed("connect to %s:%d failed: %s" % (self.host, self.port, e))
        self.sock.setblocking(False)
        self.rbuf = bytearray()
        self.conns += 1
        self._must_reconnect = False
        self._send_error = None

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _ensure(self):
        if self.sock is None or self._must_reconnect:
            self.connect()
        elif self.rbuf:
            raise ICAPProtocolError("%d unexpected bytes after the previous response: %r"
                                    % (len(self.rbuf), bytes(self.rbuf[:80])))
        else:
            # an idle keep-alive connection the server has closed: reconnect.
            r, _, _ = select.select([self.sock], [], [], 0)
            if r:
                try:
                    d = self.sock.recv(65536)
                except OSError:
                    d = b""
                if d:
                    raise ICAPProtocolError("unsolicited bytes on an idle connection: %r" % d[:80])
                self.connect()

    # -- low-level I/O with a deadline -----------------------------------
    def _remaining(self):
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise ICAPTimeout("timed out after %.1fs" % self.timeout)
        return left

    def _recv_some(self):
        r, _, _ = select.select([self.sock], [], [], self._remaining())
        if not r:
            raise ICAPTimeout("timed out after %.1fs waiting for the server" % self.timeout)
        try:
            d = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            raise ICAPClosed("connection error while reading: %s" % e)
        if not d:
            if self._send_error:
                raise ICAPClosed("server closed the connection (sending failed: %s)"
                                 % self._send_error)
            raise ICAPClosed("server closed the connection")
        self.rbuf += d
        if len(self.rbuf) > self.max_body + 2 * self.max_head:
            raise ICAPProtocolError("server sent more than %d bytes unread" % len(self.rbuf))

    def _send(self, data):
        """Sends DATA completely, reading (buffering) whatever the server
        sends meanwhile so that neither side can block the other.  When the
        server stops reading and closes (it may have answered early), the rest
        is dropped: the response, if any, is then read from what it sent."""
        if self._send_error:
            return
        view = memoryview(data)
        while view:
            r, w, _ = select.select([self.sock], [self.sock], [], self._remaining())
            if r:
                self._recv_some()
            if w:
                try:
                    n = self.sock.send(view[:256 * 1024])
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as e:
                    self._send_error = e
                    self._must_reconnect = True
                    return
                view = view[n:]
            if not r and not w:
                raise ICAPTimeout("timed out after %.1fs sending" % self.timeout)

    def _read_exact(self, n):
        while len(self.rbuf) < n:
            self._recv_some()
        out = bytes(self.rbuf[:n])
        del self.rbuf[:n]
        return out

    def _read_line(self, limit):
        while True:
            i = self.rbuf.find(b"\r\n")
            if i >= 0:
                if i > limit:
                    raise ICAPProtocolError("line longer than %d bytes" % limit)
                line = bytes(self.rbuf[:i])
                del self.rbuf[:i + 2]
                return line
            if len(self.rbuf) > limit:
                raise ICAPProtocolError("line longer than %d bytes" % limit)
            self._recv_some()

    def _read_head(self):
        while True:
            i = self.rbuf.find(b"\r\n\r\n")
            if i >= 0:
                if i + 4 > self.max_head:
                    raise ICAPProtocolError("response head longer than %d bytes" % self.max_head)
                head = bytes(self.rbuf[:i + 4])
                del self.rbuf[:i + 4]
                return head
            if len(self.rbuf) > self.max_head:
                raise ICAPProtocolError("response head longer than %d bytes" % self.max_head)
            try:
                self._recv_some()
            except ICAPClosed:
                if self.rbuf:
                    raise ICAPClosed("server closed the connection in the middle of a "
                                     "response head: %r" % bytes(self.rbuf[:200]))
                raise

    # -- response parsing --------------------------------------------------
    def _read_response_head(self, resp):
        head = self._read_head()
        resp.raw_head = head
        text = head[:-4].decode("latin-1")
        if "\n" in text.replace("\r\n", "") or "\r" in text.replace("\r\n", ""):
            raise ICAPProtocolError("bare CR or LF in the response head: %r" % text[:200])
        lines = text.split("\r\n")
        m = re.match(r"^ICAP/1\.0 ([0-9]{3})(?: (.*))?$", lines[0])
        if not m:
            raise ICAPProtocolError("bad status line %r" % lines[0])
        resp.status_line = lines[0]
        resp.status = int(m.group(1))
        resp.reason = m.group(2) or ""
        resp.headers = []
        for line in lines[1:]:
            m = re.match(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*)$", line)
            if not m:
                raise ICAPProtocolError("bad response header line %r" % line)
            resp.headers.append((m.group(1), m.group(2)))

    def _read_chunked(self):
        body = bytearray()
        while True:
            line = self._read_line(4096).decode("latin-1")
            m = re.match(r"^([0-9A-Fa-f]+)[ \t]*(;.*)?$", line)
            if not m:
                raise ICAPProtocolError("bad chunk size line %r" % line)
            size = int(m.group(1), 16)
            if size == 0:
                # trailer lines until the empty line
                while True:
                    t = self._read_line(self.max_head)
                    if t == b"":
                        return bytes(body)
            if len(body) + size > self.max_body:
                raise ICAPProtocolError("encapsulated body larger than %d bytes" % self.max_body)
            body += self._read_exact(size)
            if self._read_exact(2) != b"\r\n":
                raise ICAPProtocolError("chunk of %d bytes not followed by CRLF" % size)

    def _read_response(self, allow_continue):
        """Reads one response; returns it.  A 100 Continue is returned as is
        when ALLOW_CONTINUE (the caller decides), else it is an error."""
        resp = Response()
        resp.conn = self.conns
        self._read_response_head(resp)
        if resp.status == 100:
            if not allow_continue:
                raise ICAPProtocolError("unexpected 100 Continue")
            if resp.header("Encapsulated") is not None:
                raise ICAPProtocolError("100 Continue with an Encapsulated header")
            return resp
        if 100 <= resp.status < 200:
            raise ICAPProtocolError("unexpected interim status %r" % resp.status_line)
        encs = resp.header_all("Encapsulated")
        if len(encs) > 1:
            raise ICAPProtocolError("%d Encapsulated headers" % len(encs))
        if encs:
            resp.encapsulated = parse_encapsulated(encs[0])
        if resp.status == 204:
            if resp.encapsulated and resp.encapsulated != [("null-body", 0)]:
                raise ICAPProtocolError("204 response encapsulates %r" % encs[0])
        elif resp.encapsulated:
            heads_len = resp.encapsulated[-1][1]
            if heads_len > self.max_head:
                raise ICAPProtocolError("encapsulated heads longer than %d bytes" % self.max_head)
            resp.http_head = self._read_exact(heads_len)
            for (name, off), (_, nxt) in zip(resp.encapsulated, resp.encapsulated[1:]):
                part = resp.http_head[off:nxt]
                if not part.endswith(b"\r\n\r\n"):
                    raise ICAPProtocolError("encapsulated %s does not end with CRLF CRLF: %r"
                                            % (name, part[-40:]))
            if resp.encapsulated[-1][0] != "null-body":
                resp.body = self._read_chunked()
        elif resp.status == 200:
            raise ICAPProtocolError("200 response without an Encapsulated header")
        conn_hdr = ",".join(resp.header_all("Connection")).lower()
        if "close" in conn_hdr:
            self._must_reconnect = True
        return resp

    def _final_response(self, interim):
        resp = self._read_response(allow_continue=False)
        resp.interim = interim
        return resp

    # -- requests ------------------------------------------------------------
    def send_request(self, method, service="echo", req_head=None, res_head=None,
                     body=None, preview=0, allow204=True, icap_headers=(),
                     host_header=None):
        """Sends one ICAP request and returns the final Response.

        METHOD     "REQMOD", "RESPMOD" or "OPTIONS"
        SERVICE    the service name, may carry "?args"
        REQ_HEAD   bytes of the encapsulated HTTP request head (req-hdr), or None
        RES_HEAD   bytes of the encapsulated HTTP response head (res-hdr), or None
        BODY       bytes of the encapsulated body (req-body / res-body), or None
        PREVIEW    None: no Preview header; N >= 0: "Preview: N" and the
                   preview handshake when there is a body
        ALLOW204   send "Allow: 204"
        ICAP_HEADERS extra ICAP request headers ("Name: value" or pairs)
        """
        method = method.upper()
        if method not in ("REQMOD", "RESPMOD", "OPTIONS"):
            raise ValueError("unknown ICAP method %r" % method)
        self._ensure()
        self._deadline = time.monotonic() + self.timeout
        host = host_header or ("%s:%d" % (self.host, self.port))
        lines = ["%s icap://%s:%d/%s ICAP/1.0" % (method, self.host, self.port, service),
                 "Host: " + host]
        heads = b""
        if method == "OPTIONS":
            body = None
        else:
            if allow204:
                lines.append("Allow: 204")
            if preview is not None:
                lines.append("Preview: %d" % preview)
            enc = []
            if req_head is not None:
                enc.append("req-hdr=%d" % len(heads))
                heads += req_head
            if res_head is not None:
                if method != "RESPMOD":
                    raise ValueError("a res-hdr only goes in RESPMOD")
                enc.append("res-hdr=%d" % len(heads))
                heads += res_head
            if body is not None:
                enc.append("%s=%d" % ("req-body" if method == "REQMOD" else "res-body", len(heads)))
            else:
                enc.append("null-body=%d" % len(heads))
            lines.append("Encapsulated: " + ", ".join(enc))
        lines.extend(_hdr_str(h) for h in icap_headers)
        out = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + heads

        if body is None:
            self._send(out)
            return self._final_response([])
        if preview is None:
            self._send(out + self._chunks(body) + b"0\r\n\r\n")
            return self._final_response([])
        # the preview handshake
        pv, rest = body[:preview], body[preview:]
        if rest:
            self._send(out + self._chunks(pv) + b"0\r\n\r\n")
        else:
            self._send(out + self._chunks(pv) + b"0; ieof\r\n\r\n")
            return self._final_response([])
        first = self._read_response(allow_continue=True)
        if first.status != 100:
            return first
        self._send(self._chunks(rest) + b"0\r\n\r\n")
        return self._final_response([first.status_line])

    def _chunks(self, data):
        out = bytearray()
        for i in range(0, len(data), self.chunk_size):
            piece = data[i:i + self.chunk_size]
            out += b"%x\r\n" % len(piece) + piece + b"\r\n"
        return bytes(out)

    def exchange_raw(self, data, allow_continue=False):
        """Sends DATA (a complete, possibly malformed ICAP request) as is and
        reads one response."""
        self._ensure()
        self._deadline = time.monotonic() + self.timeout
        self._send(data)
        return self._read_response(allow_continue)

    def reqmod(self, service, req_head, body=None, **kw):
        return self.send_request("REQMOD", service, req_head=req_head, body=body, **kw)

    def respmod(self, service, req_head, res_head, body=None, **kw):
        return self.send_request("RESPMOD", service, req_head=req_head,
                                 res_head=res_head, body=body, **kw)

    def options(self, service, **kw):
        return self.send_request("OPTIONS", service, **kw)


def request(port, method="REQMOD", service="echo", host="127.0.0.1",
            request_line="GET http://example.com/ HTTP/1.1", http_headers=(),
            req_head=None, res_head=None, response_status=None, body=None,
            timeout=DEFAULT_TIMEOUT, **kw):
    """One request on a fresh connection; returns the Response."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if req_head is None and method.upper() != "OPTIONS":
        req_head = http_request(request_line, http_headers)
    if res_head is None and response_status and method.upper() == "RESPMOD":
        res_head = http_response(response_status,
                                 content_length=len(body) if body is not None else None)
    with Connection(host, port, timeout) as c:
        return c.send_request(method, service, req_head=req_head, res_head=res_head,
                              body=body, **kw)


# ---------------------------------------------------------------------------
# command line

def _print_response(out, resp, body_only):
    if body_only:
        out.write(resp.body or b"")
        out.flush()
        return
    out.write(resp.status_line.encode("latin-1") + b"\n")
    for n, v in resp.headers:
        out.write(("%s: %s\n" % (n, v)).encode("latin-1"))
    out.write(b"\n")
    if resp.http_head:
        out.write(resp.http_head.replace(b"\r\n", b"\n"))
    if resp.body is not None:
        out.write(resp.body)
        if resp.body and not resp.body.endswith(b"\n"):
            out.write(b"\n")
    out.flush()


def _parse_args(argv):
    p = argparse.ArgumentParser(
        prog="icap_client.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Strict ICAP/1.0 (RFC 3507) test client: sends REQMOD/RESPMOD/OPTIONS "
                    "to icap://HOST:PORT/SERVICE\nthe way Squid does and prints the responses.",
        epilog="""output, per response:
  default      the ICAP status line, the ICAP headers as received (one a line,
               no CR), an empty line, then the encapsulated HTTP head(s) (LF line
               ends) and the decoded body (a newline added if it lacks one)
  --json       one JSON object a line: status, reason, headers [[name, value]...]
               (order and duplicates kept), encapsulated [[entity, offset]...],
               http_head (CRLFs as received), body (UTF-8, else Latin-1: see
               body_encoding), body_len, has_body, interim (["ICAP/1.0 100
               Continue"] after a preview), conn (TCP connection number, from 1)
  --body-only  just the decoded body bytes

exit status: 0 every response read completely; 3 the server closed the
connection, timed out, or sent something unparsable (reason on stderr);
2 usage error.""")
    p.add_argument("--port", type=int, required=True, help="ICAP server port")
    p.add_argument("--host", default="127.0.0.1", help="ICAP server address (default %(default)s)")
    p.add_argument("--service", default="echo", help="service name, may include ?args (default echo)")
    p.add_argument("--method", default="REQMOD", choices=["REQMOD", "RESPMOD", "OPTIONS"])
    p.add_argument("--request-line", default="GET http://example.com/ HTTP/1.1",
                   help="encapsulated HTTP request line (default %(default)r)")
    p.add_argument("--header", action="append", default=[], metavar="'Name: value'",
                   help="HTTP request header (repeatable); a Host header is derived from the "
                        "request line unless given or --no-host")
    p.add_argument("--no-host", action="store_true", help="do not add a Host header by itself")
    p.add_argument("--raw-http", metavar="FILE",
                   help="exact encapsulated HTTP request head bytes (replaces --request-line/--header)")
    p.add_argument("--crlf", action="store_true", help="with --raw-http: convert LF line ends to CRLF")
    p.add_argument("--response-status", type=int, default=None, metavar="CODE",
                   help="RESPMOD: encapsulate res-hdr 'HTTP/1.1 CODE ...' + Content-Type "
                        "(default 200 for RESPMOD; 0 = no res-hdr)")
    p.add_argument("--response-header", action="append", default=[], metavar="'Name: value'",
                   help="extra header of the encapsulated HTTP response (repeatable)")
    p.add_argument("--body", metavar="TEXT", help="encapsulated body, sent chunked")
    p.add_argument("--body-file", metavar="FILE", help="encapsulated body read from FILE")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--preview", type=int, default=0, metavar="N",
                   help="send 'Preview: N' (default 0, as Squid does when OPTIONS said Preview: 0)")
    g.add_argument("--no-preview", action="store_true", help="no Preview header; body sent at once")
    p.add_argument("--no-allow204", action="store_true", help="omit 'Allow: 204'")
    p.add_argument("--icap-header", action="append", default=[], metavar="'Name: value'",
                   help="extra ICAP request header, e.g. 'X-Client-IP: 10.0.0.1' (repeatable)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="seconds for each response (default %(default)s)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="send N requests")
    p.add_argument("--new-connection", action="store_true",
                   help="with --repeat: one TCP connection per request")
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="one JSON object per response per line")
    p.add_argument("--body-only", action="store_true",
                   help="print only the decoded encapsulated body")
    a = p.parse_args(argv)
    if a.body is not None and a.body_file is not None:
        p.error("--body and --body-file are exclusive")
    if a.crlf and not a.raw_http:
        p.error("--crlf goes with --raw-http")
    if a.repeat < 1:
        p.error("--repeat must be >= 1")
    if a.preview < 0:
        p.error("--preview must be >= 0")
    return a


def main(argv=None):
    a = _parse_args(sys.argv[1:] if argv is None else argv)
    out = sys.stdout.buffer
    body = None
    try:
        if a.body is not None:
            body = a.body.encode("utf-8", "surrogateescape")
        elif a.body_file is not None:
            with open(a.body_file, "rb") as f:
                body = f.read()
        raw = None
        if a.raw_http and a.method != "OPTIONS":
            with open(a.raw_http, "rb") as f:
                raw = f.read()
    except OSError as e:
        sys.stderr.write("icap_client: %s\n" % e)
        return 2
    req_head = res_head = None
    if a.method != "OPTIONS":
        if a.raw_http:
            req_head = raw
            if a.crlf:
                req_head = req_head.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        else:
            req_head = http_request(a.request_line, a.header, auto_host=not a.no_host)
        status = a.response_status
        if status is None and a.method == "RESPMOD":
            status = 200
        if status:
            if a.method != "RESPMOD":
                sys.stderr.write("icap_client: --response-status only goes with RESPMOD\n")
                return 2
            res_head = http_response(status, a.response_header,
                                     content_length=len(body) if body is not None else None)
    preview = None if a.no_preview else a.preview
    conn = Connection(a.host, a.port, a.timeout, chunk_size=a.chunk_size)
    try:
        for i in range(a.repeat):
            if a.new_connection and i > 0:
                conn.close()
            resp = conn.send_request(a.method, a.service, req_head=req_head, res_head=res_head,
                                     body=body, preview=preview,
                                     allow204=not a.no_allow204, icap_headers=a.icap_header)
            if a.json:
                out.write(json.dumps(resp.to_json()).encode("ascii") + b"\n")
                out.flush()
            else:
                _print_response(out, resp, a.body_only)
    except ICAPError as e:
        sys.stderr.write("icap_client: request %d: %s\n" % (i + 1, e))
        return 3
    except BrokenPipeError:
        # stdout closed (e.g. | head): stop quietly, like a killed filter.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
