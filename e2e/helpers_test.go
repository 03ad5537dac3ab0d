package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/adapters/diskspool"
	"pcx/adapters/localfs"
	"pcx/adapters/sysclock"
	"pcx/adapters/tcp"
	"pcx/adapters/terminal"
	"pcx/app/client"
	"pcx/app/server"
	"pcx/internal/procout"
	"pcx/internal/testbin"
)

// wait bounds how long a test waits for something that must happen; only
// a broken build ever waits that long.
const wait = 20 * time.Second

// startServer runs the real server on a loopback port until the test ends
// or stop is called.
func startServer(t *testing.T) (addr string, stop func()) {
	t.Helper()
	return startServerAt(t, "127.0.0.1:0")
}

// startServerAt runs the real server on addr, as startServer does.
func startServerAt(t *testing.T, addr string) (string, func()) {
	t.Helper()
	l, err := tcp.Listen(addr, tcp.Options{WriteTimeout: 10 * time.Second})
	require.NoError(t, err)
	spool, err := diskspool.New(diskspool.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	srv, err := server.New(server.Config{}, l, dictcodec.New(), sysclock.New(), spool, nil, nil,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			spool.Close()
		})
	}
	t.Cleanup(stop)
	return srv.Addr(), stop
}

// output collects what a client prints, line by line, and lets a test
// wait for a line.
type output struct{ *procout.Output }

func newOutput() *output { return &output{procout.New()} }

// lines returns the complete lines so far.
func (o *output) lines() []string {
	s := o.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n")
	}
	return nil
}

// waitFor waits until a line contains want, and returns that line.
func (o *output) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(wait)
	for {
		_, changed := o.Snapshot()
		for _, l := range o.lines() {
			if strings.Contains(l, want) {
				return l
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no line with %q in:\n%s", want, o)
		}
	}
}

// waitCount waits until n lines contain want.
func (o *output) waitCount(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.After(wait)
	for {
		_, changed := o.Snapshot()
		count := 0
		for _, l := range o.lines() {
			if strings.Contains(l, want) {
				count++
			}
		}
		if count >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("fewer than %d lines with %q in:\n%s", n, want, o)
		}
	}
}

// scripted is a client in scripted mode, run in this process: the test
// types into its standard input and reads its standard output.
type scripted struct {
	nick   string
	dir    string
	stdin  *io.PipeWriter
	stdout *output
	stderr *output
	done   chan error
}

// startClient logs nick in to addr; it saves files in a folder of its own.
func startClient(t *testing.T, addr, nick string) *scripted {
	t.Helper()
	return startClientIn(t, addr, nick, t.TempDir())
}

// startClientIn logs nick in to addr; it saves files in dir, which it
// makes.
func startClientIn(t *testing.T, addr, nick, dir string) *scripted {
	t.Helper()
	return startClientWith(t, client.Config{Server: addr, Nickname: nick}, dir)
}

// startClientWith runs a scripted client with cfg; it saves files in dir,
// which it makes.
func startClientWith(t *testing.T, cfg client.Config, dir string) *scripted {
	t.Helper()
	nick := cfg.Nickname
	require.NoError(t, os.MkdirAll(dir, 0o755))
	downloads, err := localfs.NewDownloads(dir)
	require.NoError(t, err)
	in, stdin := io.Pipe()
	c := &scripted{nick: nick, dir: dir, stdin: stdin, stdout: newOutput(), stderr: newOutput(), done: make(chan error, 1)}
	ui := terminal.NewScripted(in, c.stdout, c.stderr)
	cl := client.New(tcp.Dialer{Options: tcp.Options{WriteTimeout: 10 * time.Second}}, dictcodec.New(), ui, downloads, localfs.NewUploads())
	go func() {
		c.done <- cl.Run(context.Background(), cfg)
		downloads.Close()
	}()
	t.Cleanup(func() {
		stdin.Close()
		<-c.done
	})
	return c
}

// join starts a client and waits until its login is through.
func join(t *testing.T, addr, nick string) *scripted {
	t.Helper()
	c := startClient(t, addr, nick)
	c.stderr.waitFor(t, "logged in as "+nick)
	return c
}

// say types a text and an attachment line.
func (c *scripted) say(t *testing.T, text, attachment string) {
	t.Helper()
	_, err := io.WriteString(c.stdin, text+"\n"+attachment+"\n")
	require.NoError(t, err)
}

// leave ends the client's input and returns how it ended.
func (c *scripted) leave(t *testing.T) error {
	t.Helper()
	c.stdin.Close()
	return c.result(t)
}

func (c *scripted) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-time.After(wait):
		t.Fatalf("%s never ended", c.nick)
		return nil
	}
}

// clientBin and serverBin are the commands, built once per test run.
var (
	clientBin = &testbin.Binary{Pkg: "pcx/cmd/client"}
	serverBin = &testbin.Binary{Pkg: "pcx/cmd/server"}
)

func clientBinary(t *testing.T) string {
	t.Helper()
	bin, err := clientBin.Path()
	require.NoError(t, err)
	return bin
}
