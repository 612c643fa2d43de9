#!/usr/bin/env python3
"""msstub.py - a local stand-in for Microsoft's endpoint web service.

    python3 msstub.py --control CONTROL.json --log REQUESTS.log
                      [--port N] [--port-file FILE] [--root DIR]

Binds 127.0.0.1:N (0, the default, picks a free port, which is printed on
stdout and, with --port-file, written to FILE once the socket listens).

    GET /version/<Instance>?ClientRequestId=GUID
        -> {"instance": "<Instance>", "latest": "<control version>"}
    GET /endpoints/<Instance>?ClientRequestId=GUID[&...]
        -> the bytes of the control "endpoints" file
    GET /changes/<Instance>/<version>?ClientRequestId=GUID
        -> the bytes of the control "changes" file, or, with
           "changes_from" (an endpoints file), Microsoft's change entries
           from that file to the "endpoints" one, all of the control
           version; "[]" when the control has neither

A request without a ClientRequestId GUID is answered 400; any other path 404.
A path under /moved/ is answered as the same path without "/moved" and is
never redirected: the target of a same-host redirect.

CONTROL.json is read again on every request:

    {"version": "2025120100",
     "endpoints": "tests/fixtures/worldwide-2025-12-01.json",
     "mode": "ok" | "truncated" | "empty" | "429" | "500" | "redirect",
     "version_mode": "ok" | "truncated" | "empty" | "429" | "500" |
                     "redirect",
     "retry_after": 120,
     "location": "http://127.0.0.1:N/moved/endpoints/Worldwide?...",
     "delay": 0}

"mode" applies to /endpoints, "version_mode" (default "ok") to /version,
"changes_mode" (default "ok") to /changes:
"truncated" serves the first half of the body, "empty" serves "[]", "429"
answers 429 Too Many Requests with Retry-After (omitted when retry_after is
null; any value, such as an HTTP-date, is sent as it is), "500" answers
500, "redirect" answers 302 Found with Location: the control "location".
"delay" (seconds, default 0) holds every /endpoints answer back that long.
A relative "endpoints" path is taken from --root (default: the current
directory).

Every request appends one line "METHOD PATH" (the path with its query
string) to REQUESTS.log before it is answered, so a test can tell whether
/endpoints was downloaded.
"""
import argparse
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
LOG_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server_version = "msstub/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the request log is ours
        pass

    def record(self):
        with LOG_LOCK:
            with open(self.server.args.log, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))

    def control(self):
        with open(self.server.args.control) as f:
            return json.load(f)

    def send(self, status, body, ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def apply(self, mode, ctl, body):
        """Answers body according to mode."""
        if mode == "truncated":
            self.send(200, body[: len(body) // 2])
        elif mode == "empty":
            self.send(200, b"[]")
        elif mode == "429":
            ra = ctl.get("retry_after", 120)
            hdr = () if ra is None else (("Retry-After", str(ra)),)
            self.send(429, b'{"error":"Too Many Requests"}', headers=hdr)
        elif mode == "500":
            self.send(500, b'{"error":"Internal Server Error"}')
        elif mode == "redirect":
            self.send(302, b'{"moved":true}',
                      headers=(("Location", ctl.get("location", "")),))
        else:
            self.send(200, body)

    @staticmethod
    def mode(ctl, key, moved):
        """The control's mode; a moved request is never redirected again."""
        m = ctl.get(key, "ok")
        return "ok" if moved and m == "redirect" else m

    def do_GET(self):
        self.record()
        try:
            ctl = self.control()
        except (OSError, ValueError) as e:
            self.send(500, ("bad control file: %s\n" % e).encode(), "text/plain")
            return
        url = urllib.parse.urlsplit(self.path)
        moved = url.path.startswith("/moved/")
        if moved:
            url = url._replace(path=url.path[len("/moved"):])
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "changes" and parts[1] and parts[2]:
            parts = parts[:2]
        elif len(parts) != 2 or parts[0] not in ("version", "endpoints") or not parts[1]:
            self.send(404, b'{"error":"not found"}')
            return
        ids = query.get("ClientRequestId", [])
        if len(ids) != 1 or not GUID.match(ids[0]):
            self.send(400, b'{"error":"ClientRequestId must be a GUID"}')
            return
        kind, instance = parts
        if kind == "version":
            body = json.dumps({"instance": instance,
                               "latest": ctl.get("version", "")}).encode()
            self.apply(self.mode(ctl, "version_mode", moved), ctl, body)
            return
        try:
            if kind == "changes":
                body = self.changes(ctl)
                self.apply(self.mode(ctl, "changes_mode", moved), ctl, body)
                return
            body = self.read(ctl.get("endpoints", ""))
        except OSError as e:
            self.send(500, ("cannot read: %s\n" % e).encode(), "text/plain")
            return
        time.sleep(float(ctl.get("delay", 0)))
        self.apply(self.mode(ctl, "mode", moved), ctl, body)

    do_HEAD = do_GET

    def read(self, path):
        if not os.path.isabs(path):
            path = os.path.join(self.server.args.root, path)
        with open(path, "rb") as f:
            return f.read()

    def changes(self, ctl):
        """The control's /changes answer (see the module's text)."""
        if "changes" in ctl:
            return self.read(ctl["changes"])
        if "changes_from" not in ctl:
            return b"[]"
        old = {s["id"]: s for s in json.loads(self.read(ctl["changes_from"]))}
        new = {s["id"]: s for s in json.loads(self.read(ctl["endpoints"]))}
        out = []
        for i in sorted(set(old) | set(new)):
            o, n = old.get(i, {}), new.get(i, {})
            e = {"id": len(out) + 1, "endpointSetId": i,
                 "version": ctl.get("version", "")}
            add = {k: sorted(set(n.get(k, [])) - set(o.get(k, [])))
                   for k in ("urls", "ips")}
            rem = {k: sorted(set(o.get(k, [])) - set(n.get(k, [])))
                   for k in ("urls", "ips")}
            e["disposition"] = "Add" if not o else "Remove" if not n else "Change"
            if any(add.values()):
                e["add"] = {k: v for k, v in add.items() if v}
            if any(rem.values()):
                e["remove"] = {k: v for k, v in rem.items() if v}
            if e["disposition"] != "Change" or "add" in e or "remove" in e:
                out.append(e)
        return json.dumps(out).encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--control", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--root", default=os.getcwd())
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.args = args
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
