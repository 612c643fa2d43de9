#!/usr/bin/python3
"""tests/integration/squid_export_check.py - Squid's m365_bypass against
the helper, request by request (test tool of test_export_squid.sh).

    squid_export_check.py --proxy PORT --log ACCESS_LOG --dir DIR
                          [--list JSON] [--derived N] [--jobs N]
                          -- HELPER [ARGS...]

Sends every case through the running Squid on 127.0.0.1:PORT with one
curl -Z (parallel transfers, --jobs at a time; its -K config is DIR/curl.cfg),
plain (GET http://HOST:PORT/) or as a tunnel (CONNECT HOST:PORT), each
tagged with an X-Case header; a few (RAW) are written on a socket as they
are, for hosts curl would rewrite first.  Squid must log with

    logformat m365chk %{X-Case}>h %>rm %'>rd %>rP %>Hs %Ss

into ACCESS_LOG, so that the host Squid itself saw (after its own and
curl's normalising: lower case, trailing dots, numeric IPv4 spellings,
IPv4-mapped IPv6) is known.  Then runs HELPER once, over a pipe, with one
line "ID HOST PORT" per distinct question, HOST escaped as Squid's %DST is
(rfc1738: "%", "[", "]" and the other unsafe characters as %XX).

The cases: a fixed set of hand-written names, IP literals and ports (exact
Microsoft names, *.x children and apexes, irregular globs, look-alikes,
the local-list rules of test_export_squid.sh, IPv4/IPv6 in and out of
ranges, listed and unlisted ports) and, with --list, names and addresses
derived from every endpoint set of that JSON (about --derived N of them,
default 200).

Squid "let it through" when its answer is not 407/403 (with no helper and
never_direct, an allowed request ends in 500/502/503: nothing to forward
to).  The check: allowed exactly when the helper answers OK for the host
Squid saw.  Prints one "DISAGREE ..." line per disagreement, "NOTE ..."
lines where the helper's answer for the host as written in the URL differs
from its answer for the host Squid saw (Squid normalised the name before
any ACL looked at it), "ERROR ..." for requests with no usable answer, and
one line per request into DIR/results.txt, "MODE HOST PORT CODE
through|denied|error OK|ERR" (HOST as in the URL, the helper's word for the
host Squid saw), and a last line "checked N requests (P plain, C CONNECT,
A allowed by Squid, D denied): X disagreements, E errors".  Exit 0 when X
and E are 0, 1 otherwise, 2 on a usage or setup error (the helper did not
answer every question).
"""
import argparse
import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import time

PORTS = (443, 80, 8080, 25)

# Hand-written hosts: (host, extra ports beyond PORTS).
MANUAL = [
    # exact Microsoft names (set 1, 2, 12, 46, 64, ...)
    ("teams.microsoft.com", ()), ("outlook.office365.com", (587, 993, 143)),
    ("outlook.office.com", ()), ("outlook.cloud.microsoft", ()),
    ("smtp.office365.com", (587, 995)), ("office.live.com", ()),
    ("compliance.microsoft.com", ()), ("teams.cloud.microsoft", ()),
    ("officeapps.live.com", ()), ("admin.microsoft.com", ()), ("aka.ms", ()),
    ("account.activedirectory.windowsazure.com", ()),
    # children of *.x patterns
    ("a.teams.microsoft.com", ()), ("x.y.teams.microsoft.com", ()),
    ("a_b.teams.microsoft.com", ()), ("meet.lync.com", ()),
    ("contoso.sharepoint.com", ()), ("contoso-my.sharepoint.com", ()),
    ("a.mail.protection.outlook.com", ()),
    ("contoso-com.mail.protection.outlook.com", ()),
    ("a.b.protection.outlook.com", ()), ("x.mx.microsoft", ()),
    ("a.officeapps.live.com", ()), ("login.auth.microsoft.com", ()),
    ("www.office.com", ()), ("x.teams.cloud.microsoft", ()),
    ("eu.online.office.com", ()), ("x.security.microsoft.com", ()),
    # apexes of *.x patterns (a bypass only when listed on their own)
    ("sharepoint.com", ()), ("lync.com", ()),
    ("mail.protection.outlook.com", ()), ("protection.outlook.com", ()),
    ("mx.microsoft", ()), ("auth.microsoft.com", ()), ("msidentity.com", ()),
    ("online.office.com", ()), ("security.microsoft.com", ()),
    ("protection.office.com", ()), ("cloud.microsoft", ()),
    # irregular globs (the 2021 list, Default): *cdn.onenote.net,
    # *-files.sharepoint.com, autodiscover.*.onmicrosoft.com
    ("cdn.onenote.net", ()), ("abccdn.onenote.net", ()),
    ("a.cdn.onenote.net", ()), ("onenote.net", ()),
    ("cdn.onenote.net.evil.example", ()), ("cdnxonenote.net", ()),
    ("contoso-files.sharepoint.com", ()), ("-files.sharepoint.com", ()),
    ("contoso-myfiles.sharepoint.com", ()), ("files.sharepoint.com", ()),
    ("contoso-files.sharepoint.com.evil.example", ()),
    ("autodiscover.contoso.onmicrosoft.com", ()),
    ("autodiscover.a.b.onmicrosoft.com", ()),
    ("autodiscover.onmicrosoft.com", ()),
    ("xautodiscover.contoso.onmicrosoft.com", ()),
    ("autodiscover.contoso.onmicrosoft.com.evil.example", ()),
    ("autodiscoverxcontoso.onmicrosoft.com", ()),
    # look-alikes
    ("teams.microsoft.com.evil.example", ()), ("xteams.microsoft.com", ()),
    ("teams-microsoft.com", ()), ("teamsxmicrosoft.com", ()),
    ("teams.microsoftxcom", ()), ("evilsharepoint.com", ()),
    ("sharepoint.com.evil.example", ()), ("fooxlync.com", ()),
    ("foo.lyncxcom", ()), ("outlook.office365.com.evil.example", ()),
    ("xoutlook.office365.com", ()), ("evil.example", ()),
    ("example.com", ()),
    # case and a trailing dot
    ("TEAMS.Microsoft.COM", ()), ("teams.microsoft.com.", ()),
    ("A.Teams.Microsoft.Com.", ()), ("Contoso.SharePoint.com", ()),
    ("a.zoom.us.", ()),
    # the local list of test_export_squid.sh
    ("a.zoom.us", ()), ("x.y.zoom.us", ()), ("zoom.us", ()),
    ("zoom.us.evil.example", ()), ("evilzoom.us", ()),
    ("meet1.example.net", ()), ("meet42.example.net", ()),
    ("meet.example.net", ()), ("xmeet1.example.net", ()),
    ("meet1.example.net.evil.example", ()), ("a.meet1.example.net", ()),
    ("meetx1.example.net", ()), ("example.net", ()),
    ("MEET7.Example.NET", ()),
    ("10.example.com", ()), ("x10.example.com", ()),
    ("10.0.0.1", ()), ("10.255.0.1", ()), ("110.0.0.1", ()),
    # IPv4 literals in and out of ranges
    ("52.112.0.1", (3478,)), ("52.112.1.1", ()), ("52.112.1.255", ()),
    ("52.112.2.1", ()), ("52.115.255.254", ()), ("52.116.0.1", ()),
    ("52.111.255.255", ()), ("52.122.0.1", ()),
    ("13.107.6.152", ()), ("13.107.6.153", (587,)), ("13.107.6.154", ()),
    ("13.107.6.151", ()), ("13.107.136.1", ()), ("13.107.6.192", ()),
    ("13.107.6.193", ()), ("40.92.0.1", ()), ("40.107.255.1", ()),
    ("52.100.0.1", ()), ("203.0.113.5", ()), ("203.0.113.255", ()),
    ("203.0.114.1", ()), ("203.0.112.255", ()), ("1.2.3.4", ()),
    # IPv6 literals in and out of ranges (IPv4-mapped ones too)
    ("2603:1027::1", ()), ("2603:1027:0:ffff::1", ()),
    ("2603:1027:1::1", ()), ("2603:1028::1", ()), ("2620:1ec:4::192", ()),
    ("2620:1ec:4::193", ()), ("2001:db8:abcd::1", ()),
    ("2001:db8:abcd:ffff::1", ()), ("2001:db8:abce::1", ()),
    ("2001:db8:abcc:ffff::1", ()), ("2001:DB8:ABCD::2", ()),
    ("2001:0db8:abcd:0001::5", ()), ("2001:db8:abcd:1::5", ()),
    ("::ffff:52.112.0.1", ()), ("::ffff:52.112.1.1", ()),
    ("::ffff:203.0.113.9", ()), ("::ffff:10.0.0.1", ()), ("::1", ()),
    # the IP never regex of test_export_squid.sh's run e
    ("52.112.0.9", ()), ("::ffff:52.112.0.9", ()),
    # written as such, rewritten by curl (and Squid) before any ACL:
    # several trailing dots, a %-escape, numeric IPv4 spellings (not IP
    # literals for the helper; 52.112.0.1 and 203.0.113.5 for Squid)
    ("x.teams.microsoft.com..", ()), ("teams%2emicrosoft.com", ()),
    ("064.112.0.1", ()), ("879755265", ()), ("0x34.0x70.0.1", ()),
    ("0313.0.0161.5", ()),
]

# Hosts asked at port 443 only: names that look like IPv4 literals but are
# not (Squid keeps them as names), so a guard by regex may let a dst acl
# look them up in the DNS.
MANUAL_443 = ["52.112.0.09", "999.1.1.1", "52.112.0.256", "203.0.113.09"]

# Requests written on a socket as they are (curl would decode the %-escape,
# drop the trailing dots, lower the case or rewrite the number first).
RAW = [("GET", "teams%2emicrosoft.com", 443),
       ("CONNECT", "teams%2emicrosoft.com", 443),
       ("GET", "a.zoom.us%2e", 443),
       ("GET", "x.teams.microsoft.com..", 80),
       ("CONNECT", "x.teams.microsoft.com..", 443),
       ("CONNECT", "TEAMS.MICROSOFT.COM", 443),
       ("GET", "064.112.0.1", 443),
       ("CONNECT", "0x34.0x70.0.1", 443),
       ("CONNECT", "0313.0.0161.5", 443),
       ("CONNECT", "::ffff:52.112.0.1", 443),
       ("CONNECT", "2603:1027:0:0:0:0:0:1", 443)]


def derived(path, limit):
    """Hosts and ports from every set of a Microsoft JSON: each name
    pattern instantiated (a child and the apex of *.x, '*' as "m365t"
    and as nothing elsewhere), the first address of each range and the
    one after it; at a port of the set and at one it does not have.
    Sampled down to about limit (host, port) pairs."""
    with open(path) as f:
        sets = json.load(f)
    out = []
    for s in sets:
        ports = []
        for part in str(s.get("tcpPorts", "")).split(","):
            part = part.strip()
            if part:
                ports.append(int(part.split("-")[0]))
        inside = ports[0] if ports else 443
        outside = next(p for p in (8080, 25, 80, 443, 8443) if p not in ports)
        hosts = []
        for u in s.get("urls", []):
            if "*" not in u:
                hosts.append(u)
            elif u.startswith("*.") and "*" not in u[2:]:
                hosts += ["m365t." + u[2:], u[2:]]
            else:
                hosts += [u.replace("*", "m365t"), u.replace("*", "")]
        for c in s.get("ips", []):
            n = ipaddress.ip_network(c, strict=False)
            hosts.append(str(n.network_address))
            after = int(n.broadcast_address) + 1
            if after < (1 << n.max_prefixlen):
                hosts.append(str(ipaddress.ip_address(after)
                                 if n.version == 4
                                 else ipaddress.IPv6Address(after)))
        for i, h in enumerate(hosts):
            out.append((h, inside if i % 2 == 0 else outside))
            out.append((h, outside if i % 2 == 0 else inside))
    if len(out) > limit:
        step = len(out) / float(limit)
        out = [out[int(i * step)] for i in range(limit)]
    return out


def url_host(h):
    return "[%s]" % h if ":" in h else h


UNSAFE = set('<>"#%{}|\\^~[]`\' ')


def squid_escape(s):
    """What Squid's %DST looks like on the helper's line (rfc1738)."""
    return "".join("%%%02X" % ord(c) if c in UNSAFE or ord(c) <= 0x20
                   or ord(c) >= 0x7F else c for c in s)


def build_requests(list_json, limit):
    pairs = []
    for h, extra in MANUAL:
        for p in PORTS + tuple(extra):
            pairs.append((h, p))
    pairs += [(h, 443) for h in MANUAL_443]
    if list_json:
        seen = set(pairs)
        for hp in derived(list_json, limit):
            if hp not in seen:
                seen.add(hp)
                pairs.append(hp)
    reqs = [{"id": i + 1, "host": h, "port": p, "mode": m, "raw": True}
            for i, (m, h, p) in enumerate(RAW)]
    for i, (h, p) in enumerate(pairs):
        # 443 in both forms; the other ports alternate.
        modes = ("GET", "CONNECT") if p == 443 else \
            (("GET",) if i % 2 == 0 else ("CONNECT",))
        for m in modes:
            reqs.append({"id": len(reqs) + 1, "host": h, "port": p,
                         "mode": m, "raw": False})
    return reqs


def curl_block(proxy, r):
    """The curl config (-K) lines of one request."""
    u = "http://%s:%d/" % (url_host(r["host"]), r["port"])
    # A plain request on port 80 without the port: Squid's %PORT is 80.
    if r["mode"] == "GET" and r["port"] == 80 and r["id"] % 3 == 0:
        u = "http://%s/" % url_host(r["host"])
    r["url"] = u
    lines = ['url = "%scase/%d"' % (u, r["id"]),
             'proxy = "http://127.0.0.1:%d"' % proxy,
             'output = "/dev/null"', "globoff", "silent", "max-time = 5",
             'write-out = "%{http_code} %{http_connect} %{url_effective}\\n"']
    if r["mode"] == "CONNECT":
        lines += ["proxytunnel", 'proxy-header = "X-Case: %d"' % r["id"]]
    else:
        lines.append('header = "X-Case: %d"' % r["id"])
    return "\n".join(lines) + "\n"


def run_raw(proxy, r):
    """One request of RAW, written as it is on a socket."""
    hp = "%s:%d" % (url_host(r["host"]), r["port"])
    if r["mode"] == "CONNECT":
        r["url"] = "raw CONNECT " + hp
        req = "CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (hp, hp)
    else:
        r["url"] = "raw GET http://%s/" % hp
        req = "GET http://%s/ HTTP/1.1\r\nHost: %s\r\n" % (hp, hp)
    req += "X-Case: %d\r\nConnection: close\r\n\r\n" % r["id"]
    r["code"] = "000"
    try:
        with socket.create_connection(("127.0.0.1", proxy), 5) as s:
            s.settimeout(5)
            s.sendall(req.encode())
            data = b""
            while b"\r\n" not in data:
                more = s.recv(4096)
                if not more:
                    break
                data += more
        w = data.split(b"\r\n")[0].split()
        if len(w) >= 2 and w[1].isdigit():
            r["code"] = w[1].decode()
    except OSError:
        pass


def run_curl(proxy, reqs, jobs, env, cfg):
    """All requests through one curl -Z (those of RAW on sockets); sets
    each request's code."""
    for r in reqs:
        if r["raw"]:
            run_raw(proxy, r)
    reqs = [r for r in reqs if not r["raw"]]
    with open(cfg, "w") as f:
        f.write("next\n".join(curl_block(proxy, r) for r in reqs))
    p = subprocess.run(["curl", "-Z", "--parallel-max", str(jobs),
                        "-K", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, env=env,
                       universal_newlines=True, timeout=120)
    byid = {r["id"]: r for r in reqs}
    for line in p.stdout.splitlines():
        w = line.split()
        m = re.search(r"/case/([0-9]+)$", w[-1]) if len(w) == 3 else None
        if not m or int(m.group(1)) not in byid:
            continue
        r = byid[int(m.group(1))]
        r["code"] = w[1] if r["mode"] == "CONNECT" and w[1] != "000" \
            else w[0]
    for r in reqs:
        r.setdefault("code", "000")


def read_log(path, want, timeout):
    """{case id: (method, host, port, status, squid code)} of ACCESS_LOG,
    waiting up to timeout seconds until every wanted id is there."""
    deadline = time.time() + timeout
    while True:
        got = {}
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    w = line.split()
                    if len(w) >= 6 and w[0].isdigit():
                        got[int(w[0])] = tuple(w[1:6])
        except OSError:
            pass
        if want <= set(got) or time.time() > deadline:
            return got
        time.sleep(0.2)


def ask_helper(cmd, questions):
    """{(host, port): answer line} from one helper process."""
    keys = sorted(questions)
    lines = "".join("%d %s %d\n" % (i + 1, k[0], k[1])
                    for i, k in enumerate(keys))
    p = subprocess.run(cmd, input=lines, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=60)
    ans = {}
    for line in p.stdout.splitlines():
        w = line.split(" ", 1)
        if len(w) == 2 and w[0].isdigit() and 0 < int(w[0]) <= len(keys):
            ans[keys[int(w[0]) - 1]] = w[1]
    if p.returncode != 0 or len(ans) != len(keys):
        sys.stderr.write("helper: exit %d, %d answers of %d: %s\n" %
                         (p.returncode, len(ans), len(keys),
                          p.stderr.strip()[-500:]))
        return None
    return ans


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--list")
    ap.add_argument("--derived", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("helper", nargs="+")
    a = ap.parse_args()

    reqs = build_requests(a.list, a.derived)
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy",
                                "no_proxy")}
    run_curl(a.proxy, reqs, a.jobs, env, os.path.join(a.dir, "curl.cfg"))

    # Denied requests are logged too (TCP_DENIED/407); requests Squid
    # refused to parse may not be.
    log = read_log(a.log, {r["id"] for r in reqs if r["code"] != "000"}, 10)
    questions = set()
    for r in reqs:
        e = log.get(r["id"])
        r["squid_host"] = e[1] if e else None
        r["squid_port"] = int(e[2]) if e and e[2].isdigit() else r["port"]
        r["written"] = (squid_escape(url_host(r["host"])), r["port"])
        questions.add(r["written"])
        if r["squid_host"]:
            r["seen"] = (squid_escape(r["squid_host"]), r["squid_port"])
            questions.add(r["seen"])
    ans = ask_helper(a.helper, questions)
    if ans is None:
        return 2

    bad = errors = allowed = 0
    notes = set()
    results = open(os.path.join(a.dir, "results.txt"), "w")
    for r in reqs:
        code = r["code"]
        if code in ("000", "400") or not r["squid_host"]:
            errors += 1
            print("ERROR %s %s: squid %s, logged %s" %
                  (r["mode"], r["url"], code, log.get(r["id"])))
            results.write("%s %s %d %s error -\n" %
                          (r["mode"], r["host"], r["port"], code))
            continue
        through = code not in ("403", "407")
        allowed += through
        seen = ans.get(r["seen"], "(no answer)")
        written = ans.get(r["written"], "(no answer)")
        results.write("%s %s %d %s %s %s\n" %
                      (r["mode"], r["host"], r["port"], code,
                       "through" if through else "denied", seen.split()[0]))
        ok = seen.startswith("OK")
        if through != ok:
            bad += 1
            print("DISAGREE %s %s port %d: squid %s (%s), squid saw host "
                  "%s port %d, helper \"%s %d\" -> %s" %
                  (r["mode"], r["host"], r["port"], code,
                   "let through" if through else "denied", r["squid_host"],
                   r["squid_port"], r["seen"][0], r["seen"][1], seen))
        if written.split()[0:1] != seen.split()[0:1] and \
                (r["host"], r["port"]) not in notes:
            notes.add((r["host"], r["port"]))
            print("NOTE %s port %d: Squid saw it as %s; helper says %s for "
                  "%s as written but %s for %s" %
                  (r["host"], r["port"], r["squid_host"],
                   written.split()[0], r["written"][0], seen.split()[0],
                   r["seen"][0]))
    results.close()
    plain = sum(r["mode"] == "GET" for r in reqs)
    print("checked %d requests (%d plain, %d CONNECT, %d allowed by Squid, "
          "%d denied): %d disagreements, %d errors" %
          (len(reqs), plain, len(reqs) - plain, allowed,
           len(reqs) - allowed - errors, bad, errors))
    return 1 if bad or errors else 0


if __name__ == "__main__":
    sys.exit(main())
