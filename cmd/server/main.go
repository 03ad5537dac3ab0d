// Command pcx-server runs the pcx chat relay. See --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main with its inputs and outputs named, so tests can call it.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	s, err := parseSettings(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "pcx-server:", err)
		return 2
	}
	if s.PrintFingerprint {
		return printFingerprint(s, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, s, stderr)
}

func serve(ctx context.Context, s settings, stderr io.Writer) int {
	log := newLogger(s, stderr)
	if s.NATS != "" {
		log = log.With("node", s.NodeName)
	}
	certs, created, err := loadCertificates(s)
	if err != nil {
		fmt.Fprintln(stderr, "pcx-server:", err)
		return 1
	}
	metrics := newMetrics(s)
	var adm *admin
	if metrics != nil {
		if adm, err = listenAdmin(s.AdminAddr, metrics); err != nil {
			fmt.Fprintln(stderr, "pcx-server: admin endpoints:", err)
			return 1
		}
		defer adm.close()
	}
	srv, cleanup, err := initServer(s, certs, metrics, log)
	if err != nil {
		fmt.Fprintln(stderr, "pcx-server:", explainStart(err, s))
		return 1
	}
	defer cleanup()
	if certs != nil {
		logCertificate(log, s, certs, created)
		go reloadOnHangup(ctx, certs, log)
	}
	if adm != nil {
		go adm.serve(ctx, log)
	}
	go trimMemory(ctx, 10*time.Second, 4<<20, 64<<20, log)
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintln(stderr, "pcx-server:", explainStart(err, s))
		return 1
	}
	return 0
}

// printFingerprint prints the TLS key's fingerprint, for the operator to
// share, making the self-signed key first if there is none.
func printFingerprint(s settings, stdout, stderr io.Writer) int {
	certs, _, err := loadCertificates(s)
	if err != nil {
		fmt.Fprintln(stderr, "pcx-server:", err)
		return 1
	}
	fmt.Fprintln(stdout, certs.Fingerprint())
	return 0
}
