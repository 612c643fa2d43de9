#!/bin/sh
# tests/integration/test_export_nft.sh - m365ctl export nft: an nftables
# script whose four interval sets hold exactly the selected ranges, that
# nft accepts, and that replaces the sets' elements when applied again.
#
# The expected sets are computed here, independently, with python3's
# ipaddress module (collapse_addresses) from Microsoft's JSON, and compared
# with the elements parsed from the script (a-b ranges expanded).  nft runs
# in a network namespace of its own (unshare -n) when it can, so the host's
# ruleset is never touched; otherwise only `nft -c` runs.  Covers:
#   a. the bundled list: exit 0, nft -c accepts it, the sets equal the
#      ranges of `m365ctl export json`, the example chain is commented out
#   b. the fixture: m365_v4/v6 and the media sets (the selected sets with
#      udpPorts) equal what the JSON selects, in the fewest elements
#   c. a local list: a bypass range added, a never range cut out (of the
#      media sets too), nft still accepts it
#   d. an IPv4-mapped IPv6 bypass range goes to m365_v4
#   e. applied twice, then a smaller list: the sets hold the newest
#      elements only; a failing script changes nothing; the example chains
#      load beside the sets
#   f. --categories Optimize: a smaller m365_v4
#   g. 100,000 local bypass ranges: under 10 s, nft -c accepts them
#   h. a newline in a file name stays inside the header's comments
# About 20 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

CTL=${M365_CTL:-$BUILD/m365ctl}
WW25=$FIXTURES/worldwide-2025-12-01.json

# Counts for the summary (lib.sh counts only failures).
_passed=0
ok() {
	echo "PASS: $1"
	_passed=$((_passed + 1))
}

for prog in nft python3; do
	command -v $prog >/dev/null 2>&1 || abort "$prog is not installed"
done
[ -x "$CTL" ] || make -s -C "$ROOT" build/m365ctl >/dev/null 2>&1
[ -x "$CTL" ] || abort "$CTL is missing"
T=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$T'"

# nft in a network namespace of its own when unshare works here.
if unshare -n true 2>/dev/null; then
	NS="unshare -n"
else
	NS=""
	echo "# unshare -n does not work here: nft -c only, nothing applied"
fi

# expect NAME RC REGEX [TEXT]: $rc is RC and TEXT (default $err) matches.
expect() {
	if [ "$rc" != "$2" ]; then
		not_ok "$1" "exit $rc, not $2 (stderr [$err])"
	else
		check_match "$1" "$3" "${4-$err}"
	fi
}

# nft_accepts NAME FILE: `nft -c -f FILE` succeeds (in a namespace).
nft_accepts() {
	# shellcheck disable=SC2086 # $NS is a command and its option
	if timeout 60 $NS nft -c -f "$2" >"$T/nft.out" 2>&1; then
		ok "$1"
	else
		not_ok "$1" "$(head -c 600 "$T/nft.out")"
	fi
}

# export FILE ARGS...: m365ctl export nft ARGS into FILE; sets $rc, $err.
export_nft() {
	_f=$1
	shift
	timeout 60 "$CTL" export nft "$@" >"$_f" 2>"$T/export.err"
	rc=$?
	err=$(cat "$T/export.err")
}

# The independent side: nft.py (see its commands below).
cat >"$T/nft.py" <<'PY'
import ipaddress as ia
import json
import re
import sys

SETS = ["m365_v4", "m365_v6", "m365_media_v4", "m365_media_v6"]
MAPPED = ia.ip_network("::ffff:0:0/96")


def net(text):
    """A range; an IPv6 one inside ::ffff:0:0/96 is IPv4."""
    n = ia.ip_network(text, strict=False)
    if n.version == 6 and n.prefixlen >= 96 and n.subnet_of(MAPPED):
        n = ia.ip_network((n.network_address.ipv4_mapped, n.prefixlen - 96))
    return n


def span(n):
    """Network n as (version, first, last)."""
    return (n.version, int(n.network_address), int(n.broadcast_address))


def collapse(spans, version):
    """The spans of version collapsed into sorted (first, last) runs,
    overlapping and adjacent ones merged: equal for two lists exactly when
    ia.collapse_addresses() of them is (which takes seconds on 100,000
    /32s)."""
    runs = []
    for lo, hi in sorted((lo, hi) for v, lo, hi in spans if v == version):
        if runs and lo <= runs[-1][1] + 1:
            runs[-1][1] = max(runs[-1][1], hi)
        else:
            runs.append([lo, hi])
    return [tuple(r) for r in runs]


def minus(nets, holes):
    """The networks nets without the addresses of the networks holes."""
    out = []
    for n in nets:
        parts = [n]
        for h in holes:
            if h.version != n.version:
                continue
            rest = []
            for p in parts:
                if p.subnet_of(h):
                    continue
                if h.subnet_of(p):
                    rest.extend(p.address_exclude(h))
                else:
                    rest.append(p)
            parts = rest
        out.extend(parts)
    return out


def element(e):
    """The span of one element ("a/n", "a", "a-b") and whether it is a
    range that one prefix would have written."""
    if "-" not in e:
        return span(ia.ip_network(e)), False  # strict: host bits clear
    a, b = (ia.ip_address(x) for x in e.split("-"))
    return (a.version, int(a), int(b)), len(list(ia.summarize_address_range(a, b))) == 1


class Set:
    def __init__(self):
        self.n, self.spans, self.prefix_ranges = 0, [], []

    def add(self, body):
        for e in body.replace("\n", " ").split(","):
            e = e.strip()
            if e:
                s, as_prefix = element(e)
                self.n += 1
                self.spans.append(s)
                if as_prefix:
                    self.prefix_ranges.append(e)
        return self


def script(path):
    """{set: Set} from the add element statements of the script."""
    text = "".join(l for l in open(path) if not l.lstrip().startswith("#"))
    sets = {s: Set() for s in SETS}
    for m in re.finditer(r"add element inet m365 (\S+) \{([^}]*)\}", text):
        sets[m.group(1)].add(m.group(2))
    return sets


def version_of(name):
    return 4 if name.endswith("v4") else 6


def text(run, version):
    addr = ia.IPv4Address if version == 4 else ia.IPv6Address
    return "%s-%s" % (addr(run[0]), addr(run[1]))


def compare(path, want):
    """For each set, "SET ok N" when the script's elements (N of them)
    cover exactly the networks want[SET], in the fewest elements."""
    got = script(path)
    for s in SETS:
        v, g = version_of(s), got[s]
        runs = collapse(g.spans, v)
        w = collapse([span(n) for n in want[s]], v)
        if any(x[0] != v for x in g.spans):
            print(s, "holds the other family")
        elif runs != w:
            print(s, "differs: missing", [text(r, v) for r in w if r not in set(runs)][:4],
                  "extra", [text(r, v) for r in runs if r not in set(w)][:4])
        elif g.n != len(runs):
            print(s, "not collapsed:", g.n, "elements for", len(runs), "intervals")
        elif g.prefix_ranges:
            print(s, "ranges that are prefixes:", g.prefix_ranges[:4])
        else:
            print(s, "ok", g.n)


def local_rules(path):
    """The bypass and never ranges of a local list."""
    bypass, never = [], []
    for line in open(path):
        w = line.split("#")[0].split()
        if len(w) != 2:
            continue
        try:
            n = net(w[1])
        except ValueError:
            continue  # a name rule
        (bypass if w[0] == "bypass" else never).append(n)
    return bypass, never


def cmd_fixture(path, fixture, cats, local):
    """compare() with what Microsoft's JSON fixture gives for categories
    cats and the local list (or "-")."""
    sel = [s for s in json.load(open(fixture)) if s["category"] in cats.split(",")]
    every = [net(ip) for s in sel for ip in s.get("ips", [])]
    media = [net(ip) for s in sel if s.get("udpPorts", "").strip() for ip in s.get("ips", [])]
    bypass, never = local_rules(local) if local != "-" else ([], [])
    compare(path, {"m365_v4": minus(every + bypass, never),
                   "m365_v6": minus(every + bypass, never),
                   "m365_media_v4": minus(media, never),
                   "m365_media_v6": minus(media, never)})


def cmd_json(path, export):
    """compare() with the ranges of m365ctl export json."""
    eps = [e for e in json.load(open(export))["endpoints"] if e["type"] == "range"]
    every = [net(e["endpoint"]) for e in eps]
    media = [net(e["endpoint"]) for e in eps if (e.get("udpPorts") or "").strip()]
    compare(path, {"m365_v4": every, "m365_v6": every,
                   "m365_media_v4": media, "m365_media_v6": media})


def cmd_covers(path, name, cidr):
    """all, none or part: how much of cidr set name covers."""
    v, lo, hi = span(net(cidr))
    size = sum(max(0, min(hi, b) - max(lo, a) + 1)
               for a, b in collapse(script(path)[name].spans, v))
    print("all" if size == hi - lo + 1 else "none" if size == 0 else "part")


def cmd_has(path, name, cidr):
    """yes when cidr is one of the elements of set name."""
    print("yes" if span(net(cidr)) in script(path)[name].spans else "no")


def cmd_addresses(path, name):
    print(sum(b - a + 1 for a, b in collapse(script(path)[name].spans, version_of(name))))


def cmd_listed(path, listing, name):
    """ok when `nft list set` (in file listing) shows the addresses of the
    script's set name."""
    m = re.search(r"elements = \{([^}]*)\}", open(listing).read())
    got = collapse(Set().add(m.group(1)).spans if m else [], version_of(name))
    want = collapse(script(path)[name].spans, version_of(name))
    print("ok" if got == want else "differs: %d runs listed, %d in the script" % (len(got), len(want)))


def cmd_gen(n):
    """n distinct, non-adjacent /32 bypass rules."""
    for i in range(int(n)):
        print("bypass 10.%d.%d.%d/32" % (i >> 15, (i >> 7) & 255, (i & 127) * 2))


globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
PY
py() { python3 "$T/nft.py" "$@" 2>&1; }

# check_sets NAME: each line of $out (from compare()) is "SET ok N".
check_sets() {
	for s in m365_v4 m365_v6 m365_media_v4 m365_media_v6; do
		_l=$(printf '%s\n' "$out" | grep "^$s ")
		check_match "$1: $s" "^$s ok [0-9]+\$" "$_l"
	done
}

# --- a. the bundled list ----------------------------------------------------------

export_nft "$T/bundled.nft"
expect "a: export nft of the bundled list exits 0, silently" 0 '^$'
nft_accepts "a: nft -c accepts it" "$T/bundled.nft"
run "$CTL" export json
printf '%s\n' "$out" >"$T/bundled.json"
out=$(py json "$T/bundled.nft" "$T/bundled.json")
check_sets "a: equal to export json's ranges"
check_match "a: the header names the command" \
	'^# m365ctl export nft$' "$(head -1 "$T/bundled.nft")"
check_match "a: the header names the list" \
	'^# list: bundled list \(Worldwide, 2025-12-01\)$' "$(sed -n 2p "$T/bundled.nft")"
check_match "a: the header names the policy" \
	'^# policy: categories=Optimize,Allow service-areas=all$' "$(sed -n 3p "$T/bundled.nft")"
check_match "a: the header says how to load it" 'nft -f FILE' "$(grep '^#' "$T/bundled.nft")"
n=$(grep -c '^flush set inet m365 m365_\(v4\|v6\|media_v4\|media_v6\)$' "$T/bundled.nft")
check_eq "a: the four sets are flushed before they are filled" 4 "$n"
check_eq "a: no add element with empty braces" 0 \
	"$(grep -c 'add element.*{ *}' "$T/bundled.nft")"
# the example: commented out, and valid once uncommented
sed -n '/^# table inet m365 {$/,/^# }$/s/^# //p' "$T/bundled.nft" >"$T/example.nft"
check_match "a: the example chain lets UDP 3478-3481 to @m365_media_v4 through" \
	'udp dport 3478-3481 ip daddr @m365_media_v4 accept' "$(cat "$T/example.nft")"
check_match "a: the example uses @m365_v6" '@m365_v6' "$(cat "$T/example.nft")"
check_eq "a: no uncommented chain" 0 "$(grep -c '^[^#]*chain' "$T/bundled.nft")"
cat "$T/bundled.nft" "$T/example.nft" >"$T/with-example.nft"
nft_accepts "a: the example, uncommented, is valid nft beside the sets" "$T/with-example.nft"

# --- b. the fixture, against its JSON ------------------------------------------

export_nft "$T/ww.nft" --list "$WW25"
expect "b: export nft --list FIXTURE exits 0" 0 '^$'
out=$(py fixture "$T/ww.nft" "$WW25" Optimize,Allow -)
check_sets "b: equal to the fixture's Optimize and Allow ranges"
check_eq "b: the Teams media range 52.112.0.0/14 is in m365_media_v4" all \
	"$(py covers "$T/ww.nft" m365_media_v4 52.112.0.0/14)"
check_eq "b: an Exchange range without udpPorts (40.92.0.0/15) is not" none \
	"$(py covers "$T/ww.nft" m365_media_v4 40.92.0.0/15)"

# --- c. a local list: bypass added, never cut out ------------------------------

cat >"$T/local.list" <<'EOF'
bypass 192.0.2.0/24
bypass 2001:db8:1::/48
bypass *.example.net
never 52.112.1.0/24
never 2603:1063:1::/48
EOF
export_nft "$T/local.nft" --list "$WW25" --local "$T/local.list"
expect "c: export nft --local exits 0" 0 '^$'
out=$(py fixture "$T/local.nft" "$WW25" Optimize,Allow "$T/local.list")
check_sets "c: equal to the fixture's ranges plus bypass minus never"
check_eq "c: the bypass range is in m365_v4" all "$(py covers "$T/local.nft" m365_v4 192.0.2.0/24)"
check_eq "c: the IPv6 bypass range is in m365_v6" all "$(py covers "$T/local.nft" m365_v6 2001:db8:1::/48)"
check_eq "c: the never hole is not in m365_v4" none "$(py covers "$T/local.nft" m365_v4 52.112.1.0/24)"
check_eq "c: its neighbours are" "all all" \
	"$(py covers "$T/local.nft" m365_v4 52.112.0.0/24) $(py covers "$T/local.nft" m365_v4 52.112.2.0/23)"
check_eq "c: the IPv6 never hole is not in m365_v6" none "$(py covers "$T/local.nft" m365_v6 2603:1063:1::/48)"
check_eq "c: the never hole is not in m365_media_v4 either" none \
	"$(py covers "$T/local.nft" m365_media_v4 52.112.1.0/24)"
check_eq "c: the bypass range is not in m365_media_v4" none \
	"$(py covers "$T/local.nft" m365_media_v4 192.0.2.0/24)"
check_match "c: the header counts the local rules" \
	'^# local list: .*local.list: 2 bypass range\(s\) added, 2 never range\(s\) taken out$' \
	"$(grep '^# local list' "$T/local.nft")"
nft_accepts "c: nft -c accepts it" "$T/local.nft"

# --- d. an IPv4-mapped IPv6 bypass range ---------------------------------------

printf 'bypass ::ffff:198.51.100.0/120\n' >"$T/mapped.list"
export_nft "$T/mapped.nft" --list "$WW25" --local "$T/mapped.list"
expect "d: export nft exits 0" 0 '^$'
check_eq "d: ::ffff:198.51.100.0/120 is 198.51.100.0/24 in m365_v4" yes \
	"$(py has "$T/mapped.nft" m365_v4 198.51.100.0/24)"
check_eq "d: and nothing of it in m365_v6" 0 "$(grep -c 'ffff' "$T/mapped.nft")"
nft_accepts "d: nft -c accepts it" "$T/mapped.nft"

# --- e. applied twice, then replaced -------------------------------------------

export_nft "$T/opt.nft" --list "$WW25" --categories Optimize
# a script the kernel refuses at its last statement (two elements in a
# set of size 1: ENFILE), after the flushes and the full list
{
	cat "$T/ww.nft"
	printf 'table inet m365 {\n\tset tiny {\n\t\ttype ipv4_addr\n\t\tsize 1\n\t}\n}\n'
	printf 'add element inet m365 tiny { 192.0.2.1, 192.0.2.2 }\n'
} >"$T/failing.nft"
if [ -n "$NS" ]; then
	# fresh namespace: check, apply, check again, apply again, list
	run unshare -n sh -c "nft -c -f '$T/ww.nft' && nft -f '$T/ww.nft' &&
		nft -c -f '$T/ww.nft' && nft -f '$T/ww.nft' &&
		nft list set inet m365 m365_v4 >'$T/list1' &&
		nft list set inet m365 m365_media_v6 >'$T/list2' &&
		nft -f '$T/example.nft' && nft -f '$T/opt.nft' &&
		nft list set inet m365 m365_v4 >'$T/list3' &&
		nft list table inet m365 >'$T/table3' &&
		! nft -f '$T/failing.nft' 2>/dev/null &&
		nft list set inet m365 m365_v4 >'$T/list4' &&
		! nft list set inet m365 tiny 2>/dev/null"
	expect "e: check, apply, check, apply, list in a fresh namespace" 0 '^$'
	check_eq "e: nft list set shows m365_v4's elements" ok "$(py listed "$T/ww.nft" "$T/list1" m365_v4)"
	check_eq "e: and m365_media_v6's" ok "$(py listed "$T/ww.nft" "$T/list2" m365_media_v6)"
	check_eq "e: a smaller list applied over it leaves only its elements" ok \
		"$(py listed "$T/opt.nft" "$T/list3" m365_v4)"
	check_match "e: the example chains are still there" 'chain forward' "$(cat "$T/table3")"
	check_eq "e: a script that fails changes nothing (one transaction)" ok \
		"$(py listed "$T/opt.nft" "$T/list4" m365_v4)"
else
	nft_accepts "e: nft -c accepts it (first)" "$T/ww.nft"
	nft_accepts "e: nft -c accepts it (again)" "$T/ww.nft"
fi

# --- f. --categories Optimize ---------------------------------------------------

out=$(py fixture "$T/opt.nft" "$WW25" Optimize -)
check_sets "f: --categories Optimize: equal to the fixture's Optimize ranges"
a_all=$(py addresses "$T/ww.nft" m365_v4)
a_opt=$(py addresses "$T/opt.nft" m365_v4)
if [ "$a_opt" -gt 0 ] && [ "$a_opt" -lt "$a_all" ]; then
	ok "f: m365_v4 is smaller with --categories Optimize ($a_opt < $a_all addresses)"
else
	not_ok "f: m365_v4 is smaller with --categories Optimize" "$a_opt, not below $a_all"
fi

# --- g. 100,000 local bypass ranges --------------------------------------------

py gen 100000 >"$T/big.list"
t0=$(date +%s%N)
export_nft "$T/big.nft" --list "$WW25" --local "$T/big.list"
ms=$((($(date +%s%N) - t0) / 1000000))
expect "g: 100,000 local ranges export" 0 '^$'
if [ "$ms" -lt 10000 ]; then
	ok "g: in under 10 s ($ms ms)"
else
	not_ok "g: in under 10 s" "$ms ms"
fi
n=$(py fixture "$T/big.nft" "$WW25" Optimize,Allow "$T/big.list" | grep '^m365_v4 ')
check_match "g: m365_v4 holds them all, exactly" '^m365_v4 ok 1000[0-9][0-9]$' "$n"
nft_accepts "g: nft -c accepts it" "$T/big.nft"

# --- h. a newline in a file name ------------------------------------------------

nl='
'
printf 'bypass 192.0.2.0/24\n' >"$T/evil${nl}flush ruleset.list"
export_nft "$T/evil.nft" --list "$WW25" --local "$T/evil${nl}flush ruleset.list"
expect "h: a local list named with a newline exports" 0 '^$'
check_eq "h: no line of the header escapes its comment" 0 \
	"$(sed -n '1,/^table inet m365 {$/p' "$T/evil.nft" | grep -cv '^#\|^$\|^table inet m365 {$')"
nft_accepts "h: nft -c accepts it" "$T/evil.nft"

echo "# checks: $_passed passed, $_failed failed"
finish
