// Command pcx-client is the terminal client of the pcx chat. See --help.
package main

//go:generate go tool wire

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"pcx/app/client"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main with its inputs and outputs named, so tests can call it.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	s, err := parseSettings(args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errVersion) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "pcx-client:", err)
		fmt.Fprintln(stderr, "Try 'pcx-client --help'.")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return chat(ctx, s, stderr)
}

// chat runs one session and turns its end into an exit code: 0 when the
// user left, 1 when the server could not be reached, refused the nickname
// or went away, or (--json) a file could not be sent.
func chat(ctx context.Context, s settings, stderr io.Writer) int {
	if w := plainWarning(s); w != "" {
		fmt.Fprintln(stderr, w)
	}
	c, cleanup, err := initClient(s)
	if err != nil {
		fmt.Fprintln(stderr, "pcx-client:", err)
		return 1
	}
	err = c.Run(ctx, client.Config{Server: s.Server, Nickname: s.Nickname, Reconnect: s.Reconnect, StrictFiles: s.JSON})
	cleanup() // the terminal is itself again before the last word
	if err != nil {
		fmt.Fprintln(stderr, "pcx-client:", describe(err, s))
		return 1
	}
	return 0
}

// describe turns the error that ended the session into one clear line.
// The cause is named by its root ("connection refused", "EOF"); the layers
// above it only repeat what the line says. The package prefix of the
// client's own errors ("client: ") is left to "pcx-client: " in front.
func describe(err error, s settings) string {
	switch {
	case errors.Is(err, client.ErrConnectionLost):
		return fmt.Sprintf("the connection to the server at %s is lost (%v)", s.Server, client.RootCause(err))
	case errors.Is(err, client.ErrUnreachable):
		return fmt.Sprintf("cannot reach the server at %s (%v)", s.Server, client.RootCause(err))
	}
	return strings.TrimPrefix(err.Error(), "client: ")
}
