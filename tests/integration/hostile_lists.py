#!/usr/bin/env python3
"""hostile_lists.py - endpoint lists that would widen the bypass (test tool).

    python3 hostile_lists.py OUTDIR BASE.json [REAL.json...]

Writes into OUTDIR one Microsoft endpoint list (/endpoints/<Instance> JSON)
per case: BASE (a real list, tests/fixtures/worldwide-2025-12-01.json) with
one hostile change in an Optimize or Allow set (an existing set changed, or
a new set added), so that the default policy (Optimize,Allow) selects it.
Every hostile change is refused by the breadth limits of lib/m365_breadth.h:

    - no IPv4 range wider than /12, no IPv6 range wider than /29;
    - at most 2^24 IPv4 addresses over all the sets checked;
    - no name pattern whose fixed part is a public suffix or shorter;
    - no tcpPorts or udpPorts covering more than half the port space.

Controls (expect "accepted") sit just inside the limits, or put a broad
pattern where the policy does not look (a Default set); every REAL.json is
copied as is as a control (a real list must load).

OUTDIR/cases.json is the manifest, one object per check:

    {"name": "v4_slash11", "file": "v4_slash11.json",
     "probe": ["10.1.2.3", "443"],   # a destination the hostile list would
                                      # wrongly let through (ERR in BASE)
     "expect": "refused" | "accepted",
     "set": 1 | null,                 # the set a refusal must name (null:
                                      # any, e.g. for a total over sets)
     "index": 0 | null,               # its position in the array (a JSON
                                      # path "$[0]" names it too)
     "categories": null | "Optimize,Allow,Default",   # --categories to use
     "paths": ["list", "import", "update", "redis"],  # ways it arrives
     "answer": null | "^OK "}         # accepted: the probe's answer (regex)

All output is deterministic (same input, same bytes).
"""
import copy
import ipaddress
import json
import os
import shutil
import sys

V4_TOTAL = 1 << 24
ALL_PATHS = ["list", "import", "update", "redis"]


def v4_totals(doc, cats=("Optimize", "Allow")):
    """(sum of the sizes of every IPv4 range, size of their union) over
    the sets of the categories."""
    nets = []
    for s in doc:
        if s.get("category") in cats:
            for ip in s.get("ips", []):
                n = ipaddress.ip_network(ip, strict=False)
                if n.version == 4:
                    nets.append(n)
    total = sum(n.num_addresses for n in nets)
    union = sum(n.num_addresses for n in ipaddress.collapse_addresses(nets))
    return total, union


def find_set(doc, sid):
    for s in doc:
        if s.get("id") == sid:
            return s
    raise SystemExit("hostile_lists.py: BASE has no set %d" % sid)


def new_set(sid, category, area="Common", urls=None, ips=None,
            tcp="443", udp=None):
    s = {"id": sid, "serviceArea": area,
         "serviceAreaDisplayName": "Microsoft 365 Common and Office Online"}
    if urls is not None:
        s["urls"] = urls
    if ips is not None:
        s["ips"] = ips
    if tcp is not None:
        s["tcpPorts"] = tcp
    if udp is not None:
        s["udpPorts"] = udp
    s.update({"expressRoute": False, "category": category, "required": False,
              "notes": "hostile_lists.py"})
    return s


def slash20s(first_octet, count):
    """count distinct /20s from FIRST.0.0.0 on (16 per /16)."""
    out = []
    base = int(ipaddress.IPv4Address("%d.0.0.0" % first_octet))
    for i in range(count):
        out.append("%s/20" % ipaddress.IPv4Address(base + (i << 12)))
    return out


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: hostile_lists.py OUTDIR BASE.json [REAL.json...]\n")
        return 2
    outdir, basefile, reals = argv[1], argv[2], argv[3:]
    with open(basefile, "rb") as f:
        base = json.loads(f.read())
    os.makedirs(outdir, exist_ok=True)
    cases = []

    def add(name, mutate, probe, expect="refused", sid=None,
            categories=None, paths=None, answer=None):
        doc = copy.deepcopy(base)
        mutate(doc)
        fname = name + ".json"
        with open(os.path.join(outdir, fname), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        idx = None
        if sid is not None:
            idx = [i for i, s in enumerate(doc) if s.get("id") == sid][0]
        cases.append({"name": name, "file": fname, "probe": probe,
                      "expect": expect, "set": sid, "index": idx,
                      "categories": categories,
                      "paths": paths or ALL_PATHS, "answer": answer})

    def add_ips(sid, ips):
        def m(doc):
            find_set(doc, sid).setdefault("ips", []).extend(ips)
        return m

    def add_urls(sid, urls):
        def m(doc):
            find_set(doc, sid).setdefault("urls", []).extend(urls)
        return m

    def set_field(sid, field, value):
        def m(doc):
            find_set(doc, sid)[field] = value
        return m

    def append(*sets):
        def m(doc):
            doc.extend(copy.deepcopy(list(sets)))
        return m

    # --- IPv4 ranges (set 1: Exchange Optimize, TCP 80,443) ----------------
    add("v4_all_slash8", add_ips(1, ["%d.0.0.0/8" % n for n in range(256)]),
        ["8.8.8.8", "443"], sid=1)
    add("v4_default_route", add_ips(1, ["0.0.0.0/0"]), ["8.8.8.8", "443"], sid=1)
    add("v4_slash11", add_ips(46, ["10.0.0.0/11"]), ["10.1.2.3", "443"], sid=46)
    add("v4_new_set_slash9",
        append(new_set(901, "Allow", ips=["100.0.0.0/9"], tcp="80,443")),
        ["100.1.2.3", "443"], sid=901)

    # The total: BASE's Optimize/Allow IPv4 ranges (per range, and their
    # union) plus distinct, legal /20s from 11.0.0.0/8 (not in BASE).
    total, union = v4_totals(base)
    for n in slash20s(11, 4096):
        if any(ipaddress.ip_network(n).overlaps(ipaddress.ip_network(b))
               for s in base for b in s.get("ips", [])
               if ":" not in b):
            raise SystemExit("hostile_lists.py: 11.0.0.0/8 overlaps BASE")
    # 4096 /20s (2^24 addresses) on top of BASE.
    add("v4_4096_slash20", add_ips(12, slash20s(11, 4096)),
        ["11.0.0.1", "443"], sid=None)
    # Just over 2^24 even counting BASE's overlapping ranges once (union).
    k_over = (V4_TOTAL - union) // 4096 + 1
    add("v4_total_just_over", append(
        new_set(902, "Allow", ips=slash20s(11, k_over), tcp="443")),
        ["11.0.0.1", "443"], sid=None)
    # One /20 more than the control below: just over 2^24 counted per range
    # (as m365_breadth.h counts), under it if overlaps were counted once.
    k_per_range = (V4_TOTAL - total) // 4096 + 1
    add("v4_total_per_range_just_over", append(
        new_set(904, "Allow", ips=slash20s(11, k_per_range), tcp="443")),
        ["11.0.0.1", "443"], sid=None)
    # Control: just under 2^24 even counting every range (overlaps twice).
    k_under = (V4_TOTAL - total) // 4096
    add("v4_total_just_under_control", append(
        new_set(903, "Allow", ips=slash20s(11, k_under), tcp="443")),
        ["11.0.0.1", "443"], expect="accepted", paths=["list", "import"],
        answer="^OK m365_category=Allow m365_service=Common m365_set=903$")
    # 18 legal /12s split over two sets: each set alone is under the limit,
    # all the sets checked are over it.
    twelves = ["%d.%d.0.0/12" % (o, 16 * i) for o in (11, 21) for i in range(16)]
    def two_sets(doc):
        find_set(doc, 12).setdefault("ips", []).extend(twelves[0:9])
        find_set(doc, 46).setdefault("ips", []).extend(twelves[9:18])
    add("v4_total_across_sets", two_sets, ["11.0.0.1", "443"], sid=None)
    # Controls at the width limit.
    add("v4_slash12_control", add_ips(46, ["10.0.0.0/12"]), ["10.1.2.3", "443"],
        expect="accepted", paths=["list", "import"],
        answer="^OK m365_category=Allow m365_service=Common m365_set=46$")

    # --- IPv6 ranges ---------------------------------------------------------
    add("v6_global_slash16",
        add_ips(1, ["%x::/16" % n for n in range(0x2000, 0x4000)]),
        ["2001:4860:4860::8888", "443"], sid=1)
    add("v6_slash28", add_ips(12, ["2000::/28"]), ["2000::1", "443"], sid=12)
    add("v6_default_route", add_ips(31, ["::/0"]),
        ["2001:4860:4860::8888", "443"], sid=31)
    add("v6_v4mapped_all", add_ips(1, ["::ffff:0:0/96"]), ["8.8.8.8", "443"],
        sid=1)
    add("v6_slash29_control", add_ips(12, ["2000::/29"]), ["2000::1", "443"],
        expect="accepted", paths=["list", "import"],
        answer="^OK m365_category=Allow m365_service=Skype m365_set=12$")

    # --- name patterns -------------------------------------------------------
    add("name_star_co_uk", add_urls(12, ["*.co.uk"]), ["www.bbc.co.uk", "443"],
        sid=12)
    add("name_star_github_io", append(new_set(910, "Allow",
        urls=["*.github.io"])), ["evil.github.io", "443"], sid=910)
    add("name_star_com", add_urls(46, ["*.com"]), ["www.example.com", "443"],
        sid=46)
    add("name_star", add_urls(31, ["*"]), ["example.org", "443"], sid=31)
    add("name_starco_uk", add_urls(56, ["*co.uk"]), ["www.bbc.co.uk", "443"],
        sid=56)
    add("name_star_uk", add_urls(64, ["*.uk"]), ["www.gov.uk", "443"], sid=64)
    add("name_a_star", add_urls(1, ["a*"]), ["amazon.com", "443"], sid=1)
    add("name_private_s3", add_urls(12, ["*.s3.amazonaws.com"]),
        ["evil.s3.amazonaws.com", "443"], sid=12)
    add("name_private_herokuapp", append(new_set(911, "Optimize",
        urls=["*.herokuapp.com"], tcp="80,443")),
        ["evil.herokuapp.com", "443"], sid=911)
    add("name_upper_co_uk", add_urls(12, ["*.CO.UK"]), ["www.bbc.co.uk", "443"],
        sid=12)
    add("name_mid_star_com", add_urls(46, ["www.*.com"]),
        ["www.example.com", "443"], sid=46)
    add("name_psl_wildcard_ck", add_urls(12, ["*.example.ck"]),
        ["www.example.ck", "443"], sid=12)
    add("name_idn_tld", add_urls(12, ["*.xn--p1ai"]), ["www.xn--p1ai", "443"],
        sid=12)
    add("name_cloudapp_in_allow", add_urls(64, ["*.cloudapp.net"]),
        ["x.cloudapp.net", "443"], sid=64)
    # Control: www.ck is a PSL exception ("!www.ck"), not a public suffix.
    add("name_psl_exception_control", add_urls(12, ["*.www.ck"]),
        ["foo.www.ck", "443"], expect="accepted", paths=["list", "import"],
        answer="^OK m365_category=Allow m365_service=Skype m365_set=12$")
    # Control: the same broad pattern in a Default set, as Microsoft's 2021
    # list had it: loads with the default policy, refused when Default is
    # selected.  Published lists are checked on Optimize and Allow only.
    cloudapp = new_set(990, "Default", urls=["*.cloudapp.net"])
    add("default_cloudapp_control", append(cloudapp), ["x.cloudapp.net", "443"],
        expect="accepted", paths=["list", "import"],
        answer="^ERR m365_category=Default")
    cases.append({"name": "default_cloudapp_with_default",
                  "file": "default_cloudapp_control.json",
                  "probe": ["x.cloudapp.net", "443"], "expect": "refused",
                  "set": 990, "index": len(base),
                  "categories": "Optimize,Allow,Default",
                  "paths": ["list"], "answer": None})

    # --- ports ---------------------------------------------------------------
    add("ports_tcp_all", set_field(1, "tcpPorts", "1-65535"),
        ["outlook.office365.com", "22"], sid=1)
    add("ports_tcp_1_40000", set_field(12, "tcpPorts", "1-40000"),
        ["x.teams.microsoft.com", "22"], sid=12)
    add("ports_tcp_split_ranges", set_field(31, "tcpPorts", "1-20000,20001-40000"),
        ["contoso.sharepoint.com", "22"], sid=31)
    # 4000 ranges of 9 ports (36000 ports, under the loader's 4096 ranges).
    add("ports_tcp_many_ranges", set_field(46, "tcpPorts",
        ",".join("%d-%d" % (10 * i + 1, 10 * i + 9) for i in range(4000))),
        ["office.live.com", "22"], sid=46)
    add("ports_tcp_half_plus_one", set_field(1, "tcpPorts", "1-32768"),
        ["outlook.office365.com", "22"], sid=1)
    # A UDP port is never a request's port: the probe stays ERR either way.
    add("ports_udp_all", set_field(11, "udpPorts", "1-65535"),
        ["52.112.0.1", "22"], sid=11)
    add("ports_tcp_half_control", set_field(1, "tcpPorts", "1-32767"),
        ["outlook.office365.com", "22"], expect="accepted",
        paths=["list", "import"],
        answer="^OK m365_category=Optimize m365_service=Exchange m365_set=1$")

    # --- real lists, as they are ------------------------------------------------
    for real in reals:
        fname = "real_" + os.path.basename(real)
        shutil.copyfile(real, os.path.join(outdir, fname))
        cases.append({"name": "real_" + os.path.splitext(os.path.basename(real))[0]
                      .replace("-", "_") + "_control",
                      "file": fname, "probe": ["x.cloudapp.net", "443"],
                      "expect": "accepted", "set": None, "index": None,
                      "categories": None,
                      "paths": ["list", "import"],
                      "answer": "^ERR m365_category=Default$"})

    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    sys.stderr.write("hostile_lists.py: %d cases; BASE IPv4 %d per range, %d "
                     "union; just over %d /20s (union), %d (per range), just "
                     "under %d /20s\n"
                     % (len(cases), total, union, k_over, k_per_range, k_under))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
