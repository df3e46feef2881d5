# Sourced (POSIX sh) by the integration tests and the benchmarks that need a private
# redis-server: one place to start it on a Unix socket, with nothing written to disk,
# and wait until it answers, instead of the same lines copied into every script.
#
# private_redis_start SOCK DIR [ARG...]: starts
#   redis-server --port 0 --unixsocket SOCK --dir DIR --save "" --appendonly no ARG...
# in the background, its output in DIR/redis.log, and sets REDIS_PID (every call, so a
# script that restarts Redis always holds the running one's pid). ARG... come last, so
# they override the defaults (e.g. --appendonly yes). Returns 0 once redis-cli ping
# answers on SOCK, 1 if it does not within about 10 s or redis-server exits; the
# caller says so (DIR/redis.log tells why) and its cleanup kills REDIS_PID.
private_redis_start() {
	_private_redis_sock=$1
	_private_redis_dir=$2
	shift 2
	redis-server --port 0 --unixsocket "$_private_redis_sock" --dir "$_private_redis_dir" \
		--save "" --appendonly no --daemonize no "$@" >"$_private_redis_dir/redis.log" 2>&1 &
	REDIS_PID=$!
	private_redis_wait "$REDIS_PID" -s "$_private_redis_sock"
}

# private_redis_wait PID REDIS-CLI-ARGS...: waits until `redis-cli REDIS-CLI-ARGS ping`
# succeeds (0), for a redis-server started otherwise (a TCP one with a password); 1
# after about 10 s or as soon as process PID is gone.
private_redis_wait() {
	_private_redis_pid=$1
	shift
	for _ in $(seq 100); do
		redis-cli "$@" ping >/dev/null 2>&1 && return 0
		kill -0 "$_private_redis_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
