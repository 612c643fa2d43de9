#!/usr/bin/python3
"""pac_bench.py - section (g) of `make bench`: how long a browser's PAC
engine takes to decide 10,000 URLs with the PAC file `m365ctl export pac`
writes, against a PAC in the style of Microsoft's Get-PacFile (one
shExpMatch() call per endpoint pattern, in a row).

    pac_bench.py M365CTL [RUNS]

Both PAC files are made from the bundled list with the default policy;
the URLs are the list's own names (exact, children of "*." patterns,
irregular globs), look-alikes and unrelated names, half each, with a few
IP literals.  Each run evaluates every URL once in each file with
pacparser (Debian's python3-pacparser, a SpiderMonkey PAC engine),
alternating the files, and measures the process's CPU time
(time.process_time): the median and spread of RUNS runs (default 5) are
printed, with how many URLs the two files answered differently (the
Get-PacFile style has no ports, apex or never rules: it is there for the
speed, not the answers).
"""
import json
import random
import subprocess
import sys
import tempfile
import time

import pacparser

N = 10000


def endpoints(ctl):
    out = subprocess.run([ctl, "export", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["endpoints"]


def getpacfile_style(eps):
    """One shExpMatch per name pattern, isInNet-free (names only), as
    Get-PacFile writes them: DIRECT on a match, else the proxy."""
    names = sorted({e["endpoint"] for e in eps if e["type"] == "name"})
    lines = ["function FindProxyForURL(url, host) {",
             "  var direct = \"DIRECT\", proxy = \"PROXY proxy.example:3128\";",
             "  host = host.toLowerCase();"]
    for n in names:
        lines.append("  if (shExpMatch(host, \"%s\")) return direct;" % n)
    lines.append("  return proxy;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def urls(eps, rng):
    names = [e["endpoint"] for e in eps if e["type"] == "name"]
    hosts = []
    for n in names:
        if n.startswith("*."):
            hosts.append("a%d.%s" % (rng.randrange(1000), n[2:]))
        elif "*" in n:
            hosts.append(n.replace("*", "t%d" % rng.randrange(100)))
        else:
            hosts.append(n)
    out = []
    for i in range(N):
        k = rng.randrange(100)
        if k < 50:
            h = rng.choice(hosts)
        elif k < 60:
            h = rng.choice(hosts) + ".evil.example"
        elif k < 65:
            h = "52.112.%d.%d" % (rng.randrange(256), rng.randrange(256))
        else:
            h = "www%d.site%d.example" % (rng.randrange(100), i)
        scheme = "https" if rng.randrange(4) else "http"
        out.append(("%s://%s/" % (scheme, h), h))
    return out


def run(path, us):
    pacparser.init()
    pacparser.parse_pac_file(path)
    t0 = time.process_time()
    answers = [pacparser.find_proxy(u, h) for u, h in us]
    t = time.process_time() - t0
    pacparser.cleanup()
    return t, answers


def main(argv):
    ctl = argv[1]
    runs = int(argv[2]) if len(argv) > 2 else 5
    eps = endpoints(ctl)
    us = urls(eps, random.Random(7))
    with tempfile.TemporaryDirectory() as d:
        ours = d + "/m365.pac"
        subprocess.run([ctl, "export", "pac", "--proxy",
                        "PROXY proxy.example:3128", "-o", ours], check=True)
        theirs = d + "/getpacfile.pac"
        with open(theirs, "w") as f:
            f.write(getpacfile_style(eps))
        t_ours, t_theirs = [], []
        for i in range(runs):
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                t, a = run(ours if which == 0 else theirs, us)
                (t_ours if which == 0 else t_theirs).append(t)
                if which == 0:
                    a_ours = a
                else:
                    a_theirs = a
    med = lambda v: sorted(v)[len(v) // 2]
    diff = sum(1 for x, y in zip(a_ours, a_theirs) if x != y)
    print("%d URLs, %d runs, CPU time per run, median (min-max):" % (N, runs))
    print("  m365ctl export pac        %7.1f ms (%.1f-%.1f), %.1f us/URL" %
          (med(t_ours) * 1e3, min(t_ours) * 1e3, max(t_ours) * 1e3,
           med(t_ours) * 1e6 / N))
    print("  Get-PacFile style         %7.1f ms (%.1f-%.1f), %.1f us/URL" %
          (med(t_theirs) * 1e3, min(t_theirs) * 1e3, max(t_theirs) * 1e3,
           med(t_theirs) * 1e6 / N))
    print("  ratio %.2fx; %d of %d URLs answered differently (ports, apex,"
          " IP literals)" % (med(t_ours) / med(t_theirs), diff, N))


if __name__ == "__main__":
    main(sys.argv)
