#!/bin/sh
# test_monitoring_contrib.sh - the monitoring files of contrib/ work: the
# Prometheus alert rules load and pass their unit tests, the example
# Prometheus config loads them, the Grafana dashboard is JSON whose every
# query is valid PromQL, the rules and the dashboard use only metrics that
# `m365ctl metrics` exports, and the systemd unit and tmpfiles.d entry are
# accepted and make what they should.
. "$(dirname "$0")/../lib.sh"

cd "$ROOT" || exit 1
command -v promtool >/dev/null 2>&1 || abort "promtool is not installed (make deps)"
T=$(mktemp -d) || abort "mktemp failed"
on_exit "rm -rf '$T'"
RULES=contrib/prometheus/m365-bypass.rules.yml
DASH=contrib/grafana/m365-bypass.json
UNIT=contrib/systemd/m365ctl-metrics.service
TMPF=$ROOT/contrib/tmpfiles.d/m365-bypass.conf

# check_cmd NAME CMD...: PASS when CMD succeeds, else FAIL with its output.
check_cmd() {
	_name=$1
	shift
	if _out=$("$@" 2>&1); then
		ok "$_name"
	else
		not_ok "$_name" "$(printf '%s\n' "$_out" | tail -8)"
	fi
}

# --- Prometheus ----------------------------------------------------------------
check_cmd "promtool check rules $RULES" promtool check rules "$RULES"
check_cmd "promtool test rules m365-bypass.rules.test.yml" \
	sh -c 'cd contrib/prometheus && promtool test rules m365-bypass.rules.test.yml'
mkdir -p "$T/prom"
cp contrib/prometheus/prometheus.yml.example "$T/prom/prometheus.yml"
cp "$RULES" "$T/prom/"
check_cmd "promtool check config prometheus.yml.example (with the rules)" \
	promtool check config "$T/prom/prometheus.yml"

# --- Grafana -------------------------------------------------------------------
check_cmd "the dashboard is valid JSON" python3 -m json.tool "$DASH"
# Checks the dashboard's shape and writes each query (Grafana's variables
# replaced by values) as a recording rule, for promtool to parse.
if out=$(python3 - "$DASH" "$T/dash.rules.yml" <<'PY' 2>&1
import json, re, sys
d = json.load(open(sys.argv[1]))
errors = []
DS = "${DS_PROMETHEUS}"
if not 36 <= d.get("schemaVersion", 0) <= 39:
    errors.append("schemaVersion %r" % d.get("schemaVersion"))
tvars = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
if tvars.get("DS_PROMETHEUS", {}).get("type") != "datasource":
    errors.append("no datasource variable DS_PROMETHEUS")
if tvars.get("instance", {}).get("type") != "query":
    errors.append("no query variable instance")
exprs = []
q = tvars.get("instance", {}).get("query", {})
m = re.match(r"label_values\((.*),\s*instance\)$",
             q.get("query", "") if isinstance(q, dict) else q)
if m:
    exprs.append(("variable_instance", m.group(1)))
else:
    errors.append("the instance variable is not label_values(..., instance)")
ids = set()
panels = d.get("panels", [])
for p in list(panels):
    panels.extend(p.get("panels", []))
for p in panels:
    if p["id"] in ids:
        errors.append("panel id %d twice" % p["id"])
    ids.add(p["id"])
    if p["type"] == "row":
        continue
    if p.get("datasource", {}).get("uid") != DS:
        errors.append("panel %r: datasource is not %s" % (p["title"], DS))
    if not p.get("targets"):
        errors.append("panel %r has no query" % p["title"])
    for t in p.get("targets", []):
        if t.get("datasource", {}).get("uid") != DS:
            errors.append("panel %r %s: datasource is not %s" % (p["title"], t["refId"], DS))
        exprs.append(("panel_%d_%s" % (p["id"], t["refId"]), t["expr"]))
all_exprs = "\n".join(e for _, e in exprs)
for need in ["m365_bypass_lookups_total", "m365_bypass_lookup_duration_seconds_bucket",
             "histogram_quantile(0.5,", "histogram_quantile(0.9,", "histogram_quantile(0.99,",
             "m365_bypass_list_version", "m365_bypass_list_published_timestamp_seconds",
             "m365_bypass_list_switches_total", "m365_bypass_list_refused_total",
             "m365_bypass_invalid_requests_total", "m365_bypass_redis_up",
             "m365_bypass_processes"]:
    if need not in all_exprs:
        errors.append("no panel uses %s" % need)
subst = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
         "${instance}": ".*", "$instance": ".*"}
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for name, e in exprs:
        for k, v in subst.items():
            e = e.replace(k, v)
        if "$" in e:
            errors.append("%s: unknown variable in %r" % (name, e))
        f.write("      - record: dashboard:%s\n        expr: %s\n" % (name, json.dumps(e)))
for e in errors:
    print(e)
print("%d queries" % len(exprs))
sys.exit(1 if errors else 0)
PY
); then
	ok "the dashboard has its variables, datasource and panels ($(printf '%s' "$out" | tail -1))"
else
	not_ok "the dashboard has its variables, datasource and panels" "$out"
fi
check_cmd "every dashboard query is valid PromQL" promtool check rules "$T/dash.rules.yml"

# --- the metrics they use ------------------------------------------------------
# Every m365_bypass_* name in the rules and the dashboard must be one that
# m365ctl metrics exports: run a helper counting into a fresh directory,
# give it a made-up updater run, and read what the exporter says.
if [ ! -x "$BUILD/ext_m365_acl" ] || [ ! -x "$BUILD/m365ctl" ]; then
	make -s -C "$ROOT" build/ext_m365_acl build/m365ctl >/dev/null 2>&1
fi
[ -x "$BUILD/ext_m365_acl" ] && [ -x "$BUILD/m365ctl" ] ||
	abort "build/ext_m365_acl or build/m365ctl is missing"
mkdir -p "$T/metrics" "$T/state"
mkfifo "$T/in"
: >"$T/helper.out"
"$BUILD/ext_m365_acl" --metrics "$T/metrics" <"$T/in" >"$T/helper.out" 2>"$T/helper.err" &
hpid=$!
on_exit "kill $hpid 2>/dev/null"
exec 3>"$T/in"
printf '1 teams.microsoft.com 443 -\n2 example.com 443 -\n' >&3
i=0
while [ "$(wc -l <"$T/helper.out")" -lt 2 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
printf '%s\n' 'attempt_at 1764590000' 'result current' 'success_at 1764590000' \
	'version 2025120100' 'refused_at 1764500000' 'refused_reason breadth' \
	>"$T/state/last-update"
"$BUILD/m365ctl" metrics --metrics "$T/metrics" --state-dir "$T/state" >"$T/scrape" 2>"$T/scrape.err"
check_eq "m365ctl metrics reads the helper's counters" \
	"m365_bypass_metrics_up 1" "$(grep '^m365_bypass_metrics_up' "$T/scrape")"
check_cmd "promtool check metrics accepts m365ctl metrics's output" \
	sh -c "promtool check metrics <'$T/scrape'"
exec 3>&-
wait $hpid 2>/dev/null
exported=$(sed -n 's/^\(m365_bypass_[a-z_]*\).*/\1/p' "$T/scrape" | sort -u)
# Exported only with Redis (redis_up) or a pending Retry-After.
exported="$exported
m365_bypass_redis_up
m365_bypass_update_retry_after_timestamp_seconds"
used=$(cat "$RULES" "$DASH" | grep -v '^ *#' | grep -o 'm365_bypass_[a-z_]*' | sort -u)
unknown=""
for m in $used; do
	printf '%s\n' "$exported" | grep -qx "$m" || unknown="$unknown $m"
done
check_eq "the rules and the dashboard use only exported metrics" "" "$unknown"
for m in m365_bypass_processes m365_bypass_list_loaded m365_bypass_list_version \
	m365_bypass_list_published_timestamp_seconds \
	m365_bypass_update_last_success_timestamp_seconds m365_bypass_update_last_result; do
	check_match "m365ctl metrics exports $m" "^$m" "$(grep "^$m" "$T/scrape" | head -1)"
done

# A real Prometheus with the example config (its target moved to a free
# port) scrapes m365ctl metrics --listen, as in the README, and evaluates
# the rules without errors.
if command -v prometheus >/dev/null 2>&1; then
	mport=$(free_port)
	pport=$(free_port)
	"$BUILD/m365ctl" metrics --metrics "$T/metrics" --state-dir "$T/state" \
		--listen "127.0.0.1:$mport" 2>"$T/listen.err" &
	on_exit "kill $! 2>/dev/null"
	sed "s/127\.0\.0\.1:9365/127.0.0.1:$mport/" contrib/prometheus/prometheus.yml.example \
		>"$T/prom/prometheus.yml"
	prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
		--web.listen-address="127.0.0.1:$pport" >"$T/prometheus.log" 2>&1 &
	on_exit "kill $! 2>/dev/null"
	q="http://127.0.0.1:$pport/api/v1/query?query=m365_bypass_lookups_total%7Bverdict%3D%22ok%22%7D"
	got=""
	i=0
	while [ $i -lt 40 ]; do
		got=$(curl -s "$q" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(" ".join(sorted("%s %s %s" % (x["metric"]["job"], x["metric"]["service"], x["value"][1]) for x in r)))
' 2>/dev/null)
		[ -n "$got" ] && break
		sleep 1
		i=$((i + 1))
	done
	check_eq "Prometheus with the example config scrapes m365ctl metrics --listen" \
		"m365-bypass Skype 1" "$got"
	got=$(curl -s "http://127.0.0.1:$pport/api/v1/rules" | python3 -c '
import json, sys
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
bad = ["%s: %s" % (r["name"], r.get("lastError", "")) for r in rules if r["health"] == "err"]
print("%d rules" % len(rules), "; ".join(bad))
' 2>&1)
	check_match "Prometheus evaluates every rule without error" '^[1-9][0-9]* rules $' "$got"
fi

# --- systemd -------------------------------------------------------------------
want='ExecStart=/usr/bin/m365ctl metrics --listen 0.0.0.0:9365 --metrics /run/m365-bypass --state-dir /var/lib/m365-bypass'
check_eq "the metrics unit runs m365ctl metrics on port 9365" "$want" \
	"$(grep '^ExecStart=' "$UNIT")"
# it only reads: an ephemeral user, not the updater's m365-bypass
check_eq "the metrics unit restarts on failure, as a dynamic user" \
	"DynamicUser=yes Restart=on-failure" \
	"$(grep -E '^(DynamicUser|Restart)=' "$UNIT" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "the metrics unit leaves the updater's state directory alone" "" \
	"$(grep -E '^(StateDirectory|ReadWritePaths)=' "$UNIT")"
if command -v systemd-analyze >/dev/null 2>&1; then
	# the unit as make install writes it, for the m365ctl just built
	sed "s#/usr/bin/m365ctl#$BUILD/m365ctl#" "$UNIT" >"$T/m365ctl-metrics.service"
	check_cmd "systemd-analyze verify accepts the metrics unit" \
		systemd-analyze verify --man=no "$T/m365ctl-metrics.service"
	e=$(systemd-analyze security --offline=true "$T/m365ctl-metrics.service" 2>&1 |
		sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) .*$/\1/p')
	check_match "systemd-analyze security rates the metrics unit 3.0 or better" \
		'^([0-2]\.[0-9]|3\.0)$' "$e"
fi

# --- tmpfiles.d ----------------------------------------------------------------
if command -v systemd-tmpfiles >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] &&
	getent passwd proxy >/dev/null && getent group c-icap >/dev/null; then
	R="$T/root"
	mkdir -p "$R/etc"
	cp /etc/passwd /etc/group "$R/etc/"
	# the updater's user, as make install creates it
	if ! grep -q '^m365-bypass:' "$R/etc/passwd"; then
		echo 'm365-bypass:x:990:990::/var/lib/m365-bypass:/usr/sbin/nologin' >>"$R/etc/passwd"
		echo 'm365-bypass:x:990:' >>"$R/etc/group"
	fi
	check_cmd "systemd-tmpfiles --create applies m365-bypass.conf" \
		systemd-tmpfiles --create --root="$R" "$TMPF"
	check_eq "/run/m365-bypass: 2775 proxy c-icap" "2775 proxy c-icap" \
		"$(stat -c '%a %U %G' "$R/run/m365-bypass" 2>&1)"
	check_eq "/run/m365-bypass/counters: an empty file, 664 proxy c-icap" \
		"regular empty file 664 proxy c-icap" \
		"$(stat -c '%F %a %U %G' "$R/run/m365-bypass/counters" 2>&1)"
	ids=$(awk -F: '$1 == "m365-bypass" { print $3, $4 }' "$R/etc/passwd")
	check_eq "/var/lib/m365-bypass: 755 m365-bypass m365-bypass" "755 $ids" \
		"$(stat -c '%a %u %g' "$R/var/lib/m365-bypass" 2>&1)"
	check_eq "/var/lib/m365-bypass/cache: 2775 proxy c-icap" "2775 proxy c-icap" \
		"$(stat -c '%a %U %G' "$R/var/lib/m365-bypass/cache" 2>&1)"
	# applied again (systemd-tmpfiles runs at boot and on upgrades), it
	# keeps the counts
	printf 'counts' >"$R/run/m365-bypass/counters"
	systemd-tmpfiles --create --root="$R" "$TMPF" >/dev/null 2>&1
	check_eq "systemd-tmpfiles --create again keeps the counters" "counts" \
		"$(cat "$R/run/m365-bypass/counters")"
else
	check_eq "m365-bypass.conf makes /run/m365-bypass, its counters, the state and cache directories" \
		"d /run/m365-bypass 2775 proxy c-icap
f /run/m365-bypass/counters 0664 proxy c-icap
d /var/lib/m365-bypass 0755 m365-bypass m365-bypass
d /var/lib/m365-bypass/cache 2775 proxy c-icap" \
		"$(grep -v '^#' "$TMPF" | awk 'NF { print $1, $2, $3, $4, $5 }')"
fi
finish
