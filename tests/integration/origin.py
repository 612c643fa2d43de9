"""tests/integration/origin.py - the origin web server of the Squid tests.

    origin.py ADDRFILE MARKER

Binds the same free 127.0.0.N on ports 80, 8080 and 443 (plain HTTP, also
inside CONNECT tunnels), writes that address into ADDRFILE once it
listens, and answers every GET/HEAD with "MARKER HOST PORT PATH" and every
POST with "MARKER HOST PORT PATH sha256=HEX len=N" of the body it got
(chunked or not).  Logs one line per request on stderr.  Needs root for
ports 80 and 443.
"""
import hashlib, http.server, os, random, socketserver, sys, threading

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, extra=""):
        body = ("%s %s %s %s%s\n" % (sys.argv[2], self.headers.get("Host", "-"),
                self.server.server_address[1], self.path, extra)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self.answer()
    do_HEAD = do_GET

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        data = self.read_body()
        self.answer(" sha256=%s len=%d" % (hashlib.sha256(data).hexdigest(), len(data)))

    def log_message(self, fmt, *args):
        sys.stderr.write("origin %s:%d %s\n" % (self.server.server_address[0],
                         self.server.server_address[1], fmt % args))
        sys.stderr.flush()

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

candidates = list(range(2, 255))
random.shuffle(candidates)
last = None
for n in candidates:
    addr = "127.0.0.%d" % n
    servers = []
    try:
        for port in (80, 8080, 443):
            servers.append(Server((addr, port), Handler))
    except OSError as e:
        last = e
        for s in servers:
            s.server_close()
        continue
    break
else:
    sys.exit("origin: no free 127.0.0.N with ports 80, 8080 and 443: %s" % last)
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(addr + "\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
servers[0].serve_forever()
