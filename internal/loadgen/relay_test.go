package loadgen_test

import (
	"io"
	"net"
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
// to every other client in order, writing under one lock. Its deliver hook
// decides which frames each receiver actually gets, so that a test can make
// it drop, duplicate, reorder or garble deliveries.
type testRelay struct {
	ln net.Listener
	wg sync.WaitGroup

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
	nick string
}

// startRelay serves on a loopback port until the test ends.
func startRelay(t *testing.T) *testRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &testRelay{ln: ln}
	r.wg.Go(r.accept)
	t.Cleanup(r.stop)
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

func (r *testRelay) addr() string { return r.ln.Addr().String() }

func (r *testRelay) stop() {
	_ = r.ln.Close()
	r.mu.Lock()
	for _, s := range r.all {
		_ = s.conn.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *testRelay) accept() {
	for {
		nc, err := r.ln.Accept()
		if err != nil {
			return
		}
		s := &relaySession{conn: framing.NewConn(nc, framing.Options{WriteTimeout: 5 * time.Second})}
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
