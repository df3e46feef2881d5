# Sourced (POSIX sh) by tests that need a private Redis Cluster on 127.0.0.1: nodes
# on free TCP ports, nothing persisted but each node's cluster config file, and the
# few operations a test drives (reshard, manual failover, finding masters and
# replicas). Needs redis-server and redis-cli (7.0: --cluster create, --cluster-port).
#
# Ports are picked at random in 10000-22767, each node's cluster bus at port+10000
# (20000-32767): both below Linux's ephemeral range (32768-60999), so a port found
# free is not taken a moment later by some outgoing connection. A port taken anyway
# makes that node's start fail and another port is tried.
#
# private_cluster_start DIR MASTERS REPLICAS_PER_MASTER: starts MASTERS * (1 +
# REPLICAS_PER_MASTER) nodes (cluster-node-timeout 1000 ms), each with its files in
# DIR/PORT/ and its output in DIR/PORT/redis.log, creates the cluster (redis-cli
# --cluster create, at least 3 masters) and waits until every node says
# cluster_state:ok and every replica's link to its master is up. Sets CLUSTER_DIR,
# CLUSTER_PORTS and CLUSTER_PIDS (space-separated, in the same order) and writes them
# to DIR/cluster.env, which another shell can source to act on the same cluster.
# Returns 0, or 1 with the reason on stderr (the caller's cleanup calls
# private_cluster_stop, which stops whatever was started).
private_cluster_start() {
	CLUSTER_DIR=$1
	_pc_masters=$2
	_pc_replicas=$3
	CLUSTER_PORTS=""
	CLUSTER_PIDS=""
	_pc_total=$((_pc_masters * (1 + _pc_replicas)))
	_pc_i=0
	while [ "$_pc_i" -lt "$_pc_total" ]; do
		private_cluster_start_node || {
			echo "private_cluster: cannot start node $_pc_i" >&2
			return 1
		}
		_pc_i=$((_pc_i + 1))
	done
	private_cluster_save_env
	_pc_addresses=""
	for _pc_port in $CLUSTER_PORTS; do
		_pc_addresses="$_pc_addresses 127.0.0.1:$_pc_port"
	done
	# shellcheck disable=SC2086
	if ! redis-cli --cluster create $_pc_addresses --cluster-replicas "$_pc_replicas" \
		--cluster-yes >"$CLUSTER_DIR/create.log" 2>&1; then
		echo "private_cluster: redis-cli --cluster create failed:" >&2
		cat "$CLUSTER_DIR/create.log" >&2
		return 1
	fi
	private_cluster_wait_ok || {
		echo "private_cluster: cluster_state is not ok on every node" >&2
		return 1
	}
	private_cluster_wait_replicas_linked || {
		echo "private_cluster: a replica's link to its master is not up" >&2
		return 1
	}
}

# Starts one node on a random free port (up to 20 tries) and appends it to
# CLUSTER_PORTS and CLUSTER_PIDS.
private_cluster_start_node() {
	for _ in $(seq 20); do
		_pc_port=$((10000 + $(od -An -N2 -tu2 /dev/urandom) % 12768))
		case " $CLUSTER_PORTS " in *" $_pc_port "*) continue ;; esac
		mkdir -p "$CLUSTER_DIR/$_pc_port"
		redis-server --bind 127.0.0.1 --port "$_pc_port" --cluster-enabled yes \
			--cluster-config-file "$CLUSTER_DIR/$_pc_port/nodes.conf" \
			--cluster-node-timeout 1000 --dir "$CLUSTER_DIR/$_pc_port" --save "" \
			--appendonly no --repl-diskless-sync-delay 0 --daemonize no \
			>"$CLUSTER_DIR/$_pc_port/redis.log" 2>&1 &
		_pc_pid=$!
		if private_cluster_wait_ping "$_pc_pid" "$_pc_port"; then
			CLUSTER_PORTS="${CLUSTER_PORTS:+$CLUSTER_PORTS }$_pc_port"
			CLUSTER_PIDS="${CLUSTER_PIDS:+$CLUSTER_PIDS }$_pc_pid"
			return 0
		fi
		kill "$_pc_pid" 2>/dev/null
		wait "$_pc_pid" 2>/dev/null
	done
	return 1
}

# private_cluster_wait_ping PID PORT: 0 once the node answers PING; 1 when process
# PID is gone (its port was taken) or after about 10 s.
private_cluster_wait_ping() {
	for _ in $(seq 200); do
		redis-cli -p "$2" ping >/dev/null 2>&1 && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

private_cluster_save_env() {
	{
		echo "CLUSTER_DIR='$CLUSTER_DIR'"
		echo "CLUSTER_PORTS='$CLUSTER_PORTS'"
		echo "CLUSTER_PIDS='$CLUSTER_PIDS'"
	} >"$CLUSTER_DIR/cluster.env"
}

# Stops every node this shell (or the one that wrote DIR/cluster.env, sourced) started.
private_cluster_stop() {
	for _pc_pid in $CLUSTER_PIDS; do
		kill "$_pc_pid" 2>/dev/null
	done
	for _pc_pid in $CLUSTER_PIDS; do
		# wait works only in the starting shell; elsewhere poll until it is gone.
		wait "$_pc_pid" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$_pc_pid" 2>/dev/null || break
			sleep 0.05
		done
	done
}

# The ports of the live nodes, one a line (a killed node is left out).
private_cluster_live_ports() {
	for _pc_port in $CLUSTER_PORTS; do
		redis-cli -p "$_pc_port" ping >/dev/null 2>&1 && echo "$_pc_port"
	done
}

# 0 once every live node says cluster_state:ok and all of them list the same masters
# with slots (so a reshard or failover has spread); 1 after about 15 s.
private_cluster_wait_ok() {
	for _ in $(seq 300); do
		_pc_ok=1
		_pc_views=""
		for _pc_port in $(private_cluster_live_ports); do
			if ! redis-cli -p "$_pc_port" cluster info 2>/dev/null |
				grep -q '^cluster_state:ok'; then
				_pc_ok=0
				break
			fi
			_pc_view=$(private_cluster_slot_owners "$_pc_port")
			if [ -z "$_pc_views" ]; then
				_pc_views=$_pc_view
			elif [ "$_pc_view" != "$_pc_views" ]; then
				_pc_ok=0
				break
			fi
		done
		[ "$_pc_ok" = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

# What node PORT says about who serves which slots: "start-end port" lines, sorted.
private_cluster_slot_owners() {
	redis-cli -p "$1" cluster nodes 2>/dev/null | awk '
		$3 ~ /master/ && $3 !~ /fail/ {
			split($2, a, "[:@]")
			for (i = 9; i <= NF; i++)
				if ($i !~ /^\[/)
					print $i, a[2]
		}' | sort
}

# 0 once every live replica reports master_link_status:up; 1 after about 15 s.
private_cluster_wait_replicas_linked() {
	for _ in $(seq 300); do
		_pc_ok=1
		for _pc_port in $(private_cluster_live_ports); do
			_pc_info=$(redis-cli -p "$_pc_port" info replication 2>/dev/null | tr -d '\r')
			case "$_pc_info" in
			*role:slave*)
				case "$_pc_info" in
				*master_link_status:up*) ;;
				*) _pc_ok=0 ;;
				esac
				;;
			esac
		done
		[ "$_pc_ok" = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

private_cluster_node_id() {
	redis-cli -p "$1" cluster myid
}

# The ports of the masters that serve slots, one a line, in CLUSTER_PORTS order.
private_cluster_masters() {
	for _pc_port in $(private_cluster_live_ports); do
		redis-cli -p "$_pc_port" cluster nodes 2>/dev/null |
			awk '$3 ~ /myself/ && $3 ~ /master/ && NF >= 9 { found = 1 }
			     END { exit !found }' && echo "$_pc_port"
	done
}

# The first master that serves slots.
private_cluster_master_port() {
	private_cluster_masters | head -n 1
}

# private_cluster_replica_of MASTER_PORT: the port of a live replica of that master.
private_cluster_replica_of() {
	_pc_master_id=$(private_cluster_node_id "$1")
	for _pc_port in $(private_cluster_live_ports); do
		redis-cli -p "$_pc_port" cluster nodes 2>/dev/null |
			awk -v m="$_pc_master_id" '$3 ~ /myself/ && $3 ~ /slave/ && $4 == m { found = 1 }
			     END { exit !found }' && echo "$_pc_port" && return 0
	done
	return 1
}

# private_cluster_pid_of PORT: the pid of the node on PORT.
private_cluster_pid_of() {
	# shellcheck disable=SC2086 # the pids are words to split
	set -- "$1" $CLUSTER_PIDS
	_pc_want=$1
	shift
	for _pc_port in $CLUSTER_PORTS; do
		if [ "$_pc_port" = "$_pc_want" ]; then
			echo "$1"
			return 0
		fi
		shift
	done
	return 1
}

# private_cluster_reshard FROM_PORT TO_PORT SLOTS: moves SLOTS slots (redis-cli picks
# the lowest-numbered ones FROM serves) from one master to another, keys included,
# and waits until every node agrees.
private_cluster_reshard() {
	redis-cli --cluster reshard "127.0.0.1:$1" --cluster-from "$(private_cluster_node_id "$1")" \
		--cluster-to "$(private_cluster_node_id "$2")" --cluster-slots "$3" --cluster-yes \
		>"$CLUSTER_DIR/reshard.log" 2>&1 || {
		cat "$CLUSTER_DIR/reshard.log" >&2
		return 1
	}
	private_cluster_wait_ok
}

# private_cluster_failover REPLICA_PORT: CLUSTER FAILOVER on that replica; waits until
# it is a master, every node agrees and the cluster is ok.
private_cluster_failover() {
	redis-cli -p "$1" cluster failover >/dev/null || return 1
	for _ in $(seq 300); do
		redis-cli -p "$1" role 2>/dev/null | head -n 1 | grep -q '^master' && break
		sleep 0.05
	done
	redis-cli -p "$1" role 2>/dev/null | head -n 1 | grep -q '^master' || return 1
	private_cluster_wait_ok
}
