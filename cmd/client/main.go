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
	"syscall"

	"pcx/app/client"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run is main with its inputs and outputs named, so tests can call it.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	s, err := parseSettings(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
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
// or went away.
func chat(ctx context.Context, s settings, stderr io.Writer) int {
	c, cleanup, err := initClient(s)
	if err != nil {
		fmt.Fprintln(stderr, "pcx-client:", err)
		return 1
	}
	err = c.Run(ctx, client.Config{Server: s.Server, Nickname: s.Nickname})
	cleanup() // the terminal is itself again before the last word
	if err != nil {
		fmt.Fprintln(stderr, "pcx-client:", describe(err, s))
		return 1
	}
	return 0
}

// describe turns the error that ended the session into one clear line.
// The cause is named by its root ("connection refused", "EOF"); the layers
// above it only repeat what the line says.
func describe(err error, s settings) string {
	switch {
	case errors.Is(err, client.ErrConnectionLost):
		return fmt.Sprintf("the connection to the server at %s is lost (%v)", s.Server, rootCause(err))
	case errors.Is(err, client.ErrUnreachable):
		return fmt.Sprintf("cannot reach the server at %s (%v)", s.Server, rootCause(err))
	}
	return err.Error()
}

// rootCause follows a chain of wraps to its end; where an error wraps
// several, as "%w: %w" does (the kind, then the cause), it follows the last.
func rootCause(err error) error {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[len(errs)-1]
			}
		}
		if next == nil {
			return err
		}
		err = next
	}
}
