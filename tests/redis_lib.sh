# tests/redis_lib.sh - a private redis-server for the shell integration
# tests, on a free loopback port, without persistence.  Source it after
# tests/lib.sh, then:
#
#   redis_init DIR    picks RPORT, sets RURL=redis://127.0.0.1:RPORT, keeps
#                     the log in DIR/redis.log, registers the cleanup
#   start_redis       starts it (again); false when it does not listen in 10 s
#   kill_redis        SIGKILL, as a crash would
#   rcli ARGS...      redis-cli on it, with a timeout
#   updater_setup     a started Redis, the stand-in of Microsoft's service
#                     (msstub_start) and a state directory S, for upd
#   upd ARGS...       run "$CTL" update against them (lib.sh's run)

redis_init() {
	_redis_dir=$1
	RPORT=$(free_port)
	RURL="redis://127.0.0.1:$RPORT"
	RPID=""
	on_exit 'kill_redis'
}

start_redis() {
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$_redis_dir" --logfile "$_redis_dir/redis.log" >/dev/null 2>&1 &
	RPID=$!
	wait_port "$RPORT" 10
}

kill_redis() {
	[ -n "$RPID" ] || return 0
	kill -9 "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=""
}

rcli() { timeout 10 redis-cli -p "$RPORT" "$@"; }

updater_setup() {
	redis_init "$T"
	start_redis || abort "redis-server did not start"
	msstub_start
	S=$T/state
	mkdir -p "$S"
}

upd() {
	run "$CTL" update --base-url "$BASE" --redis "$RURL" --state-dir "$S" \
		--timeout 10 "$@"
}
