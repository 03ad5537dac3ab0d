// Package cluster_test runs several real pcx-server processes joined into
// one room over a nats-server started in the test process (JetStream on,
// its store in the test's directory), and checks PROTOCOL.md section 9
// from outside: clients on every node, nodes killed, NATS restarted.
package cluster_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/adapters/tcp"
	"pcx/internal/procout"
	"pcx/internal/testbin"
	"pcx/internal/testpeer"
)

// wait bounds every wait for a server; only a broken one makes a test
// wait that long.
const wait = 15 * time.Second

func TestMain(m *testing.M) { os.Exit(testbin.Main(m, server)) }

// server is ./cmd/server, built with -race when the tests run with it.
var server = &testbin.Binary{Pkg: "pcx/cmd/server", Race: testbin.Race}

// node is one running pcx-server process.
type node struct {
	t      *testing.T
	name   string
	addr   string
	cmd    *exec.Cmd
	log    *procout.Output
	exited chan struct{}
}

// startNode runs pcx-server as node name of the room on NATS at url.
func startNode(t *testing.T, url, name string, flags ...string) *node {
	t.Helper()
	for range 5 {
		n, listening := tryNode(t, url, name, flags...)
		if listening {
			return n
		}
		if !strings.Contains(n.log.String(), "in use") {
			t.Fatalf("node %s did not start:\n%s", name, n.log)
		}
	}
	t.Fatal("no free port for a node")
	return nil
}

// tryNode runs pcx-server once as startNode does, and waits until it
// listens (true) or exits (false).
func tryNode(t *testing.T, url, name string, flags ...string) (*node, bool) {
	t.Helper()
	bin, err := server.Path()
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	args := append([]string{"--listen", addr, "--tls-listen", "", "--web-listen", "", "--spool-dir", t.TempDir(),
		"--nats", url, "--node-name", name, "--node-ttl", "5s", "--rate-limit", "0"}, flags...)
	n := &node{t: t, name: name, addr: addr, cmd: exec.Command(bin, args...), log: procout.New(), exited: make(chan struct{})}
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	n.cmd.Env = append(hermeticEnv(), "GORACE=atexit_sleep_ms=50 halt_on_error=1")
	require.NoError(t, n.cmd.Start())
	go func() {
		_ = n.cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(n.stop)
	return n, n.waitListening()
}

// waitListening waits until the node has joined the room and listens.
func (n *node) waitListening() bool {
	deadline := time.After(wait)
	for {
		text, changed := n.log.Snapshot()
		if strings.Contains(text, "msg=listening") {
			return true
		}
		select {
		case <-n.exited:
			return false
		case <-changed:
		case <-deadline:
			n.t.Fatalf("node %s did not listen within %v:\n%s", n.name, wait, text)
		}
	}
}

// expectLog waits for the node's log to say want.
func (n *node) expectLog(want string) {
	n.t.Helper()
	deadline := time.After(wait)
	for {
		text, changed := n.log.Snapshot()
		if strings.Contains(text, want) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			n.t.Fatalf("node %s never logged %q:\n%s", n.name, want, text)
		}
	}
}

// kill ends the node at once, as a crash would.
func (n *node) kill() {
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// stop ends the node with SIGTERM, and kills it if it does not exit.
func (n *node) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(wait):
		n.t.Errorf("node %s did not stop on SIGTERM; killing it", n.name)
		n.kill()
	}
	if n.t.Failed() {
		n.t.Logf("log of node %s:\n%s", n.name, n.log)
	}
}

// dial connects a client to the node.
func (n *node) dial() *testpeer.Peer {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := tcp.Dialer{}.Dial(ctx, n.addr)
	require.NoError(n.t, err)
	return testpeer.New(n.t, conn)
}

// login connects a client and logs it in as nick.
func (n *node) login(nick string) *testpeer.Peer {
	n.t.Helper()
	p := n.dial()
	p.Login(nick)
	return p
}

// hermeticEnv is this process's environment without PCX_* settings.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PCX_") {
			env = append(env, kv)
		}
	}
	return env
}

// until reads p's records until one from nick saying text, and returns
// those before it.
func until(t *testing.T, p *testpeer.Peer, nick, text string) []testpeer.Record {
	t.Helper()
	var before []testpeer.Record
	for {
		rec := p.Next()
		if rec.Nickname.Str == nick && rec.Text.Str == text {
			return before
		}
		before = append(before, rec)
	}
}

// who asks p who is online, until the list has want (in any order), and
// fails when it never does.
func whoEventually(t *testing.T, p *testpeer.Peer, want ...string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var users []string
	for time.Now().Before(deadline) {
		p.SendRecord("command", "who")
		for {
			rec := p.Next()
			if rec.HasUsers {
				users = rec.Users
				break
			}
		}
		if sameSet(users, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("who never listed %q; last %q", want, users)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int)
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
