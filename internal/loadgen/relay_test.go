package loadgen_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/adapters/framing"
	"pcx/domain"
)

// testRelay is a minimal server of the wire protocol for the tests: it logs
// everyone in, announces joins, and relays each message (and attachment)
// to every other client in order, writing under one lock. It may listen on
// several ports, standing for several servers of one room: a client on any
// of them is in the same room. Its deliver hook
// decides which frames each receiver actually gets, so that a test can make
// it drop, duplicate, reorder or garble deliveries.
type testRelay struct {
	lns []net.Listener
	wg  sync.WaitGroup

	mu sync.Mutex // guards everything below, and serializes every write
	// clients are the logged-in sessions, in login order.
	clients []*relaySession
	// relayed counts the messages relayed so far.
	relayed int
	// deliver, if set, returns the records to write to the receiver of
	// nickname to for the n-th message relayed (body is its record).
	// Called with mu held.
	deliver func(to string, n int, body []byte) [][]byte
	// corrupt, if set, returns the payload to write to the receiver of
	// nickname to.
	// Called with mu held.
	corrupt func(to string, payload []byte) []byte
	// refuse makes every login fail with "this nickname is already taken".
	refuse bool
	// all are every session ever opened, closed at the end.
	all []*relaySession
}

type relaySession struct {
	conn *framing.Conn
	via  int // the listener it came through
	nick string
}

// startRelay serves on a loopback port until the test ends.
func startRelay(t *testing.T) *testRelay { return startRelays(t, 1) }

// startRelays serves one room on n loopback ports until the test ends.
func startRelays(t *testing.T, n int) *testRelay {
	t.Helper()
	r := &testRelay{}
	t.Cleanup(r.stop)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		r.lns = append(r.lns, ln)
		r.wg.Go(func() { r.accept(ln, i) })
	}
	return r
}

// breakWith installs the fault hooks (either may be nil).
func (r *testRelay) breakWith(deliver func(to string, n int, body []byte) [][]byte, corrupt func(to string, payload []byte) []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliver, r.corrupt = deliver, corrupt
}

// refuseLogins makes the relay answer every login with an error status.
func (r *testRelay) refuseLogins() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse = true
}

func (r *testRelay) addr() string { return r.lns[0].Addr().String() }

// addrs is every port's address, as a server list.
func (r *testRelay) addrs() string {
	var list []string
	for _, ln := range r.lns {
		list = append(list, ln.Addr().String())
	}
	return strings.Join(list, ",")
}

// logins returns, for each port, the nicknames logged in through it.
func (r *testRelay) logins() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]string, len(r.lns))
	for _, s := range r.clients {
		out[s.via] = append(out[s.via], s.nick)
	}
	return out
}

func (r *testRelay) stop() {
	for _, ln := range r.lns {
		_ = ln.Close()
	}
	r.mu.Lock()
	for _, s := range r.all {
		_ = s.conn.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *testRelay) accept(ln net.Listener, via int) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		s := &relaySession{conn: framing.NewConn(nc, framing.Options{WriteTimeout: 5 * time.Second}), via: via}
		r.mu.Lock()
		r.all = append(r.all, s)
		r.mu.Unlock()
		r.wg.Go(func() { r.serve(s) })
	}
}

func (r *testRelay) serve(s *relaySession) {
	defer s.conn.Close()
	if !r.login(s) {
		return
	}
	for {
		body, err := s.conn.Reader().ReadRecord(nil, 1<<20)
		if err != nil {
			return
		}
		in, err := dictcodec.DecodeInbound(body)
		if err != nil {
			return
		}
		req, err := in.Request()
		if err != nil || req.Command != domain.NoCommand {
			return
		}
		msg := req.Message
		var payload []byte
		if msg.HasAttachment {
			_, pr, err := s.conn.Reader().ReadPayload()
			if err != nil {
				return
			}
			if payload, err = io.ReadAll(pr); err != nil {
				return
			}
		}
		r.relay(s, msg, payload)
	}
}

func (r *testRelay) login(s *relaySession) bool {
	body, err := s.conn.Reader().ReadRecord(nil, 1<<16)
	if err != nil {
		return false
	}
	login, err := dictcodec.DecodeLogin(body)
	if err != nil {
		return false
	}
	nick := login.Nickname.Str
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse {
		_ = s.conn.Writer().WriteFrames([][]byte{dictcodec.AppendStatus(nil, domain.ErrNicknameTaken)})
		return false
	}
	if s.conn.Writer().WriteFrames([][]byte{dictcodec.AppendStatus(nil, nil)}) != nil {
		return false
	}
	notice := domain.Notice(time.Now(), domain.JoinText(nick))
	frame := dictcodec.AppendRelay(nil, &notice)
	for _, o := range r.clients {
		_ = o.conn.Writer().WriteFrames([][]byte{frame})
	}
	s.nick = nick
	r.clients = append(r.clients, s)
	return true
}

func (r *testRelay) relay(from *relaySession, msg domain.ChatMessage, payload []byte) {
	rel := domain.Relayed(time.Now(), from.nick, msg)
	body := dictcodec.AppendRelay(nil, &rel)
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.relayed
	r.relayed++
	for _, o := range r.clients {
		if o == from {
			continue
		}
		frames := [][]byte{body}
		if r.deliver != nil {
			frames = r.deliver(o.nick, n, body)
		}
		if msg.HasAttachment {
			p := payload
			if r.corrupt != nil {
				p = r.corrupt(o.nick, payload)
			}
			frames = append(frames, p)
		}
		_ = o.conn.Writer().WriteFrames(frames) // a receiver gone is the run's to notice
	}
}
