#!/usr/bin/env python3
"""gen_local.py - synthetic local lists for the local-list table of make bench.

    gen_local.py [--seed S] KIND N OUT

writes OUT, a local list (docs/contract.md, "Local lists") of N rules of one
KIND, and OUT.hosts, sample request hostnames for it: about half hit a rule,
half are near misses (a sibling name, the apex under a "*." rule, a regex
look-alike, the address after a range).  The first line of OUT.hosts always
hits a bypass rule, so `m365ctl lookup --local OUT $(head -1 OUT.hosts) 443`
exits 0 when the list loads.  Standard library only; the same seed, KIND and
N always give the same bytes.

KIND is one of
  plain   mostly names: exact names (host7.vendor4567.com) grouped 8 to a
          registrable domain, "*." suffixes (*.site12.net, *.eu.vendor3.io),
          5% bypass IPv4 and 3% IPv6 ranges, a few never rules;
  names   exact names and "*." suffixes only;
  regex   N "bypass re:" rules, each ending with its own literal domain
          (re:^(app|api)[0-9]+\\.rx12\\.com$);
  globs   N irregular globs (*-cdn.gv12.net, api*.gv3.io);
  reglob  N regexes and N irregular globs (2N rules);
  v4, v6  N bypass ranges of one family.
Every bypass rule stays inside docs/security.md's breadth limits: no IPv4
range wider than /24 and at most 16,777,216 IPv4 addresses in all, no IPv6
range wider than /48 and far less than a /24's worth of /64s, every name
pattern fixed on a registrable domain, every regex ending in one.
Prints "OUT: N rules, B bytes, H sample hosts" on stdout.
"""
import ipaddress
import os
import random
import sys

TLDS = ("com", "net", "org", "io", "de")
WORDS = ("host", "api", "cdn", "mail", "app", "www", "img", "edge", "auth", "eu")
GROUP = 8  # exact names per registrable domain
V4_BUDGET = 16_000_000  # under the 16,777,216 limit
V4_LENS = (32, 32, 32, 30, 30, 28, 28, 26, 24)
V6_LENS = (128, 64, 64, 56, 48)
SAMPLE_MAX = 2000  # hits per list (and as many near misses)


def tld(d):
    return TLDS[d % len(TLDS)]


class Gen:
    """Builds the rules of one list and its sample hosts."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.rules = []
        self.hits = []
        self.misses = []
        self.v4_total = 0
        self.v4_seen = set()

    def rand_label(self):
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                       for _ in range(self.rng.randint(1, 8)))

    def exact(self, i, verb="bypass"):
        word = WORDS[i % len(WORDS)]
        d = i // GROUP
        name = "%s%d.vendor%d.%s" % (word, i % GROUP, d, tld(d))
        self.rules.append("%s %s" % (verb, name))
        (self.hits if verb == "bypass" else self.misses).append(name)
        # a sibling that is not in the list: the number is never < GROUP
        self.misses.append("%s%d.vendor%d.%s" % (word, GROUP + i % 5, d, tld(d)))

    def suffix(self, i):
        if i % 2:
            dom = "site%d.%s" % (i, tld(i))
        else:
            dom = "%s.vendor%d.%s" % (WORDS[i % len(WORDS)], i // GROUP,
                                      tld(i // GROUP))
        self.rules.append("bypass *.%s" % dom)
        self.hits.append("%s.%s" % (self.rand_label(), dom))
        self.misses.append(dom if i % 4 < 2 else "%s.%s.evil.example" %
                           (self.rand_label(), dom))

    def v4(self, i):
        plen = self.rng.choice(V4_LENS)
        if self.v4_total + (1 << (32 - plen)) > V4_BUDGET:
            plen = 32
        while True:  # 1.0.0.0 - 223.255.255.255, not 10/8 or 127/8
            a = self.rng.randrange(1 << 24, 224 << 24)
            if a >> 24 not in (10, 127):
                break
        net = ipaddress.IPv4Network((a >> (32 - plen) << (32 - plen), plen))
        if net in self.v4_seen:
            net = ipaddress.IPv4Network((a, 32))
        self.v4_seen.add(net)
        self.v4_total += net.num_addresses
        self.rules.append("bypass %s" % (net if plen < 32 else
                                         net.network_address))
        self.hits.append(str(net.network_address +
                             self.rng.randrange(net.num_addresses)))
        self.misses.append(str(net.broadcast_address + 1))

    def v6(self, i):
        plen = self.rng.choice(V6_LENS)
        # inside 2400::/6 .. 2bff::: global unicast, never IPv4 in IPv6
        a = (0x24 + self.rng.randrange(8)) << 120 | self.rng.getrandbits(120)
        a = a >> (128 - plen) << (128 - plen)
        net = ipaddress.IPv6Network((a, plen))
        self.rules.append("bypass %s" % (net if plen < 128 else
                                         net.network_address))
        self.hits.append(str(net.network_address +
                             self.rng.randrange(min(net.num_addresses, 1 << 64))))
        self.misses.append(str(net.broadcast_address + 1))

    def regex(self, i):
        dom = "rx%d\\.%s" % (i, tld(i))
        name_dom = "rx%d.%s" % (i, tld(i))
        n = self.rng.randrange(1000)
        shape = i % 4
        if shape == 0:
            re = "^(app|api)[0-9]+\\.%s$" % dom
            hit, miss = "api%d.%s" % (n, name_dom), "apx%d.%s" % (n, name_dom)
        elif shape == 1:
            re = "^[a-z]+-[0-9]{2,4}\\.eu\\.%s$" % dom
            hit = "node-%d.eu.%s" % (10 + n, name_dom)
            miss = "node-%d.us.%s" % (10 + n, name_dom)
        elif shape == 2:
            re = "^(www\\.)?shop[0-9]*\\.%s$" % dom
            hit, miss = "www.shop%d.%s" % (n, name_dom), "shop.%s" % name_dom
        else:
            re = "^[a-z0-9-]+\\.cdn\\.%s$" % dom
            hit = "%s.cdn.%s" % (self.rand_label(), name_dom)
            miss = "a.b.cdn.%s" % name_dom
        self.rules.append("bypass re:%s" % re)
        self.hits.append(hit)
        self.misses.append(miss)

    def glob(self, i):
        dom = "gv%d.%s" % (i, tld(i))
        lab = self.rand_label()
        shape = i % 4
        if shape == 0:
            pat, hit, miss = "*-cdn.%s", "%s-cdn.%s", "%scdn.%s"
        elif shape == 1:
            pat, hit, miss = "api*.%s", "api%s.%s", "x%s.%s"
        elif shape == 2:
            pat, hit, miss = "img*.static.%s", "img%s.static.%s", "img%s.%s"
        else:
            pat, hit, miss = "autodiscover.*.%s", "autodiscover.%s.%s", \
                "autodiscovery.%s.%s"
        self.rules.append("bypass " + pat % dom)
        self.hits.append(hit % (lab, dom))
        self.misses.append(miss % (lab, dom))


def build(kind, n, seed):
    g = Gen(seed)
    if kind in ("plain", "names"):
        for i in range(n):
            k = g.rng.randrange(1000)
            if kind == "plain" and k < 50:
                g.v4(i)
            elif kind == "plain" and k < 80:
                g.v6(i)
            elif kind == "plain" and k < 85 and i > 0:
                g.exact(i, "never")
            elif k < 600:
                g.exact(i)
            else:
                g.suffix(i)
    elif kind in ("regex", "globs", "reglob"):
        for i in range(n):
            if kind != "globs":
                g.regex(i)
            if kind != "regex":
                g.glob(i)
    elif kind in ("v4", "v6"):
        for i in range(n):
            (g.v4 if kind == "v4" else g.v6)(i)
    else:
        sys.exit("gen_local.py: unknown kind %r" % kind)
    return g


def samples(g):
    """A hit first, then hits and near misses, shuffled, at most 2 x SAMPLE_MAX."""
    first = g.hits[0]
    pick = list(range(len(g.hits)))
    if len(pick) > SAMPLE_MAX:
        pick = g.rng.sample(pick, SAMPLE_MAX)
    hosts = [g.hits[i] for i in pick]
    misses = g.misses
    if len(misses) > SAMPLE_MAX:
        misses = g.rng.sample(misses, SAMPLE_MAX)
    hosts += misses
    g.rng.shuffle(hosts)
    return [first] + hosts


def main(argv):
    seed = 9
    if len(argv) > 2 and argv[1] == "--seed":
        seed = int(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) != 4:
        sys.exit("usage: gen_local.py [--seed S] KIND N OUT")
    kind, n, out = argv[1], int(argv[2]), argv[3]
    g = build(kind, n, "%s/%s/%d" % (seed, kind, n))
    text = "# gen_local.py %s %d (seed %d)\n" % (kind, n, seed)
    text += "\n".join(g.rules) + "\n"
    hosts = samples(g)
    with open(out + ".tmp", "w") as f:
        f.write(text)
    with open(out + ".hosts.tmp", "w") as f:
        f.write("\n".join(hosts) + "\n")
    # the list last: its presence means both files are complete
    os.replace(out + ".hosts.tmp", out + ".hosts")
    os.replace(out + ".tmp", out)
    print("%s: %d rules, %d bytes, %d sample hosts" %
          (out, len(g.rules), len(text), len(hosts)))


if __name__ == "__main__":
    main(sys.argv)
