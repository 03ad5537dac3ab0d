package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"pcx/app/client"
	"pcx/domain"
	"pcx/ports"
	"pcx/ports/mocks"
)

// fakeCodec writes a record as key=value pairs each ended by NUL, a list
// of strings as \x02 and its items split by \x01: enough for the client,
// which never looks at the bytes, and independent of the real codec's
// adapter.
type fakeCodec struct{}

var _ ports.ClientCodec = fakeCodec{}

func (fakeCodec) AppendLogin(dst []byte, nick string) []byte {
	return appendPairs(dst, "nickname", nick)
}

func (fakeCodec) AppendRequest(dst []byte, r *domain.Request) []byte {
	if r.Command == domain.Who {
		return appendPairs(dst, "command", "who")
	}
	dst = appendPairs(dst, "text", r.Message.Text)
	if r.Message.HasAttachment {
		dst = appendPairs(dst, "attachment", r.Message.Attachment)
	}
	return dst
}

var errFakeSyntax = errors.New("fake codec: syntax")

func (fakeCodec) DecodeStatus(src []byte) (domain.StatusRecord, error) {
	pairs, _, err := decodePairs(src)
	return domain.StatusRecord{Status: pairs["status"], Attachment: pairs["attachment"]}, err
}

func (fakeCodec) DecodeRelay(src []byte) (domain.RelayRecord, error) {
	pairs, lists, err := decodePairs(src)
	users, hasUsers := lists["users"]
	return domain.RelayRecord{
		Time: pairs["time"], Nickname: pairs["nickname"], Text: pairs["text"], Attachment: pairs["attachment"],
		Users: users, HasUsers: hasUsers,
	}, err
}

func appendPairs(dst []byte, kv ...string) []byte {
	for i := 0; i+1 < len(kv); i += 2 {
		dst = append(append(append(append(dst, kv[i]...), '='), kv[i+1]...), 0)
	}
	return dst
}

func decodePairs(src []byte) (map[string]domain.Raw, map[string][]string, error) {
	if len(src) == 0 || src[len(src)-1] != 0 {
		return nil, nil, errFakeSyntax
	}
	pairs, lists := map[string]domain.Raw{}, map[string][]string{}
	for _, pair := range strings.Split(string(src[:len(src)-1]), "\x00") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, nil, errFakeSyntax
		}
		if list, ok := strings.CutPrefix(v, "\x02"); ok {
			pairs[k] = domain.RawList
			lists[k] = strings.Split(list, "\x01")
			continue
		}
		pairs[k] = domain.RawOf(v)
	}
	return pairs, lists, nil
}

// fields is a record of the test server: keys and values, alternating.
type fields []string

func encode(r fields) []byte { return appendPairs(nil, r...) }

// list is a list of strings as a value of fields.
func list(items ...string) string { return "\x02" + strings.Join(items, "\x01") }

// Records the server of a test sends.
func status(s string) fields { return fields{"status", s} }

var at = time.Date(2021, 9, 27, 12, 34, 56, 789000000, time.UTC)

func relay(nick, text string) fields {
	return fields{"time", domain.FormatTime(at), "nickname", nick, "text", text}
}

func relayFile(nick, text, name string) fields {
	return append(relay(nick, text), "attachment", name)
}

// frame is one step of what the test server sends: a record, a payload,
// or a read error.
type frame struct {
	rec     fields
	raw     []byte // a record frame's bytes as they are, when rec is nil
	payload []byte
	isFile  bool
	err     error
	// afterSent holds the frame back until the client has written that
	// many records, as a server answers a login only once it has it.
	afterSent int
}

// after holds f back until the client has written n records.
func (f frame) after(n int) frame { f.afterSent = n; return f }

func rec(r fields) frame      { return frame{rec: r} }
func file(b []byte) frame     { return frame{payload: b, isFile: true} }
func readErr(err error) frame { return frame{err: err} }

// step is one line the test user types at the prompt it expects.
type step struct {
	prompt ports.Prompt
	line   string
	err    error
	// waitShown holds the line back until that many events were shown.
	waitShown int
	// block holds the line back until the client ends the prompt.
	block bool
}

func text(s string) step          { return step{prompt: ports.PromptText, line: s} }
func attach(s string) step        { return step{prompt: ports.PromptAttachment, line: s} }
func nickname(s string) step      { return step{prompt: ports.PromptNickname, line: s} }
func eof(p ports.Prompt) step     { return step{prompt: p, err: io.EOF} }
func blockAt(p ports.Prompt) step { return step{prompt: p, block: true} }

// harness wires a client to typed mocks of every port.
type harness struct {
	t       *testing.T
	dialer  *mocks.MockDialer
	conn    *mocks.MockConn
	in      *mocks.MockFrameReader // conn's reading half
	out     *mocks.MockFrameWriter // conn's writing half
	ui      *mocks.MockUI
	store   *mocks.MockDownloadStore
	uploads *mocks.MockUploadSource
	client  *client.Client

	closed    chan struct{}
	closeOnce sync.Once
	// halfClosed, when a test sets it, is closed by CloseWrite; otherwise
	// CloseWrite fails, as on a transport that cannot half-close.
	halfClosed chan struct{}

	mu     sync.Mutex
	cond   *sync.Cond
	events []ports.Event // guarded by mu
	// sentRecords counts the records written; guarded by mu.
	sentRecords int
	steps       []step // guarded by mu; what ReadLine has still to give
}

func newHarness(t *testing.T, interactive bool) *harness {
	ctrl := gomock.NewController(t)
	h := &harness{
		t:       t,
		dialer:  mocks.NewMockDialer(ctrl),
		conn:    mocks.NewMockConn(ctrl),
		in:      mocks.NewMockFrameReader(ctrl),
		out:     mocks.NewMockFrameWriter(ctrl),
		ui:      mocks.NewMockUI(ctrl),
		store:   mocks.NewMockDownloadStore(ctrl),
		uploads: mocks.NewMockUploadSource(ctrl),
		closed:  make(chan struct{}),
	}
	h.cond = sync.NewCond(&h.mu)
	h.client = client.New(h.dialer, fakeCodec{}, h.ui, h.store, h.uploads)
	h.conn.EXPECT().Reader().Return(h.in).AnyTimes()
	h.conn.EXPECT().Writer().Return(h.out).AnyTimes()
	h.conn.EXPECT().Close().DoAndReturn(func() error {
		h.closeOnce.Do(func() {
			close(h.closed)
			h.mu.Lock()
			h.cond.Broadcast() // wakes waitSent
			h.mu.Unlock()
		})
		return nil
	}).AnyTimes()
	h.out.EXPECT().CloseWrite(gomock.Any()).DoAndReturn(func(time.Duration) error {
		if h.halfClosed == nil {
			return errors.New("mock: cannot half-close")
		}
		close(h.halfClosed)
		return nil
	}).MaxTimes(1)
	h.ui.EXPECT().Interactive().Return(interactive).AnyTimes()
	h.ui.EXPECT().Show(gomock.Any()).Do(func(e ports.Event) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.events = append(h.events, e)
		h.cond.Broadcast()
	}).AnyTimes()
	h.ui.EXPECT().Track(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).
		DoAndReturn(func(_ string, _ int64, _ ports.Direction, r io.Reader) (io.Reader, func()) {
			return r, func() {}
		}).AnyTimes()
	h.ui.EXPECT().ReadLine(gomock.Any(), gomock.Any()).DoAndReturn(h.readLine).AnyTimes()
	return h
}

// dialOK makes the dialer hand out the mocked connection.
func (h *harness) dialOK() {
	h.dialer.EXPECT().Dial(gomock.Any(), "server:1").Return(h.conn, nil)
}

// user sets what the user types, in order; after the last step input ends.
func (h *harness) user(steps ...step) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.steps = steps
}

func (h *harness) readLine(ctx context.Context, p ports.Prompt) (string, error) {
	h.mu.Lock()
	if len(h.steps) == 0 {
		h.mu.Unlock()
		return "", io.EOF
	}
	s := h.steps[0]
	h.steps = h.steps[1:]
	for len(h.events) < s.waitShown {
		h.cond.Wait()
	}
	h.mu.Unlock()
	assert.Equal(h.t, s.prompt, p, "the prompt asked for %q", s.line)
	if s.block {
		<-ctx.Done()
		return "", ctx.Err()
	}
	return s.line, s.err
}

// server sets what the server sends, in order. After the last frame a read
// waits for the connection to close, as a quiet server's would.
func (h *harness) server(frames ...frame) {
	var calls []any
	for _, f := range frames {
		switch {
		case f.isFile:
			calls = append(calls, h.in.EXPECT().ReadPayload().Return(int64(len(f.payload)), bytes.NewReader(f.payload), nil))
		case f.err != nil:
			calls = append(calls, h.in.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).Return(nil, f.err))
		case f.rec != nil:
			body, n := encode(f.rec), f.afterSent
			calls = append(calls, h.in.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).DoAndReturn(func([]byte, int) ([]byte, error) {
				h.waitSent(n)
				return body, nil
			}))
		default:
			calls = append(calls, h.in.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).Return(f.raw, nil))
		}
	}
	if len(frames) == 0 || frames[len(frames)-1].err == nil {
		calls = append(calls, h.in.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).DoAndReturn(func([]byte, int) ([]byte, error) {
			<-h.closed
			return nil, ports.ErrClosed
		}).AnyTimes()) // not reached when the login fails
	}
	gomock.InOrder(calls...)
}

// sent is one frame the client must write.
type sent struct {
	fields   []string // key=value in order, for a record
	payload  []byte   // for a file
	isFile   bool
	optional bool // may not be written at all: the connection is lost first
}

func sentRec(fields ...string) sent { return sent{fields: fields} }
func sentFile(b []byte) sent        { return sent{payload: b, isFile: true} }

// expectSent makes the connection take exactly these frames, in order.
func (h *harness) expectSent(frames ...sent) {
	var calls []any
	for _, f := range frames {
		if f.isFile {
			want := f.payload
			calls = append(calls, h.out.EXPECT().WritePayload(int64(len(want)), gomock.Any()).DoAndReturn(func(n int64, r io.Reader) error {
				got, err := io.ReadAll(io.LimitReader(r, n))
				require.NoError(h.t, err)
				assert.Equal(h.t, want, got, "payload")
				return nil
			}))
			continue
		}
		want := strings.Join(f.fields, "\x00") + "\x00"
		call := h.out.EXPECT().WriteFrames(gomock.Any())
		if f.optional {
			call.MinTimes(0).MaxTimes(1)
		}
		calls = append(calls, call.DoAndReturn(func(bodies [][]byte) error {
			require.Len(h.t, bodies, 1)
			assert.Equal(h.t, want, string(bodies[0]), "record")
			h.mu.Lock()
			h.sentRecords++
			h.cond.Broadcast()
			h.mu.Unlock()
			return nil
		}))
	}
	gomock.InOrder(calls...)
}

// run runs the client and returns its error.
func (h *harness) run() error {
	return h.client.Run(context.Background(), client.Config{Server: "server:1", Nickname: "Ivan"})
}

// shown returns the events shown so far, of the given kinds.
func (h *harness) shown(kinds ...ports.EventKind) []ports.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []ports.Event
	for _, e := range h.events {
		for _, k := range kinds {
			if e.Kind == k {
				out = append(out, e)
			}
		}
	}
	return out
}

// texts returns the text of every event shown of the given kinds.
func (h *harness) texts(kinds ...ports.EventKind) []string {
	var out []string
	for _, e := range h.shown(kinds...) {
		out = append(out, e.Text)
	}
	return out
}

func upload(name string, content []byte) ports.Upload {
	return ports.Upload{Name: name, Size: int64(len(content)), Body: io.NopCloser(bytes.NewReader(content))}
}

// sentWho is the question "who is online" the client asks once after login.
var sentWho = sentRec("command=who")

// sentWhoIfInTime is the question after login when the connection may be
// lost before the writer gets to it.
var sentWhoIfInTime = sent{fields: sentWho.fields, optional: true}

// runWith runs the client with cfg's settings over the harness's server
// and nickname.
func (h *harness) runWith(cfg client.Config) error {
	cfg.Server, cfg.Nickname = "server:1", "Ivan"
	return h.client.Run(context.Background(), cfg)
}

// stepsLeft is how many of the user's steps were never asked for.
func (h *harness) stepsLeft() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.steps)
}

// waitSent waits until the client has written n records, or the
// connection is closed.
func (h *harness) waitSent(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.sentRecords < n {
		select {
		case <-h.closed:
			return
		default:
		}
		h.cond.Wait()
	}
}
