# contrib/port.sh - sourced by the run.sh demos: picks the loopback port.
#
#   pick_port DEFAULT LAST WHAT   sets $port: $PORT when set (it must be
#   free), else DEFAULT, else the next free port up to LAST, saying so.

# busy PORT: something already listens on 127.0.0.1:PORT.
busy() {
	python3 -c 'import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"
}

pick_port() {
	port=${PORT:-$1}
	if [ -z "${PORT:-}" ] && busy "$port"; then
		# Typically the distribution's own service, started when the
		# package was installed.  Take the next free port rather than fail.
		_first=$port
		while busy "$port" && [ "$port" -lt "$2" ]; do
			port=$((port + 1))
		done
		echo "run.sh: 127.0.0.1:$_first is in use (the system $3 service?); using 127.0.0.1:$port" >&2
	elif busy "$port"; then
		echo "run.sh: 127.0.0.1:$port is in use; choose another with PORT=..." >&2
		exit 1
	fi
}
