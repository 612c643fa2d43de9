#!/usr/bin/env python3
"""pac_queries.py - queries for comparing an exported PAC file with the
helper (test tool; the other half is pac_check.py).

    python3 pac_queries.py [--seed N] [--local FILE]... [--no-edges]
                           LIST.json >QUERIES

Writes one query a line, "URL HOST TAG": URL is what a browser hands to
FindProxyForURL, HOST its host argument (IPv6 without brackets, as
browsers give it), TAG says where the query comes from (pac_check.py
prints it beside a disagreement).  The same seed, list and local lists
give the same queries.

Which answers they get is not worked out here: the helper says.  The
queries only have to probe every edge of what the helper matches:

- for each url pattern of the list (every set, whatever its category):
  the name itself, UPPER-case, with a trailing dot, look-alikes
  (NAME.evil.example, xNAME, NAME-evil, NAMEx, a child of an exact
  name); for `*.x` a random child, a two-label child, the apex `x`,
  `abcx` (no dot) and the empty fill `.x`; for any other glob
  (`*cdn.onenote.net`, `autodiscover.*.onmicrosoft.com`,
  `*-files.sharepoint.com`) fills that match (one label, several labels,
  empty) and near misses (a literal next to a `*` dropped or changed, a
  label added in front, the end or the start extended);
- for each range of the list: the first, the last and a random address
  inside, the neighbours just outside; IPv6 compressed, in full, upper
  case, uncompressed, with a dotted IPv4 tail, with "::" for one zero
  group, with a trailing dot, and a few non-addresses (nine or seven
  groups, two "::", a five-digit group); an IPv4 inside also as
  IPv4-mapped IPv6 (::ffff:a.b.c.d, ::ffff:hhhh:hhhh, in full, upper
  case, with a trailing dot) and in the IPv4-compatible and NAT64 blocks
  (IPv6 addresses); other spellings of numbers (052.112.0.1, an integer,
  hex, three parts, a trailing dot), which are not IP literals; for an
  IPv4-mapped range, the IPv4 range it holds;
- unrelated names and addresses, a few invalid hosts (empty label,
  leading dot, a label over 63 characters, a name over 253);
- a few queries no browser sends but the contract answers all the same
  (TAG edge:..., left out with --no-edges): brackets around a name or
  an IPv4 address (invalid), an empty port ("https://NAME:/": the
  scheme's default);
- children of `*.x` at the length limits (labels of 63 and 64
  characters, names of 253 and 254);
- the rules of each local list given: globs and ranges as
  above, and for `re:` rules strings the regex matches plus near misses
  (extended, UPPER-case, a character changed or dropped...);
- URLs of schemes http, https, ws, wss, ftp and foo (an unknown scheme:
  port unknown unless explicit), default and explicit ports (443, 80,
  8080, 3478, and the tcpPorts of the list).
"""
import argparse
import ipaddress
import json
import random
import sys

try:
    import re._parser as sre_parse  # Python >= 3.11
    import re._constants as sre_c
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse
    import sre_constants as sre_c

# (scheme, port or None): the URL forms besides https: and http: with
# their default ports; None means the scheme's default (none for foo:).
OTHER = [("ws", None), ("wss", None), ("ftp", None), ("foo", None),
         ("https", 8080), ("http", 8080), ("http", 3478), ("https", 3478),
         ("https", 443), ("http", 80), ("http", 443), ("https", 80),
         ("foo", 443), ("foo", 3478), ("ftp", 8080), ("wss", 3478),
         ("ws", 443)]
UNRELATED = ["example.com", "www.example.org", "localhost", "intranet",
             "microsoft", "com", "net", "wpad", "proxy.example",
             "evil.example", "www.google.com", "login.example.net",
             "cdn.example.com", "a.b.c.d.e.f.example", "xn--bcher-kva.example",
             "under_score.example", "-lead.example", "trail-.example",
             "office.com.evil.example", "microsoft.com.evil.example",
             "microsoftonline.com", "evil-microsoft.com",
             "1.2.3.4.example", "52.112.0.1.example"]
UNRELATED_IP = ["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3",
                "192.168.1.1", "172.16.0.1", "8.8.8.8", "::1", "::",
                "fe80::1", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "::ffff:127.0.0.1", "::ffff:10.1.2.3", "64:ff9b::3470:1",
                "::127.0.0.1"]


class Gen:
    def __init__(self, seed, ports):
        self.rng = random.Random("pac_queries:%s" % seed)
        self.out = []
        self.seen = set()
        self.extra_ports = sorted(p for p in ports
                                  if p not in (80, 443, 8080, 3478))
        self.turn = 0

    # --- random pieces --------------------------------------------------

    def label(self, n=None):
        r = self.rng
        n = n or r.randint(1, 10)
        s = "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                    for _ in range(n))
        if n > 2 and r.random() < 0.15:
            i = r.randint(1, n - 2)
            s = s[:i] + r.choice("-_") + s[i + 1:]
        return s

    def labels(self, k):
        return ".".join(self.label() for _ in range(k))

    # --- output ------------------------------------------------------------

    def forms(self, k):
        """k URL forms: https first, then a rotation through the others
        (so that every form comes up often) and random ones."""
        r = self.rng
        out = [("https", None)]
        if k > 1:
            out.append(("http", None))
        pool = OTHER + [("https", p) for p in self.extra_ports] + \
            [("http", p) for p in self.extra_ports[:2]]
        while len(out) < k:
            f = pool[self.turn % len(pool)] if len(out) == 2 else r.choice(pool)
            self.turn += 1
            if f not in out:
                out.append(f)
        return out

    def one_form(self):
        r = self.rng
        x = r.random()
        if x < 0.45:
            return ("https", None)
        if x < 0.6:
            return ("http", None)
        pool = OTHER + [("https", p) for p in self.extra_ports]
        return r.choice(pool)

    def url(self, host, form):
        scheme, port = form
        h = "[%s]" % host if ":" in host else host
        if port is not None:
            h = "%s:%d" % (h, port)
        if self.rng.random() < 0.03:
            h = self.rng.choice(["user@", "u:pw@", "a%40b:c@"]) + h
        path = "/"
        x = self.rng.random()
        if x < 0.1:
            path = "/a/b.html?q=1&r=%s" % self.label()
        elif x < 0.15:
            path = "/%3Fx"
        return "%s://%s%s" % (scheme, h, path)

    def emit(self, host, tag, k=1):
        """host with k URL forms (k=1: one random form)."""
        if not host or any(c in host for c in " \t\n'\\%"):
            return
        fs = self.forms(k) if k > 1 else [self.one_form()]
        for f in fs:
            u = self.url(host, f)
            if (u, host) in self.seen:
                continue
            self.seen.add((u, host))
            self.out.append("%s %s %s" % (u, host, tag))

    def variants(self, name, tag):
        """UPPER-case and trailing-dot variants of a name."""
        self.emit(name.upper(), tag + ":upper")
        self.emit(name + ".", tag + ":dot")
        if self.rng.random() < 0.2:
            self.emit(name.upper() + ".", tag + ":upper-dot")

    # --- names ---------------------------------------------------------------

    def lookalikes(self, name, tag):
        r = self.rng
        self.emit(name + ".evil.example", tag + ":lookalike")
        self.emit(r.choice("xae") + name, tag + ":prefix")
        self.emit(name + r.choice(["x", "m", "-evil.example"]), tag + ":suffix")
        self.emit("evil-" + name, tag + ":prefix")
        if "." in name:
            # a dot changed: teams.microsoft.com -> teams-microsoft.com
            dots = [i for i, c in enumerate(name) if c == "."]
            i = r.choice(dots)
            self.emit(name[:i] + r.choice("-x") + name[i + 1:], tag + ":dotless")

    def pattern(self, p, tag):
        stars = p.count("*")
        if stars == 0:
            self.emit(p, tag + ":exact", 4)
            self.variants(p, tag + ":exact")
            self.lookalikes(p, tag)
            self.emit(self.label() + "." + p, tag + ":child-of-exact")
            # the parent of an exact name
            if p.count(".") >= 2:
                self.emit(p.split(".", 1)[1], tag + ":parent")
            return
        if stars == 1 and p.startswith("*.") and len(p) > 2:
            x = p[2:]
            c1 = self.label() + "." + x
            c2 = self.labels(2) + "." + x
            self.emit(c1, tag + ":child", 3)
            self.emit(c2, tag + ":child2", 2)
            self.emit(x, tag + ":apex", 2)
            self.variants(c1, tag + ":child")
            self.variants(x, tag + ":apex")
            self.emit(self.label() + x, tag + ":nodot")      # abcx
            self.emit("." + x, tag + ":empty-fill")           # invalid
            self.lookalikes(c1, tag + ":child")
            self.lookalikes(x, tag + ":apex")
            return
        self.irregular(p, tag + ":glob")

    def irregular(self, p, tag):
        """Any other glob: fills that match and near misses."""
        r = self.rng
        parts = p.split("*")
        fills = ["contoso", self.label(), self.labels(2), "", "a-b", "x_y",
                 "a.b.c"]
        matches = []
        for f in fills:
            # the same fill for every star, and a random fill for each
            matches.append(f.join(parts))
        for _ in range(3):
            s = parts[0]
            for q in parts[1:]:
                s += r.choice(fills) + q
            matches.append(s)
        for i, m in enumerate(matches):
            self.emit(m, tag + ":fill", 3 if i == 0 else 1)
        m0 = matches[0]
        self.variants(m0, tag + ":fill")
        self.lookalikes(m0, tag + ":fill")
        self.emit(self.label() + "." + m0, tag + ":label-in-front")
        # a literal next to a star dropped or changed
        for i in range(len(parts) - 1):
            left, right = parts[i], parts[i + 1]
            for l2, r2 in ((left[:-1], right), (left, right[1:]),
                           (left[:-1] + "x", right), (left, "x" + right[1:])):
                if l2 == left and r2 == right:
                    continue
                q = list(parts)
                q[i], q[i + 1] = l2, r2
                self.emit("contoso".join(q), tag + ":near")
                self.emit("".join(q), tag + ":near-empty")
        # the fixed parts alone
        for q in parts:
            self.emit(q.strip("."), tag + ":part")

    # --- ranges --------------------------------------------------------------

    def ip(self, a, tag, k=1):
        self.emit(str(a), tag, k)
        if a.version == 6:
            self.emit(a.exploded, tag + ":full")
            if self.rng.random() < 0.3:
                self.emit(a.exploded.upper(), tag + ":full-upper")

    def mapped(self, a, tag):
        """An IPv4 address as IPv4-mapped IPv6, in several spellings, and
        in the IPv4-compatible and NAT64 blocks (IPv6 addresses, not
        that IPv4 address)."""
        v = int(a)
        self.emit("::ffff:%s" % a, tag + ":mapped")
        self.emit("::ffff:%x:%x" % (v >> 16, v & 0xffff), tag + ":mapped-hex")
        if self.rng.random() < 0.3:
            self.emit("0:0:0:0:0:ffff:%s" % a, tag + ":mapped-full")
            self.emit("::FFFF:%X:%X" % (v >> 16, v & 0xffff),
                      tag + ":mapped-upper")
            self.emit("::ffff:%s." % a, tag + ":mapped-dot")
        if self.rng.random() < 0.2:
            self.emit("::%s" % a, tag + ":compat")
            self.emit("64:ff9b::%s" % a, tag + ":nat64")

    def v6_spellings(self, a, tag):
        """Other ways to write IPv6 address a (inet_pton takes them all),
        and a few that are not addresses."""
        g = ["%x" % ((int(a) >> (112 - 16 * i)) & 0xffff) for i in range(8)]
        v4 = ipaddress.IPv4Address(int(a) & 0xffffffff)
        self.emit(":".join(g), tag + ":uncompressed")
        self.emit(":".join(g[:6]) + ":" + str(v4), tag + ":dotted-tail")
        self.emit(str(a) + ".", tag + ":dot")
        zeros = [i for i in range(8) if g[i] == "0"]
        if zeros:  # one zero group written as "::"
            i = self.rng.choice(zeros)
            self.emit(":".join(g[:i]) + "::" + ":".join(g[i + 1:]),
                      tag + ":one-group-gap")
        r = self.rng.randrange(4)
        if r == 0:
            self.emit(":".join(g) + ":1", tag + ":nine-groups")
        elif r == 1:
            self.emit(":".join(g[:7]), tag + ":seven-groups")
        elif r == 2:
            self.emit(":".join(g[:6]) + "::" + g[7] + "::", tag + ":two-gaps")
        else:
            self.emit(":".join(g[:7]) + ":1" + g[7].zfill(4),
                      tag + ":five-digits")

    def numeric(self, a, tag):
        """Other spellings of an IPv4 address: not IP literals."""
        o = str(a).split(".")
        v = int(a)
        r = self.rng
        choice = r.randrange(5)
        if choice == 0:
            self.emit("0" + str(a), tag + ":octal")
        elif choice == 1:
            self.emit(str(v), tag + ":integer")
        elif choice == 2:
            self.emit(".".join("0x%x" % int(x) for x in o), tag + ":hex")
        elif choice == 3:
            self.emit("%s.%s.%d" % (o[0], o[1], (v & 0xffff)), tag + ":3part")
        else:
            self.emit(str(a) + ".", tag + ":dot")

    def cidr(self, c, tag):
        try:
            n = ipaddress.ip_network(c, strict=False)
        except ValueError:
            return
        r = self.rng
        lo, hi = int(n.network_address), int(n.broadcast_address)
        cls = ipaddress.IPv4Address if n.version == 4 else ipaddress.IPv6Address
        top = (1 << n.max_prefixlen) - 1
        first, last = cls(lo), cls(hi)
        mid = cls(r.randint(lo, hi))
        self.ip(first, tag + ":first")
        self.ip(last, tag + ":last")
        self.ip(mid, tag + ":inside", 3)
        if lo > 0:
            self.ip(cls(lo - 1), tag + ":before")
        if hi < top:
            self.ip(cls(hi + 1), tag + ":after")
        if n.version == 6:
            self.v6_spellings(mid, tag + ":inside")
        if n.version == 4:
            self.mapped(mid, tag + ":inside")
            if r.random() < 0.5:
                self.mapped(last, tag + ":last")
            if lo > 0 and r.random() < 0.5:
                self.mapped(cls(lo - 1), tag + ":before")
            self.numeric(mid, tag + ":inside")
        elif int(n.network_address) >> 32 == 0xffff and n.prefixlen >= 96:
            # an IPv4-mapped range: the IPv4 addresses it holds
            v4 = ipaddress.ip_network((int(n.network_address) & 0xffffffff,
                                       n.prefixlen - 96))
            self.cidr(str(v4), tag + ":as-v4")
        else:
            # the same bits in the IPv4-mapped block, when it is not
            self.emit(str(cls((int(mid) & 0xffffffff) | (0xffff << 32))),
                      tag + ":v6-as-mapped")

    # --- regexes ---------------------------------------------------------------

    def sample(self, items, depth=0):
        r = self.rng
        out = []
        for op, av in items:
            if op == sre_c.LITERAL:
                out.append(chr(av))
            elif op == sre_c.NOT_LITERAL:
                out.append(r.choice([c for c in "abz09.-" if ord(c) != av]))
            elif op == sre_c.ANY:
                out.append(r.choice("abcxyz019-"))
            elif op == sre_c.IN:
                out.append(self.klass(av))
            elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT,
                        getattr(sre_c, "POSSESSIVE_REPEAT", None)):
                lo, hi, sub = av
                hi = min(hi, lo + 3)
                for _ in range(r.randint(lo, hi)):
                    out.append(self.sample(sub, depth + 1))
            elif op == sre_c.SUBPATTERN:
                out.append(self.sample(av[-1], depth + 1))
            elif op == getattr(sre_c, "ATOMIC_GROUP", None):
                out.append(self.sample(av, depth + 1))
            elif op == sre_c.BRANCH:
                out.append(self.sample(r.choice(av[1]), depth + 1))
            elif op == sre_c.CATEGORY:
                out.append(self.category(av))
            # AT (anchors), assertions, group references: nothing
        return "".join(out)

    def category(self, cat):
        r = self.rng
        if cat == sre_c.CATEGORY_DIGIT:
            return r.choice("0123456789")
        if cat == sre_c.CATEGORY_WORD:
            return r.choice("abz09_")
        if cat == sre_c.CATEGORY_NOT_DIGIT:
            return r.choice("ab-._")
        if cat == sre_c.CATEGORY_NOT_WORD:
            return r.choice(".-")
        return "a"

    def klass(self, items):
        r = self.rng
        if items and items[0][0] == sre_c.NEGATE:
            banned = set()
            for op, av in items[1:]:
                if op == sre_c.LITERAL:
                    banned.add(chr(av))
                elif op == sre_c.RANGE:
                    banned.update(chr(c) for c in range(av[0], av[1] + 1))
            ok = [c for c in "abcxyz0189-._" if c not in banned]
            return r.choice(ok) if ok else "a"
        op, av = r.choice(items)
        if op == sre_c.LITERAL:
            return chr(av)
        if op == sre_c.RANGE:
            return chr(r.randint(av[0], av[1]))
        if op == sre_c.CATEGORY:
            return self.category(av)
        return "a"

    def regex(self, rx, tag):
        try:
            parsed = list(sre_parse.parse(rx))
        except Exception:  # a PCRE2-only construct: nothing to sample
            return
        begin = bool(parsed) and parsed[0] == (sre_c.AT, sre_c.AT_BEGINNING)
        end = bool(parsed) and parsed[-1][0] == sre_c.AT and \
            parsed[-1][1] in (sre_c.AT_END, sre_c.AT_END_STRING)
        r = self.rng
        seen = set()
        for i in range(12):
            s = self.sample(parsed)
            if not end:
                s += r.choice(["", ".1.2.3", "0.0.1", ".example.com", "a",
                               "1.2.3", ".255.255.255", "1", ":1"])
            if not begin:
                s = r.choice(["", "a.", "x", "1.2."]) + s
            if s in seen:
                continue
            seen.add(s)
            self.emit(s, tag + ":match", 2 if i < 3 else 1)
            if i < 4:
                self.variants(s, tag + ":match")
                self.emit("x" + s, tag + ":prefix")
                self.emit(s + "x", tag + ":suffix")
                self.emit(s + ".evil.example", tag + ":lookalike")
                self.emit("a." + s, tag + ":label-in-front")
                if len(s) > 1:
                    j = r.randrange(len(s))
                    self.emit(s[:j] + s[j + 1:], tag + ":drop")
                    c = s[j]
                    c2 = "a" if c.isdigit() else ("7" if c.isalpha() else "x")
                    self.emit(s[:j] + c2 + s[j + 1:], tag + ":change")
                try:
                    a = ipaddress.ip_address(s)
                except ValueError:
                    a = None
                if a is not None and a.version == 4:
                    self.mapped(a, tag + ":match")
                elif a is not None:
                    self.emit(a.exploded, tag + ":match:full")

    # --- the local list -----------------------------------------------------------

    def local(self, path):
        with open(path, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                # tokens as the helper splits them: '#' starts a comment
                # where a token would start
                words = []
                for w in line.split():
                    if w.startswith("#"):
                        break
                    words.append(w)
                if len(words) != 2:
                    continue
                verb, pat = words
                tag = "local%d-%s" % (no, verb)
                if pat.startswith("re:"):
                    self.regex(pat[3:], tag + ":re")
                    continue
                try:
                    ipaddress.ip_network(pat, strict=False)
                    self.cidr(pat, tag + ":cidr")
                    continue
                except ValueError:
                    pass
                self.pattern(pat.lower(), tag + ":name")

    # --- the rest -------------------------------------------------------------------

    def unrelated(self):
        r = self.rng
        for h in UNRELATED:
            self.emit(h, "unrelated", 2)
        for h in UNRELATED_IP:
            self.emit(h, "unrelated-ip", 2)
        for _ in range(40):
            self.emit(self.labels(r.randint(1, 4)) + r.choice(
                [".com", ".net", ".org", ".example", ".microsoft", ""]),
                "random")
        for _ in range(30):
            self.emit(str(ipaddress.IPv4Address(r.getrandbits(32))), "random-ip")
            self.emit(str(ipaddress.IPv6Address(
                (0x2 << 125) | r.getrandbits(125))), "random-ip")
        # invalid hosts: the helper answers ERR
        self.emit("a..b.example", "invalid")
        self.emit(".example.com", "invalid")
        self.emit("x" * 64 + ".example.com", "invalid")
        self.emit(".".join(["abcdefghi"] * 25) + ".example.com", "invalid")

    def lengths(self, suffixes):
        """Children of `*.x` patterns at the length limits: a label of 63
        characters (valid) and 64 (invalid), a name of 253 (valid) and
        254 (invalid)."""
        for x in suffixes[:3]:
            self.emit("a" * 63 + "." + x, "length:label63", 2)
            self.emit("a" * 64 + "." + x, "length:label64")
            for total, t in ((253, "length:name253"), (254, "length:name254")):
                left, labels = total - len(x), []  # each label takes len+1
                while left > 0:
                    k = min(63, left - 1)
                    if left - (k + 1) == 1:  # no room for a last label
                        k -= 1
                    labels.append(self.label(1) * k)
                    left -= k + 1
                name = ".".join(labels + [x])
                assert len(name) == total
                self.emit(name, t, 2)
                self.emit(name + ".", t + ":dot")

    def edges(self, names, v4s):
        """A few queries no browser sends but the contract answers:
        brackets around what is not an IPv6 literal (invalid: ERR), an
        empty port after ':' (the scheme's default)."""
        for n in names[:3]:
            self.emit("[%s]" % n, "edge:brackets-name")
            u = "https://%s:/" % n
            self.seen.add((u, n))
            self.out.append("%s %s %s" % (u, n, "edge:empty-port"))
        for c in v4s[:3]:
            a = ipaddress.ip_network(c, strict=False).network_address
            self.emit("[%s]" % a, "edge:brackets-v4")


def ports_of(sets):
    out = set()
    for s in sets:
        for item in str(s.get("tcpPorts", "")).split(","):
            item = item.strip()
            if not item:
                continue
            a, _, b = item.partition("-")
            try:
                out.add(int(a))
                if b:  # a range: its ends and their outer neighbours
                    out.update((int(a) - 1, int(b), int(b) + 1))
            except ValueError:
                pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", default="1")
    ap.add_argument("--local", action="append", default=[],
                    help="a local list whose rules to probe too (repeatable)")
    ap.add_argument("--no-edges", action="store_true",
                    help="leave out the edge:... queries")
    ap.add_argument("list", help="Microsoft endpoint JSON")
    a = ap.parse_args()
    with open(a.list, encoding="utf-8") as f:
        sets = json.load(f)
    g = Gen(a.seed, ports_of(sets))
    urls, ips = [], []
    for s in sets:
        for u in s.get("urls", []) or []:
            if u not in urls:
                urls.append(u)
        for c in s.get("ips", []) or []:
            if c not in ips:
                ips.append(c)
    for u in urls:
        g.pattern(u.lower(), "url")
    for c in ips:
        g.cidr(c, "ip")
    for path in a.local:
        g.local(path)
    g.unrelated()
    g.lengths([u[2:].lower() for u in urls
               if u.startswith("*.") and "*" not in u[2:]])
    if not a.no_edges:
        g.edges([u.lower() for u in urls if "*" not in u],
                [c for c in ips if ":" not in c])
    sys.stdout.write("".join(line + "\n" for line in g.out))


if __name__ == "__main__":
    main()
