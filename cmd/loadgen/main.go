// Command loadgen measures a chat server that speaks the pcx wire protocol:
// fan-out throughput and latency, file transfer speed, and the cost of
// many idle connections. See -help.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"pcx/internal/loadgen"
)

const usage = `loadgen drives a server that speaks the pcx wire protocol and measures it.

Usage: loadgen --server HOST:PORT[,HOST:PORT...] --scenario NAME [flags]

Several servers of one room (issue 13) may be given, separated by commas:
client i dials server i mod their number (round-robin), senders and
receivers alike, so messages cross from server to server; the checks are
the same, at every receiver whatever its server. The summary says how
many clients each server had (clients_per_server). With --server-pid
giving every server's pid, the CPU and memory figures are the servers'
added up, and each server's follows (server_cpu_s_each, server_rss_kb_each,
server_hwm_kb_each).

Scenarios:
  fanout  --clients N clients log in; the first --senders S of them each send
          --messages M texts of --size B bytes, unpaced or at --rate messages/s
          in all. Every text carries its sender, sequence number, send time and
          a checksum, so each receiver counts lost, duplicated, out-of-order
          and garbled messages: a run is valid only if all four are 0.
          Reports deliveries/s (messages received, all receivers together, from
          the first send to the last delivery) and latency p50/p99/p999/max.
          Unpaced senders keep at most --window messages ahead of the slowest
          receiver, so the server's queues stay bounded.
  files   one client sends a file of --bytes X bytes (a deterministic
          pseudo-random stream, never held in memory) to --receivers R clients.
          Reports seconds, MB/s per receiver and in all (MB = 10^6 bytes), and
          whether each receiver's SHA-256 matches the sender's (--verify
          compare checks every byte instead, at a fraction of the CPU, so
          that the tool's hashing does not cap a fast server).
  conns   --clients N clients log in and stay idle (the open-files limit is
          raised to its hard limit). Reports login time, the time until every
          join notice arrived, the server's RSS before and after (with
          --server-pid) and per client, and how long each of --messages
          broadcasts takes to reach every client.

Progress goes to stderr once a second; one summary line goes to stdout at the
end (key=value pairs, or JSON with --json). Exit status 1 if the run is not
valid, 2 if it could not be made.

Flags:
`

func main() {
	os.Exit(run())
}

// run parses the flags, makes the run and prints its summary; it returns
// the exit status.
func run() int {
	var cfg loadgen.Config
	var asJSON, useWS, useTLS bool
	var pids string
	flag.StringVar(&cfg.Server, "server", "127.0.0.1:23480", "server `address`, or several separated by commas (clients spread round-robin)")
	flag.StringVar(&cfg.Scenario, "scenario", loadgen.ScenarioFanout, "fanout, files or conns")
	flag.IntVar(&cfg.Clients, "clients", 100, "fanout, conns: clients to log in")
	flag.IntVar(&cfg.Senders, "senders", 10, "fanout: clients that send")
	flag.IntVar(&cfg.Messages, "messages", 10000, "fanout: messages per sender; conns: broadcasts")
	flag.IntVar(&cfg.Size, "size", 64, "fanout: text `bytes` (at least 38, the stamp)")
	flag.Float64Var(&cfg.Rate, "rate", 0, "fanout: messages/s, all senders together; 0 = as fast as possible")
	flag.IntVar(&cfg.Window, "window", 0, "fanout: most messages per sender ahead of the slowest receiver; 0 = auto (2 MiB per receiver), -1 = none")
	flag.IntVar(&cfg.Receivers, "receivers", 1, "files: receiving clients")
	flag.Int64Var(&cfg.Bytes, "bytes", 100<<20, "files: file size in bytes")
	flag.StringVar(&cfg.Verify, "verify", loadgen.VerifySHA256, "files: sha256 (hash, compare with the sender's), compare (every byte against the regenerated stream, cheaper) or none")
	flag.StringVar(&pids, "server-pid", "", "server `pid` (several separated by commas), to read memory and CPU from /proc")
	flag.DurationVar(&cfg.Duration, "duration", 0, "cap on the whole run (0 = none)")
	flag.DurationVar(&cfg.Idle, "idle", 0, "conns: how long the clients sit idle before the server's memory is read again (default 30s)")
	flag.DurationVar(&cfg.Drain, "drain", 0, "how long without progress before the missing are counted lost (default 5s)")
	flag.IntVar(&cfg.Parallel, "parallel", 0, "logins in flight at once (default 64)")
	flag.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	flag.BoolVar(&useTLS, "tls", false, "dial TLS 1.3 (the server's key is not checked: a benchmark tool); a server given as tls://host:port does too")
	flag.BoolVar(&useWS, "ws", false, "dial the server's WebSocket (give --server the web port, e.g. 127.0.0.1:23482); a server given as ws://host:port does too")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	cfg.Progress = os.Stderr
	if useTLS {
		cfg.Server = loadgen.WithScheme(cfg.Server, loadgen.TLSScheme)
	}
	if useWS {
		cfg.Server = loadgen.WithScheme(cfg.Server, loadgen.WSScheme)
	}
	var err error
	if cfg.ServerPIDs, err = parsePIDs(pids); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 2
	}
	line := sum.String()
	if asJSON {
		b, err := json.Marshal(sum)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 2
		}
		line = string(b)
	}
	fmt.Println(line)
	if valid, _ := sum.Get("valid"); valid != true {
		return 1
	}
	return 0
}

// parsePIDs reads --server-pid: empty, or pids separated by commas.
func parsePIDs(list string) ([]int, error) {
	if list == "" {
		return nil, nil
	}
	var pids []int
	for _, f := range strings.Split(list, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("--server-pid: %q is not a pid", f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}
