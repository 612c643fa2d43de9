#!/usr/bin/env python3
"""helper_driver.py - talks to running ext_m365_acl helpers (test tool).

A helper is a directory DIR holding:
    DIR/in   a FIFO that the helper reads as its stdin (the test script keeps
             it open for writing, so the helper never sees EOF)
    DIR/out  the file the helper writes its answers to (its stdout)
    DIR/err  its stderr
Requests get fresh random channel IDs, so several drivers may talk to one
helper and old answers in DIR/out never confuse a new request.

Commands (QUERY is "DST [PORT [SNI]]"; answers are printed without channel):

  ask DIR QUERY [--timeout S]
      Prints the answer.  Exit 1 (printing TIMEOUT) when none comes.

  watch --query Q --from ANSWER [--timeout S] [--interval S]
        [--cmd-out F] [--cmd-err F] DIR... -- CMD [ARGS...]
      Runs CMD (its stdout/stderr to the files), then asks Q of every DIR
      every --interval seconds until each answers something else than ANSWER.
      Prints "rc N" (CMD's exit status), then one line per DIR:
      "NAME MS ANSWER" (MS: milliseconds from the start of CMD to the first
      changed answer) or "NAME TIMEOUT ANSWER".  Exit 0 when all changed.

  steady --query Q --expect ANSWER [--duration S] [--interval S]
         [--at S] DIR... [-- CMD [ARGS...]]
      Sends Q to every DIR every --interval seconds for --duration seconds,
      each request waiting (2 s at most) for its answer; at --at seconds
      starts CMD in the background.  Prints
      "NAME sent N answered M wrong W" per DIR and the distinct answers, and
      "rc N" for CMD.  Exit 0 when every request got ANSWER.

  wait-log FILE REGEX [--timeout S]
      Waits until a line of FILE matches REGEX (Python re); prints it.
      Exit 1 on timeout.

  proxy --target PORT --port-file F --flag FLAG [--drop-on WORD] [--log L]
      A TCP proxy from 127.0.0.1 (a free port, written to F) to
      127.0.0.1:PORT.  While the file FLAG exists, the first client data
      that contains WORD (default HMGET) is not forwarded: FLAG is removed,
      both sides of that connection are closed and "dropped" is logged.
"""
import argparse
import os
import random
import re
import socket
import subprocess
import threading
import sys
import time


class Helper:
    def __init__(self, d):
        self.dir = d
        self.name = os.path.basename(os.path.normpath(d))
        self.out = os.path.join(d, "out")
        try:
            self.pos = os.path.getsize(self.out)
        except OSError:
            self.pos = 0
        self.answers = {}
        self.partial = b""
        # O_NONBLOCK: never hang when no helper reads (ENXIO is raised then).
        self.fd = os.open(os.path.join(d, "in"), os.O_WRONLY | os.O_NONBLOCK)

    def send(self, query):
        ch = str(random.randrange(10 ** 11, 10 ** 12))
        os.write(self.fd, ("%s %s\n" % (ch, query)).encode())
        return ch

    def _read(self):
        try:
            with open(self.out, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return
        self.pos += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            text = line.decode("utf-8", "replace")
            ch, _, rest = text.partition(" ")
            self.answers[ch] = rest

    def wait(self, ch, timeout):
        end = time.monotonic() + timeout
        while True:
            self._read()
            if ch in self.answers:
                return self.answers.pop(ch)
            if time.monotonic() >= end:
                return None
            time.sleep(0.005)

    def ask(self, query, timeout=2.0):
        return self.wait(self.send(query), timeout)


def cmd_ask(a):
    ans = Helper(a.dir).ask(" ".join(a.query), a.timeout)
    if ans is None:
        print("TIMEOUT")
        return 1
    print(ans)
    return 0


def cmd_watch(a):
    helpers = [Helper(d) for d in a.dirs]
    q = " ".join(a.query.split())
    t0 = time.monotonic()
    with open(a.cmd_out, "wb") as o, open(a.cmd_err, "wb") as e:
        rc = subprocess.call(a.cmd, stdout=o, stderr=e, timeout=60)
    print("rc %d" % rc)
    left = {h.name: h for h in helpers}
    last = {h.name: None for h in helpers}
    result = {}
    end = t0 + a.timeout
    while left:
        for name, h in list(left.items()):
            ans = h.ask(q, 2.0)
            last[name] = ans
            if ans is not None and ans != a.from_:
                result[name] = (int((time.monotonic() - t0) * 1000), ans)
                del left[name]
        if not left or time.monotonic() >= end:
            break
        time.sleep(a.interval)
    for h in helpers:
        if h.name in result:
            print("%s %d %s" % (h.name, result[h.name][0], result[h.name][1]))
        else:
            print("%s TIMEOUT %s" % (h.name, last[h.name]))
    return 0 if not left else 1


def cmd_steady(a):
    helpers = [Helper(d) for d in a.dirs]
    q = " ".join(a.query.split())
    stats = {h.name: [0, 0, 0, {}] for h in helpers}
    proc = None
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.duration:
        if a.cmd and proc is None and time.monotonic() - t0 >= a.at:
            proc = subprocess.Popen(a.cmd)
        for h in helpers:
            s = stats[h.name]
            ans = h.ask(q, 2.0)
            s[0] += 1
            if ans is not None:
                s[1] += 1
                s[3][ans] = s[3].get(ans, 0) + 1
                if ans != a.expect:
                    s[2] += 1
        time.sleep(a.interval)
    ok = True
    for h in helpers:
        sent, answered, wrong, seen = stats[h.name]
        print("%s sent %d answered %d wrong %d" % (h.name, sent, answered, wrong))
        for ans, n in sorted(seen.items()):
            print("  %dx %s" % (n, ans))
        ok = ok and sent > 0 and sent == answered and wrong == 0
    if a.cmd:
        if proc is None:
            proc = subprocess.Popen(a.cmd)
        print("rc %d" % proc.wait(timeout=30))
    return 0 if ok else 1


def cmd_wait_log(a):
    rx = re.compile(a.regex)
    end = time.monotonic() + a.timeout
    while True:
        try:
            with open(a.file, "r", errors="replace") as f:
                for line in f:
                    if rx.search(line):
                        print(line.rstrip("\n"))
                        return 0
        except OSError:
            pass
        if time.monotonic() >= end:
            print("TIMEOUT")
            return 1
        time.sleep(0.05)


def cmd_proxy(a):
    lock = threading.Lock()

    def log(msg):
        if a.log:
            with lock, open(a.log, "a") as f:
                f.write(msg + "\n")

    def close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def pump(src, dst, upstream):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if upstream and a.drop_on.encode() in data:
                    with lock:
                        drop = os.path.exists(a.flag)
                        if drop:
                            os.unlink(a.flag)
                    if drop:
                        log("dropped")
                        break
                dst.sendall(data)
        except OSError:
            pass
        close(src, dst)

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    while True:
        c, _ = srv.accept()
        try:
            u = socket.create_connection(("127.0.0.1", a.target), 5)
            u.settimeout(None)
        except OSError:
            c.close()
            continue
        log("connection")
        threading.Thread(target=pump, args=(c, u, True), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, False), daemon=True).start()


def split_cmd(argv):
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def main():
    argv, cmd = split_cmd(sys.argv[1:])
    ap = argparse.ArgumentParser(description="drives ext_m365_acl helpers")
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("ask")
    p.add_argument("dir")
    p.add_argument("query", nargs="+")
    p.add_argument("--timeout", type=float, default=3.0)
    p = sub.add_parser("watch")
    p.add_argument("dirs", nargs="+")
    p.add_argument("--query", required=True)
    p.add_argument("--from", dest="from_", required=True)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--cmd-out", default=os.devnull)
    p.add_argument("--cmd-err", default=os.devnull)
    p = sub.add_parser("steady")
    p.add_argument("dirs", nargs="+")
    p.add_argument("--query", required=True)
    p.add_argument("--expect", required=True)
    p.add_argument("--duration", type=float, default=2.0)
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--at", type=float, default=0.0)
    p = sub.add_parser("wait-log")
    p.add_argument("file")
    p.add_argument("regex")
    p.add_argument("--timeout", type=float, default=3.0)
    p = sub.add_parser("proxy")
    p.add_argument("--target", type=int, required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--flag", required=True)
    p.add_argument("--drop-on", default="HMGET")
    p.add_argument("--log")
    a = ap.parse_args(argv)
    a.cmd = cmd
    if a.what == "watch" and not cmd:
        ap.error("watch needs -- CMD")
    return {"ask": cmd_ask, "watch": cmd_watch, "steady": cmd_steady,
            "wait-log": cmd_wait_log, "proxy": cmd_proxy}[a.what](a)


if __name__ == "__main__":
    sys.exit(main())
