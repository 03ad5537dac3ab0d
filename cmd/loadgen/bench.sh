#!/usr/bin/env bash
# bench.sh runs the scenarios of BENCHMARKS.md against a fresh pcx server
# per run (so that the server's peak RSS belongs to that run alone), on
# loopback, each run bounded in time, and prints one summary line per run.
#
# Usage: cmd/loadgen/bench.sh [RUNS [SCENARIO...]]   (from the module root)
# The server runs with --rate-limit 0: the scenarios send faster than the
# default per-connection limit of 50 records/s, which would measure the
# limit, not the server. SERVER_ARGS adds flags to the server's command
# line (e.g. --spool-dir, or --rate-limit 50 to measure with the default).
# Scenarios: fanout10 fanout1 latency file1g file1g-compare file1g-none
#            file100m10 file100m10-compare file100m10-none file100m-compare
#            conns10k (default: all but the -ws, -tls and -Nn ones). NAME-ws runs
#            scenario NAME over the server's WebSocket (cmd/loadgen --ws) instead of TCP;
#            NAME-tls runs it over TLS (cmd/loadgen --tls).
#            NAME-Nn (N = 1, 2, 3, ...; after -ws or -tls if both) runs it
#            against N servers joined into one room by a nats-server that the
#            script starts for the run (issue 13; `go run
#            github.com/nats-io/nats-server/v2@$NATS_VERSION`, nothing
#            installed), the tool's clients spread over them round-robin
#            (loadgen --server a,b): with fanout the sender is on server 1
#            and the receivers on all; with files the sender is on server 1
#            and the first receiver on server 2. "cluster" stands for the
#            side-by-side set of issue 13: fanout1 fanout1-2n latency
#            latency-2n file1g-compare file1g-compare-2n.
# Runs are interleaved: run 1 of every scenario, then run 2 of every one,
# so that "fanout1 fanout1-tls" alternates plain and TLS on a busy machine.
# BENCH_ADDR, BENCH_WEB_ADDR, BENCH_TLS_ADDR, BENCH_NATS_ADDR and BENCH_BIN
# (where the binaries and state go) let two benches share a machine; server
# k of a cluster run listens on the ports of server 1 plus 100*(k-1).
# Every process the script starts is stopped when it exits, however it ends.
set -euo pipefail

runs=${1:-3}
shift || true
scenarios=()
for s in "$@"; do
	if [ "$s" = cluster ]; then
		scenarios+=(fanout1 fanout1-2n latency latency-2n file1g-compare file1g-compare-2n)
	else
		scenarios+=("$s")
	fi
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(fanout10 fanout1 latency file1g file1g-compare file1g-none file100m10 file100m10-compare file100m10-none conns10k)

addr=${BENCH_ADDR:-127.0.0.1:23499}
webaddr=${BENCH_WEB_ADDR:-127.0.0.1:23498}
tlsaddr=${BENCH_TLS_ADDR:-127.0.0.1:23497}
natsaddr=${BENCH_NATS_ADDR:-127.0.0.1:23496}
natsversion=${NATS_VERSION:-v2.15.2}
bin=${BENCH_BIN:-/tmp}

# pids holds every server the script has running, toolpid the load tool
# while it runs, natspid the process group of the nats-server (go run and
# its child). cleanup stops them all.
pids=()
toolpid=
natspid=
cleanup() {
	if [ -n "$toolpid" ]; then
		kill "$toolpid" 2>/dev/null || true
		wait "$toolpid" 2>/dev/null || true
		toolpid=
	fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	stop_nats
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$bin/pcx-server" ./cmd/server
go build -o "$bin/pcx-loadgen" ./cmd/loadgen
ulimit -n "$(ulimit -Hn)" # 10,000 connections need more than 1024 files on both sides

args_for() {
	case $1 in
	fanout10) echo --scenario fanout --clients 100 --senders 10 --messages 20000 --size 64 ;;
	fanout1) echo --scenario fanout --clients 100 --senders 1 --messages 100000 --size 64 ;;
	latency) echo --scenario fanout --clients 101 --senders 1 --messages 10000 --size 64 --rate 1000 ;;
	file1g) echo --scenario files --receivers 1 --bytes 1073741824 ;;
	file1g-compare) echo --scenario files --receivers 1 --bytes 1073741824 --verify compare ;;
	file1g-none) echo --scenario files --receivers 1 --bytes 1073741824 --verify none ;;
	file100m10-none) echo --scenario files --receivers 10 --bytes 104857600 --verify none ;;
	file100m10) echo --scenario files --receivers 10 --bytes 104857600 ;;
	file100m10-compare) echo --scenario files --receivers 10 --bytes 104857600 --verify compare ;;
	file100m-compare) echo --scenario files --receivers 1 --bytes 104857600 --verify compare ;;
	conns10k) echo --scenario conns --clients 10000 --messages 5 ;;
	*) echo "unknown scenario $1" >&2; exit 2 ;;
	esac
}

# wait_port waits up to 10 s for host:port to accept a connection.
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on $1 after 10 s" >&2
	return 1
}

# shift_port adds n to the port of host:port.
shift_port() { echo "${1%:*}:$((${1##*:} + $2))"; }

# start_nats runs a fresh nats-server with JetStream, its store under $bin,
# in a process group of its own so that stop_nats ends go run and the
# server it runs together. The first go run compiles it (about 20 s on 2
# cores, cached after).
start_nats() {
	local store=$bin/pcx-bench-nats
	rm -rf "$store"
	mkdir -p "$store"
	setsid go run "github.com/nats-io/nats-server/v2@$natsversion" -js -sd "$store" \
		-a "${natsaddr%:*}" -p "${natsaddr##*:}" -P "$store/pid" >"$bin/pcx-bench-nats.log" 2>&1 &
	natspid=$!
	for _ in $(seq 1200); do # go run may compile first: up to 120 s
		(exec 3<>"/dev/tcp/${natsaddr%:*}/${natsaddr##*:}") 2>/dev/null && return 0
		kill -0 "$natspid" 2>/dev/null || break
		sleep 0.1
	done
	echo "nats-server did not start; its log: $bin/pcx-bench-nats.log" >&2
	return 1
}

stop_nats() {
	[ -n "$natspid" ] || return 0
	kill -TERM -- "-$natspid" 2>/dev/null || true
	wait "$natspid" 2>/dev/null || true
	natspid=
}

# cpu_ticks prints the user+system clock ticks of process $1 (0 if gone).
cpu_ticks() {
	local f
	f=$(cut -d')' -f2- "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	set -- $f
	echo $((${12} + ${13}))
}

for i in $(seq "$runs"); do
	for name in "${scenarios[@]}"; do
		base=$name
		nodes=0 # 0: one server, no NATS (today's single server)
		if [[ $base =~ ^(.*)-([0-9]+)n$ ]]; then
			base=${BASH_REMATCH[1]}
			nodes=${BASH_REMATCH[2]}
		fi
		scheme=
		case $base in
		*-ws) scheme=ws; base=${base%-ws} ;;
		*-tls) scheme=tls; base=${base%-tls} ;;
		esac
		args=$(args_for "$base")
		# Across nodes a file is relayed only once the receiver's node holds
		# it whole: no byte arrives while it crosses, longer than the
		# default 5 s without progress.
		[ "$nodes" -gt 0 ] && [[ $base == file* ]] && args="$args --drain 120s"
		cluster_args=()
		if [ "$nodes" -gt 0 ]; then
			start_nats
			cluster_args=(--nats "nats://$natsaddr" --room "bench-$name-$i")
		fi
		targets=()
		for k in $(seq "$((nodes > 0 ? nodes : 1))"); do
			off=$((100 * (k - 1)))
			a=$(shift_port "$addr" $off)
			w=$(shift_port "$webaddr" $off)
			t=$(shift_port "$tlsaddr" $off)
			node=()
			[ "$nodes" -gt 0 ] && node=(--node-name "bench-$k")
			# shellcheck disable=SC2086 # SERVER_ARGS are words
			"$bin/pcx-server" --listen "$a" --web-listen "$w" --tls-listen "$t" --data-dir "$bin/pcx-bench-state-$k" --rate-limit 0 \
				"${cluster_args[@]}" "${node[@]}" ${SERVER_ARGS:-} >"$bin/pcx-server-$name-$i-$k.log" 2>&1 &
			pids+=($!)
			case $scheme in
			ws) targets+=("ws://$w") ;;
			tls) targets+=("tls://$t") ;;
			*) targets+=("$a") ;;
			esac
		done
		for k in "${!targets[@]}"; do
			wait_port "$(shift_port "$addr" $((100 * k)))" || { tail -5 "$bin/pcx-server-$name-$i-$((k + 1)).log" >&2; exit 2; }
		done
		natscpu0=0
		[ -n "$natspid" ] && natscpu0=$(cpu_ticks "$(cat "$bin/pcx-bench-nats/pid")")
		list=$(IFS=,; echo "${targets[*]}")
		pidlist=$(IFS=,; echo "${pids[*]}")
		# In the background, so that a signal to the script is handled at
		# once (bash runs a trap only between commands, and wait is one).
		# shellcheck disable=SC2086 # args are words
		timeout 300 "$bin/pcx-loadgen" --server "$list" --server-pid "$pidlist" --duration 240s $args >"$bin/pcx-loadgen.out" 2>/dev/null &
		toolpid=$!
		wait "$toolpid" || true
		toolpid=
		line=$(cat "$bin/pcx-loadgen.out")
		extra=
		if [ -n "$natspid" ]; then
			natspidnum=$(cat "$bin/pcx-bench-nats/pid")
			extra=" nats_cpu_s=$(echo "$(cpu_ticks "$natspidnum") $natscpu0" | awk '{printf "%.2f", ($1-$2)/100}') nats_hwm_kb=$(awk '/VmHWM/{print $2}' "/proc/$natspidnum/status")"
		fi
		echo "bench=$name run=$i load1=$(cut -d' ' -f1 /proc/loadavg) nodes=$nodes $line$extra"
		cleanup
		sleep 1
	done
done
