#!/usr/bin/env python3
"""pac_check.py - does an exported PAC file answer as the helper does?
(test tool; the queries come from pac_queries.py)

    python3 pac_check.py [--direct S] [--proxy S] [--allow-proxy S]
                         PAC QUERIES -- HELPER [ARGS...]
    python3 pac_check.py --eval PAC URL [HOST]

QUERIES holds one query a line, "URL HOST [TAG]" (HOST as a browser gives
it to FindProxyForURL: an IPv6 literal without brackets; "#" lines and
blank lines are skipped).  Every query is evaluated with pacparser
(FindProxyForURL(URL, HOST)) and sent to the helper, run once over all of
them through a pipe: "ID DST PORT -" lines (concurrency IDs, no SNI),
where PORT is the URL's explicit port, else its scheme's default (http
and ws 80, https and wss 443, ftp 21), else "-" (unknown).  DST is HOST,
%-escaped the way Squid escapes %DST.

The helper's answer says what the PAC should return: ERR -> the --proxy
string; OK -> the --direct string, or the --allow-proxy string when one is
given and the answer's m365_category is Allow.  The comparison is exact.

Prints every disagreement (URL, HOST, what the PAC said, what the helper
said, TAG), the answers' counts, and the summary
    pac_check: N queries, D disagreements, T s for PAC evaluation
Exit 0 when there is no disagreement, 1 when there is one, 2 when the
check cannot run (no pacparser, a PAC that does not load, a helper that
fails, has no list or does not answer every query).

--eval prints what the PAC returns for one URL (HOST: taken from the URL,
without brackets) and exits 0 (2 on a PAC error).

About pacparser (Debian's python3-pacparser 1.3.6, SpiderMonkey 1.7):
its JavaScript is ES3 (no String.prototype.trim, Object.keys, JSON,
let, ...); find_proxy() without HOST takes everything between "://" and
the next "/" as the host, port and brackets included, so HOST is always
passed; it builds the call FindProxyForURL('URL', 'HOST') as source text,
so a quote is refused and a backslash read as an escape: queries with
either are refused here.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

try:
    import pacparser
except ImportError as e:  # Debian: python3-pacparser
    sys.stderr.write("pac_check: cannot import pacparser under %s (%s); "
                     "install python3-pacparser\n" % (sys.executable, e))
    sys.exit(2)

DEFAULT_PORT = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)")
# what Squid leaves unescaped in %DST (everything else as %XX)
SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "0123456789.-_:[]")


def usage(msg):
    sys.stderr.write("pac_check: %s\n%s" % (msg, __doc__.split("\n\n")[1]))
    sys.exit(2)


def url_host_port(url):
    """(host without brackets, port or None) of a URL."""
    m = URL_RE.match(url)
    if not m:
        raise ValueError("not a URL: %s" % url)
    scheme, auth = m.group(1).lower(), m.group(2)
    auth = auth.rsplit("@", 1)[-1]
    if auth.startswith("["):
        end = auth.find("]")
        if end < 0:
            raise ValueError("unterminated [ in %s" % url)
        host, rest = auth[1:end], auth[end + 1:]
    elif ":" in auth:
        host, rest = auth[:auth.rindex(":")], auth[auth.rindex(":"):]
    else:
        host, rest = auth, ""
    if rest.startswith(":") and rest[1:]:
        if not rest[1:].isdigit():
            raise ValueError("bad port in %s" % url)
        return host, int(rest[1:])
    return host, DEFAULT_PORT.get(scheme)


def squid_escape(host):
    return "".join(c if c in SAFE else "%%%02X" % b
                   for c in host for b in c.encode("utf-8"))


class Stderr:
    """Catches what pacparser's C code prints on stderr (one JSERROR a
    failing query), to show a few lines instead of thousands."""

    def __enter__(self):
        sys.stderr.flush()
        self.file = tempfile.TemporaryFile()
        self.saved = os.dup(2)
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        self.text = self.file.read().decode("utf-8", "replace")
        self.file.close()
        return False


def pac_load(path):
    pacparser.init()
    with Stderr() as err:
        try:
            pacparser.parse_pac_file(path)
            failed = None
        except Exception as e:  # pacparser raises its own error type
            failed = e
    if failed is not None:
        sys.stderr.write("pac_check: %s does not load in pacparser: %s\n%s"
                         % (path, failed, err.text))
        sys.exit(2)


def pac_eval(queries):
    """The PAC's answer to each (url, host): the returned string, or
    "<error: ...>"; the seconds spent; pacparser's stderr."""
    out = []
    with Stderr() as err:
        t0 = time.perf_counter()
        for url, host, _ in queries:
            try:
                out.append(pacparser.find_proxy(url, host))
            except Exception as e:
                out.append("<error: %s>" % e)
        secs = time.perf_counter() - t0
    return out, secs, err.text


def helper_run(cmd, queries):
    """The helper's answer (the line without its ID) to each query."""
    lines = []
    for i, (url, host, _) in enumerate(queries):
        _, port = url_host_port(url)
        lines.append("%d %s %s -\n" % (i, squid_escape(host),
                                       "-" if port is None else port))
    with tempfile.TemporaryFile() as err:
        try:
            p = subprocess.run(cmd, input="".join(lines).encode(),
                               stdout=subprocess.PIPE, stderr=err,
                               timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            sys.stderr.write("pac_check: helper %s: %s\n" % (cmd[0], e))
            sys.exit(2)
        err.seek(0)
        errtext = err.read().decode("utf-8", "replace")
    answers = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        cid, _, rest = line.partition(" ")
        if not cid.isdigit() or int(cid) >= len(queries) or cid in answers:
            sys.stderr.write("pac_check: unexpected helper line: %s\n" % line)
            sys.exit(2)
        answers[cid] = rest
    if any('message="no list loaded"' in a for a in answers.values()):
        sys.stderr.write("pac_check: the helper has no list; its stderr:\n%s"
                         % errtext[-2000:])
        sys.exit(2)
    if p.returncode != 0 or len(answers) != len(queries):
        sys.stderr.write("pac_check: helper exited %d after %d of %d "
                         "answers; its stderr:\n%s" %
                         (p.returncode, len(answers), len(queries),
                          errtext[-2000:]))
        sys.exit(2)
    return [answers[str(i)] for i in range(len(queries))]


def expected(answer, direct, proxy, allow_proxy):
    """What the PAC should say for a helper answer (None: no answer the
    contract allows)."""
    word = answer.split(" ", 1)[0]
    if word == "ERR":
        return proxy, None
    if word != "OK":
        return None, None
    m = re.search(r'(?:^| )m365_category=(?:"([^"]*)"|(\S*))', answer)
    cat = (m.group(1) if m.group(1) is not None else m.group(2)) if m else None
    if allow_proxy is not None and cat == "Allow":
        return allow_proxy, cat
    return direct, cat


def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            w = line.split()
            if len(w) < 2 or len(w) > 3:
                usage("%s:%d: expected URL HOST [TAG]" % (path, no))
            try:
                url_host_port(w[0])
            except ValueError as e:
                usage("%s:%d: %s" % (path, no, e))
            if any(c in w[0] + w[1] for c in "'\\"):
                usage("%s:%d: pacparser cannot pass ' or \\ through" %
                      (path, no))
            out.append((w[0], w[1], w[2] if len(w) == 3 else ""))
    return out


def main(argv):
    if argv[:1] == ["--eval"]:
        if len(argv) not in (3, 4):
            usage("--eval PAC URL [HOST]")
        host = argv[3] if len(argv) == 4 else url_host_port(argv[2])[0]
        pac_load(argv[1])
        res, _, err = pac_eval([(argv[2], host, "")])
        pacparser.cleanup()
        print(res[0])
        if res[0].startswith("<error"):
            sys.stderr.write(err)
            return 2
        return 0
    opts = {"--direct": "DIRECT", "--proxy": "PROXY proxy.example:3128",
            "--allow-proxy": None}
    args = []
    while argv and argv[0] != "--":
        a = argv.pop(0)
        if a in opts:
            if not argv:
                usage("%s needs a value" % a)
            opts[a] = argv.pop(0)
        elif a.startswith("--") and a.split("=", 1)[0] in opts:
            k, v = a.split("=", 1)
            opts[k] = v
        elif a.startswith("-"):
            usage("unknown option %s" % a)
        else:
            args.append(a)
    if len(args) != 2 or len(argv) < 2:
        usage("expected PAC QUERIES -- HELPER [ARGS...]")
    pac, qfile, cmd = args[0], args[1], argv[1:]
    direct, proxy, allow = opts["--direct"], opts["--proxy"], opts["--allow-proxy"]

    queries = read_queries(qfile)
    answers = helper_run(cmd, queries)
    pac_load(pac)
    said, secs, err = pac_eval(queries)
    pacparser.cleanup()

    bad = 0
    counts = {}
    results = {}
    for (url, host, tag), ans, got in zip(queries, answers, said):
        want, cat = expected(ans, direct, proxy, allow)
        key = ans.split(" ", 1)[0] + ("" if cat is None else " " + cat)
        counts[key] = counts.get(key, 0) + 1
        results[got] = results.get(got, 0) + 1
        if got != want:
            bad += 1
            print('DISAGREE: url=%s host=%s: PAC said "%s", helper said "%s"'
                  '%s%s' % (url, host, got, ans,
                            "" if want is None else ' (so "%s")' % want,
                            " [%s]" % tag if tag else ""))
    if err.strip():
        lines = err.strip().splitlines()
        print("pac_check: pacparser printed %d lines on stderr, the first:"
              % len(lines))
        for line in lines[:6]:
            print("    " + line)
    print("pac_check: helper answered %s" % ", ".join(
        "%s %d" % (k, counts[k]) for k in sorted(counts)))
    print("pac_check: PAC said %s" % ", ".join(
        '"%s" %d' % (k, results[k]) for k in sorted(results)))
    print("pac_check: %d queries, %d disagreements, %.2f s for PAC evaluation"
          % (len(queries), bad, secs))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
