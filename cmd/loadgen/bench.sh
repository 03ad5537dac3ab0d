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
#            conns10k (default: all but the -ws and -tls ones). NAME-ws runs
#            scenario NAME over the server's WebSocket (cmd/loadgen --ws) instead of TCP;
#            NAME-tls runs it over TLS (cmd/loadgen --tls).
# Runs are interleaved: run 1 of every scenario, then run 2 of every one,
# so that "fanout1 fanout1-tls" alternates plain and TLS on a busy machine.
# BENCH_ADDR, BENCH_WEB_ADDR, BENCH_TLS_ADDR and BENCH_BIN (where the
# binaries go) let two benches share a machine.
set -euo pipefail

runs=${1:-3}
shift || true
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(fanout10 fanout1 latency file1g file1g-compare file1g-none file100m10 file100m10-compare file100m10-none conns10k)

addr=${BENCH_ADDR:-127.0.0.1:23499}
webaddr=${BENCH_WEB_ADDR:-127.0.0.1:23498}
tlsaddr=${BENCH_TLS_ADDR:-127.0.0.1:23497}
bin=${BENCH_BIN:-/tmp}
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

for i in $(seq "$runs"); do
	for name in "${scenarios[@]}"; do
		base=${name%-ws}
		base=${base%-tls}
		args=$(args_for "$base")
		case $name in
		*-ws) target=ws://$webaddr ;;
		*-tls) target=tls://$tlsaddr ;;
		*) target=$addr ;;
		esac
		# shellcheck disable=SC2086 # SERVER_ARGS are words
		"$bin/pcx-server" --listen "$addr" --web-listen "$webaddr" --tls-listen "$tlsaddr" --data-dir "$bin/pcx-bench-state" --rate-limit 0 \
			${SERVER_ARGS:-} >"$bin/pcx-server-$name-$i.log" 2>&1 &
		pid=$!
		for _ in $(seq 50); do (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break; sleep 0.1; done
		# shellcheck disable=SC2086 # args are words
		line=$(timeout 300 "$bin/pcx-loadgen" --server "$target" --server-pid "$pid" --duration 240s $args 2>/dev/null) || true
		echo "bench=$name run=$i load1=$(cut -d' ' -f1 /proc/loadavg) $line"
		kill "$pid"
		wait "$pid" || true
		sleep 1
	done
done
