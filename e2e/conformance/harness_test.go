package conformance_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/internal/natstest"
	"pcx/internal/testbin"
)

// wait bounds every read and every wait for the server; only a broken
// server makes a test wait that long.
const wait = 10 * time.Second

// serverBin is ./cmd/server, built once per test run (with -race when the
// tests run with it), unless the run that started this one built it.
var serverBin = &testbin.Binary{Pkg: "pcx/cmd/server", Race: raceEnabled, Env: serverEnv}

// lockedBuffer collects the server's log.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// node is one running pcx-server process.
type node struct {
	name     string
	addr     string
	spoolDir string
	cmd      *exec.Cmd
	log      *lockedBuffer
	exited   chan struct{} // closed when cmd.Wait has returned
	waitErr  error         // set before exited is closed
}

// server is the room a test speaks to: one pcx-server process, or in the
// two-node run (twoNodes) two joined through NATS, whose clients
// alternate between them. addr, spoolDir, cmd and log are the first
// node's (log holds every node's), for the tests that speak of one
// process.
type server struct {
	t        *testing.T
	nodes    []*node
	addr     string
	spoolDir string
	cmd      *exec.Cmd
	log      roomLog
	clients  []*client // every connection the test made; test goroutine only
	stopped  bool
}

// roomLog is what every node of a room has logged.
type roomLog []*lockedBuffer

// String is the nodes' logs one after the other.
func (l roomLog) String() string {
	var b strings.Builder
	for _, n := range l {
		b.WriteString(n.String())
	}
	return b.String()
}

// startServer runs the server on a free loopback port with a spool
// directory of the test's own; flags come after the defaults and win.
// In the two-node run it starts two servers on one embedded nats-server
// of the test's own instead. When the test ends they are stopped with
// SIGTERM and checked (see stop).
func startServer(t *testing.T, flags ...string) *server {
	t.Helper()
	bin, err := serverBin.Path()
	require.NoError(t, err)
	s := &server{t: t}
	names := []string{""}
	if twoNodes {
		url := natstest.Start(t).URL()
		// A room of the test's own; a nats-server of its own already keeps
		// the tests apart, the name shows whose logs these are.
		room := roomName(t)
		names = []string{"a", "b"}
		flags = append([]string{"--nats", url, "--room", room}, flags...)
	}
	for _, name := range names {
		nodeFlags := flags
		if name != "" {
			nodeFlags = append(append([]string(nil), flags...), "--node-name", name)
		}
		n := startNode(t, bin, nodeFlags)
		n.name = name
		s.nodes = append(s.nodes, n)
		s.log = append(s.log, n.log)
	}
	first := s.nodes[0]
	s.addr, s.spoolDir, s.cmd = first.addr, first.spoolDir, first.cmd
	t.Cleanup(func() { s.cleanup() })
	return s
}

// startNode runs one server process, trying again on another port when
// the one it was given was taken meanwhile.
func startNode(t *testing.T, bin string, flags []string) *node {
	t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		n, inUse := tryStart(t, bin, flags)
		if n != nil {
			return n
		}
		if !inUse {
			break
		}
	}
	t.Fatal("the server never started")
	return nil
}

func tryStart(t *testing.T, bin string, flags []string) (n *node, inUse bool) {
	t.Helper()
	addr := freeAddr(t)
	spool := t.TempDir()
	args := append([]string{"--listen", addr, "--tls-listen", "", "--web-listen", "", "--spool-dir", spool, "--log-level", "debug"}, flags...)
	n = &node{addr: addr, spoolDir: spool, cmd: exec.Command(bin, args...), log: &lockedBuffer{}, exited: make(chan struct{})}
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	// A race-enabled binary sleeps 1 s at exit by default; halt_on_error
	// makes a race fail the exit code as well as the log check.
	n.cmd.Env = append(hermeticEnv(), "GORACE=atexit_sleep_ms=50 halt_on_error=1")
	require.NoError(t, n.cmd.Start())
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			t.Logf("server exited at start (%v):\n%s", n.waitErr, n.log)
			return nil, strings.Contains(n.log.String(), "in use")
		default:
		}
		// The log line too, not the dial alone: the port may have been
		// taken meanwhile by another test's process (a nats-server on a
		// random port), which answers the dial while this server exits
		// because the address is in use.
		if !strings.Contains(n.log.String(), "msg=listening") {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return n, false
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.cmd.Process.Kill()
	<-n.exited
	t.Fatalf("the server did not listen on %s within %v:\n%s", addr, wait, n.log)
	return nil, false
}

// hermeticEnv is this process's environment without PCX_* settings, so
// only the test's flags configure the server.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PCX_") && !strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr is a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// stop sends SIGTERM and checks what PROTOCOL.md §3.5 and the issue
// promise: every client still logged in gets the notice "Server is
// shutting down" (after whatever was queued for it) and then the end of
// its stream; the server exits 0.
func (s *server) stop() {
	s.t.Helper()
	s.signal(syscall.SIGTERM)
	s.finish()
}

// signal sends sig to every node once; finish then checks the goodbye.
func (s *server) signal(sig os.Signal) {
	s.t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	for _, n := range s.nodes {
		require.NoError(s.t, n.cmd.Process.Signal(sig))
	}
}

// finish checks the goodbye of every logged-in client that reads and the
// exit code.
func (s *server) finish() {
	s.t.Helper()
	for _, c := range s.clients {
		if c.loggedIn && !c.gone && !c.deaf {
			c.expectGoodbye()
		}
	}
	s.waitExit()
	s.closeClients()
	for _, n := range s.nodes {
		left, err := readDirAll(n.spoolDir)
		require.NoError(s.t, err)
		require.Empty(s.t, left, "the spool must be empty once the server has exited")
	}
}

// expectSpoolEmpty waits until the spool directory holds no files (the
// server may keep a directory of its own there until it exits): the
// server removes a spooled attachment once its last receiver has it, or
// is gone (issue 3).
// expectLog waits until the server's log holds want: the log reaches the
// test through a pipe, a moment after what the server did is seen.
func (s *server) expectLog(want string) {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	for !strings.Contains(s.log.String(), want) {
		if time.Now().After(deadline) {
			s.t.Fatalf("the server's log never said %q", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *server) expectSpoolEmpty() {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var all []string
		for _, n := range s.nodes {
			files, err := readDirAll(n.spoolDir)
			require.NoError(s.t, err)
			all = append(all, files...)
		}
		var left []string
		for _, p := range all {
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("spool files still there %v after their last receiver: %v", wait, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) waitExit() {
	t := s.t
	t.Helper()
	for _, n := range s.nodes {
		if !n.exitWithin(2 * wait) {
			t.Fatalf("the server%s did not exit within %v of SIGTERM", n.label(), 2*wait)
		}
		require.NoError(t, n.waitErr, "the server%s must exit 0 on SIGTERM", n.label())
		log := n.log.String()
		require.NotContains(t, log, "DATA RACE")
		require.NotContains(t, log, "panic:")
	}
}

// exitWithin waits up to d for n to exit and kills it after that; it
// reports whether n exited by itself.
func (n *node) exitWithin(d time.Duration) bool {
	select {
	case <-n.exited:
		return true
	case <-time.After(d):
		n.cmd.Process.Kill()
		<-n.exited
		return false
	}
}

// label names a node of a two-node run in a message; empty otherwise.
func (n *node) label() string {
	if n.name == "" {
		return ""
	}
	return " (node " + n.name + ")"
}

func (s *server) closeClients() {
	for _, c := range s.clients {
		c.conn.Close()
	}
}

// cleanup stops the server if the test did not; after a failure it only
// makes sure the process is gone and shows its log.
func (s *server) cleanup() {
	if s.t.Failed() {
		s.closeClients()
		for _, n := range s.nodes {
			if !s.stopped {
				n.cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		for _, n := range s.nodes {
			n.exitWithin(2 * wait)
			s.t.Logf("server%s log:\n%s", n.label(), tail(n.log.String(), 8000))
		}
		return
	}
	s.stop()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// client is one TCP connection to the server, driven by the test goroutine
// (or by exactly one goroutine of it).
type client struct {
	t        *testing.T
	srv      *server
	conn     net.Conn
	nick     string
	loggedIn bool // its login succeeded
	gone     bool // closed by the test or cut off by the server
	deaf     bool // never reads: no goodbye is checked
}

// nextAddr is the address of the node the test's next client dials: the
// clients alternate between the nodes, in the order they are made.
func (s *server) nextAddr() string {
	return s.nodes[len(s.clients)%len(s.nodes)].addr
}

// addrOf is the address of node i mod the number of nodes, for clients
// that goroutines dial off the list: client i of a group alternates too.
func (s *server) addrOf(i int) string {
	return s.nodes[i%len(s.nodes)].addr
}

// dial opens a connection and does nothing else.
func (s *server) dial() *client {
	s.t.Helper()
	conn, err := net.DialTimeout("tcp", s.nextAddr(), wait)
	require.NoError(s.t, err)
	c := &client{t: s.t, srv: s, conn: conn}
	s.clients = append(s.clients, c)
	return c
}

// join dials and logs in as nick.
func (s *server) join(nick string) *client {
	s.t.Helper()
	c := s.dial()
	c.login(nick)
	return c
}

// room logs every nick in, one after another, and lets each earlier member
// read the join notices of the later ones, so every stream starts empty.
func (s *server) room(nicks ...string) []*client {
	s.t.Helper()
	var cs []*client
	for _, n := range nicks {
		c := s.join(n)
		for _, old := range cs {
			old.expectNotice(`User "` + n + `" connected`)
		}
		cs = append(cs, c)
	}
	return cs
}

// write writes raw bytes.
func (c *client) write(b []byte) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetWriteDeadline(time.Now().Add(wait)))
	_, err := c.conn.Write(b)
	require.NoError(c.t, err)
}

// send writes each body as a frame, all in one write.
func (c *client) send(bodies ...[]byte) {
	c.t.Helper()
	var b []byte
	for _, body := range bodies {
		b = append(b, frame(body)...)
	}
	c.write(b)
}

// say sends a text message.
func (c *client) say(text string) {
	c.t.Helper()
	c.send(dict("text", text))
}

// sendFile sends a message with an attachment and its payload.
func (c *client) sendFile(text, name string, payload []byte) {
	c.t.Helper()
	c.send(dict("text", text, "attachment", name), payload)
}

// login sends a login record and requires success.
func (c *client) login(nick string) {
	c.t.Helper()
	c.send(dict("nickname", nick))
	c.expectStatus("success")
	c.nick, c.loggedIn = nick, true
}

// next reads one frame.
func (c *client) next() []byte {
	c.t.Helper()
	body, err := c.read(wait)
	require.NoError(c.t, err, "%s: reading a frame", c.name())
	return body
}

func (c *client) read(timeout time.Duration) ([]byte, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	return readFrameFrom(c.conn, 64<<20)
}

func (c *client) name() string {
	if c.nick != "" {
		return c.nick
	}
	return c.conn.LocalAddr().String()
}

// expectStatus reads a status reply and requires exactly
// {"status":"<status>"}.
func (c *client) expectStatus(status string) {
	c.t.Helper()
	require.Equal(c.t, string(dict("status", status)), string(c.next()), "%s: status reply", c.name())
}

// expectLoginError reads a status reply that must be an error and returns
// its reason.
func (c *client) expectLoginError() string {
	c.t.Helper()
	body := c.next()
	pairs, err := parseCanonical(body)
	require.NoError(c.t, err)
	require.Len(c.t, pairs, 1, "%q", body)
	require.Equal(c.t, "status", pairs[0][0], "%q", body)
	reason, ok := strings.CutPrefix(pairs[0][1], "error: ")
	require.True(c.t, ok, "%s: want a status error, got %q", c.name(), body)
	require.NotEmpty(c.t, reason)
	return reason
}

// nextMessage reads one record and requires canonical message form.
func (c *client) nextMessage() message {
	c.t.Helper()
	body := c.next()
	m, err := parseMessage(body)
	require.NoError(c.t, err, "%s", c.name())
	return m
}

// expectText reads a message and requires it to be exactly the canonical
// record of from and text (with whatever stamp it has).
func (c *client) expectText(from, text string) message {
	c.t.Helper()
	m := c.nextMessage()
	want := `{"time":"` + m.stamp + `","nickname":` + esc(from) + `,"text":` + esc(text) + `}`
	require.Equal(c.t, want, string(m.raw), "%s: want %s saying %q", c.name(), from, text)
	return m
}

// expectFile reads a message with an attachment and its payload.
func (c *client) expectFile(from, text, name string, payload []byte) message {
	c.t.Helper()
	m := c.nextMessage()
	want := `{"time":"` + m.stamp + `","nickname":` + esc(from) + `,"text":` + esc(text) + `,"attachment":` + esc(name) + `}`
	require.Equal(c.t, want, string(m.raw), "%s", c.name())
	got := c.next()
	require.True(c.t, bytes.Equal(payload, got), "%s: payload of %d bytes differs from the %d sent", c.name(), len(got), len(payload))
	return m
}

// expectNotice reads a SERVER notice with exactly text.
func (c *client) expectNotice(text string) message {
	c.t.Helper()
	return c.expectText("SERVER", text)
}

// expectError reads an error notice and returns its reason.
func (c *client) expectError() string {
	c.t.Helper()
	m := c.nextMessage()
	require.Equal(c.t, "SERVER", m.nickname, "%s: want an error notice, got %q", c.name(), m.raw)
	require.False(c.t, m.hasAttachment)
	reason, ok := strings.CutPrefix(m.text, "error: ")
	require.True(c.t, ok, "%s: want an error notice, got %q", c.name(), m.raw)
	require.NotEmpty(c.t, reason)
	return reason
}

// expectClosed requires the server to end the connection with nothing
// more sent on it.
func (c *client) expectClosed() {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(wait)))
	var buf [64]byte
	n, err := c.conn.Read(buf[:])
	require.Zero(c.t, n, "%s: want the end of the stream, got %q", c.name(), buf[:n])
	require.True(c.t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "%s: want the end of the stream, got %v", c.name(), err)
	c.gone = true
}

// expectCut requires the server to end the connection, after at most one
// frame that says why: a status error before login, an error notice after.
// It returns that reason, or "" when there was none.
func (c *client) expectCut() string {
	c.t.Helper()
	body, err := c.read(wait)
	if err != nil {
		require.True(c.t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "%s: want the end of the stream, got %v", c.name(), err)
		c.gone = true
		return ""
	}
	var reason string
	if c.loggedIn {
		m, err := parseMessage(body)
		require.NoError(c.t, err)
		r, ok := strings.CutPrefix(m.text, "error: ")
		require.True(c.t, ok && m.nickname == "SERVER", "%s: want an error notice or the end, got %q", c.name(), body)
		reason = r
	} else {
		pairs, err := parseCanonical(body)
		require.NoError(c.t, err)
		r, ok := strings.CutPrefix(pairs[0][1], "error: ")
		require.True(c.t, ok && len(pairs) == 1 && pairs[0][0] == "status", "%s: want a status error or the end, got %q", c.name(), body)
		reason = r
	}
	c.expectClosed()
	return reason
}

// expectShutdownNotice reads the shutdown notice. In the two-node run both
// nodes stop at once, so the users of the other node may be seen leaving
// first (section 9: everyone else sees a stopped server's users leave);
// those leave notices are skipped, and nothing else.
func (c *client) expectShutdownNotice() {
	c.t.Helper()
	for {
		m := c.nextMessage()
		if twoNodes && m.nickname == "SERVER" && strings.HasPrefix(m.text, "User \"") && strings.HasSuffix(m.text, "\" disconnected") {
			continue
		}
		want := `{"time":"` + m.stamp + `","nickname":"SERVER","text":"Server is shutting down"}`
		require.Equal(c.t, want, string(m.raw), "%s: want the shutdown notice", c.name())
		return
	}
}

// expectGoodbye reads on until the shutdown notice, which must be the last
// record, then the end of the stream.
func (c *client) expectGoodbye() {
	c.t.Helper()
	for {
		m := c.nextMessage()
		if m.hasAttachment {
			c.next()
			continue
		}
		if m.nickname == "SERVER" && m.text == "Server is shutting down" {
			break
		}
	}
	c.expectClosed()
}

// close ends the connection from the client's side.
func (c *client) close() {
	c.conn.Close()
	c.gone = true
}

// barrier proves that nothing is queued for to ahead of a fresh message:
// from says a unique text and to must read it next.
func barrier(from, to *client, text string) {
	from.t.Helper()
	from.say(text)
	to.expectText(from.nick, text)
}

// readDirAll lists every file and directory under dir (not dir itself).
func readDirAll(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if path != dir {
			out = append(out, path)
		}
		return nil
	})
	return out, err
}
