#!/bin/sh
# test_readme_monitoring.sh - the README's Monitoring section works as
# written: `make run`'s Squid (contrib/squid/run.sh) counts into
# build/run/metrics, the exporter and the Prometheus commands taken from
# the README itself start, curl through the proxy moves the counters, and
# the README's query answers them from Prometheus.  Ports the README names
# that are taken here (3128, 9365, 19090) are replaced by free ones.
. "$(dirname "$0")/../lib.sh"

cd "$ROOT" || exit 1
T=$(mktemp -d)
on_exit "rm -rf '$T'"
command -v prometheus >/dev/null || abort "prometheus is not installed (make deps)"
[ -x build/m365ctl ] && [ -x build/ext_m365_acl ] || abort "run make all first"

# section: the README's Monitoring section
awk '/^## Monitoring/ { on = 1; next } on && /^## / { exit } on' README.md >"$T/section"
# the exporter and Prometheus commands: indented lines, with their
# continuations, without the shell's "&" and comments
awk '/^    build\/m365ctl metrics .*--listen/ || /^    prometheus / { cmd = 1 }
	cmd { line = $0; sub(/^    /, "", line); sub(/  *#.*$/, "", line);
	      cont = (line ~ /\\$/); sub(/ *\\$/, "", line); sub(/ *&$/, "", line);
	      printf "%s%s", line, (cont ? " " : "\n"); if (!cont) cmd = 0 }' \
	"$T/section" >"$T/cmds"
EXPORTER=$(grep '^build/m365ctl metrics' "$T/cmds")
PROM=$(grep '^prometheus ' "$T/cmds")
check_match "the README starts the exporter on build/run/metrics" \
	'--metrics build/run/metrics --listen 127\.0\.0\.1:9365$' "$EXPORTER"
check_match "the README starts Prometheus with the example config" \
	'config\.file=contrib/prometheus/prometheus\.yml\.example .*web\.listen-address=127\.0\.0\.1:19090$' "$PROM"
QUERY=$(sed -n "s/.*--data-urlencode 'query=\(.*\)'.*/\1/p" "$T/section" | head -n 1)
check_match "the README shows a query of m365_bypass_lookups_total" 'm365_bypass_lookups_total' "$QUERY"

# free_or PORT: PORT when nothing listens there, else a free port
free_or() {
	if python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $1))" 2>/dev/null; then
		echo "$1"
	else
		free_port
	fi
}
XPORT=$(free_or 9365)
PPORT=$(free_or 19090)

# make run (without its deps step): Squid with the helper, in the background
rm -rf build/run/metrics
PORT=$(free_or 3128)
PORT=$PORT sh contrib/squid/run.sh >"$T/run.out" 2>&1 &
runpid=$!
on_exit "kill $runpid 2>/dev/null; [ -f '$ROOT/build/run/squid.pid' ] && kill \$(cat '$ROOT/build/run/squid.pid') 2>/dev/null; sleep 1"
if wait_port "$PORT" 30; then
	ok "make run's Squid listens on 127.0.0.1:$PORT"
else
	not_ok "make run's Squid starts" "$(tail -5 "$T/run.out")"
	finish
fi

# the exporter and Prometheus, as the README says (ports swapped if taken)
cp contrib/prometheus/prometheus.yml.example "$T/prometheus.yml"
cp contrib/prometheus/m365-bypass.rules.yml "$T/"
sed -i "s/127\.0\.0\.1:9365/127.0.0.1:$XPORT/; s/scrape_interval: 15s/scrape_interval: 1s/" "$T/prometheus.yml"
EXPORTER=$(printf '%s' "$EXPORTER" | sed "s/:9365\$/:$XPORT/")
PROM=$(printf '%s' "$PROM" | sed -e "s|contrib/prometheus/prometheus.yml.example|$T/prometheus.yml|" \
	-e "s|build/prometheus|$T/tsdb|" -e "s/:19090\$/:$PPORT/")
sh -c "exec $EXPORTER" 2>"$T/exporter.err" &
xpid=$!
on_exit "kill $xpid 2>/dev/null"
sh -c "exec $PROM" >"$T/prom.log" 2>&1 &
ppid_=$!
on_exit "kill $ppid_ 2>/dev/null"
wait_port "$XPORT" 10 && ok "the exporter listens" || not_ok "the exporter listens" "$(cat "$T/exporter.err")"
wait_port "$PPORT" 30 && ok "Prometheus listens" || not_ok "Prometheus listens" "$(tail -5 "$T/prom.log")"

# make run's curl commands, a few times
for i in 1 2 3; do
	curl -s -o /dev/null -m 5 -x "http://127.0.0.1:$PORT" -I https://teams.microsoft.com/
	curl -s -o /dev/null -m 5 -x "http://127.0.0.1:$PORT" -I https://example.com/
done
check_match "the counters moved: Teams bypassed (Allow, Skype)" \
	'^m365_bypass_lookups_total\{frontend="squid",verdict="ok",category="Allow",service="Skype"\} [1-9]' \
	"$(build/m365ctl metrics --metrics build/run/metrics 2>&1)"

# the README's query, until Prometheus has scraped
got=""
i=0
while [ $i -lt 60 ]; do
	got=$(curl -s "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$QUERY")
	printf '%s' "$got" | grep -q '"service":"Skype","verdict":"ok"' && break
	sleep 0.5
	i=$((i + 1))
done
check_match "Prometheus answers the README's query with the bypassed Teams lookups" \
	'"service":"Skype","verdict":"ok"\},"value":\[[0-9.]+,"[1-9]' "$got"
check_match "... and the other site's, inspected" '"service":"none","verdict":"err"' "$got"
finish
