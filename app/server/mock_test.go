package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"pcx/adapters/dictcodec"
	"pcx/adapters/memory"
	"pcx/adapters/sysclock"
	"pcx/app/server"
	"pcx/internal/testpeer"
	"pcx/ports"
	"pcx/ports/mocks"
)

// scriptedConn makes a mock connection that reads the given records, then
// waits until it is closed and reads io.EOF; it records every frame the
// server writes.
type scriptedConn struct {
	*mocks.MockConn
	in      *mocks.MockFrameReader
	out     *mocks.MockFrameWriter
	mu      sync.Mutex
	written []string
	wrote   chan struct{} // gets a token per WriteFrames call
}

func newScriptedConn(ctrl *gomock.Controller, records ...string) *scriptedConn {
	c := &scriptedConn{MockConn: mocks.NewMockConn(ctrl), in: mocks.NewMockFrameReader(ctrl), out: mocks.NewMockFrameWriter(ctrl), wrote: make(chan struct{}, 100)}
	closed := make(chan struct{})
	var closeOnce sync.Once
	c.EXPECT().RemoteAddr().Return("mock-peer").AnyTimes()
	c.EXPECT().Reader().Return(c.in).AnyTimes()
	c.EXPECT().Writer().Return(c.out).AnyTimes()
	c.in.EXPECT().SetReadDeadline(gomock.Any()).Return(nil).AnyTimes()
	c.in.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).DoAndReturn(func([]byte, int) ([]byte, error) {
		if len(records) == 0 {
			<-closed
			return nil, io.EOF
		}
		next := records[0]
		records = records[1:]
		return []byte(next), nil
	}).AnyTimes()
	c.out.EXPECT().WriteFrames(gomock.Any()).DoAndReturn(func(bodies [][]byte) error {
		c.mu.Lock()
		for _, b := range bodies {
			c.written = append(c.written, string(b))
		}
		c.mu.Unlock()
		c.wrote <- struct{}{}
		return nil
	}).AnyTimes()
	closeRead := func() error {
		closeOnce.Do(func() { close(closed) })
		return nil
	}
	c.EXPECT().Close().DoAndReturn(closeRead).MinTimes(1)
	// The peer answers a half-close by closing, as clients do.
	c.out.EXPECT().CloseWrite(gomock.Any()).DoAndReturn(func(time.Duration) error { return closeRead() }).AnyTimes()
	return c
}

func (c *scriptedConn) frames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.written...)
}

// mockListener hands out what comes on conns until it is closed.
func mockListener(ctrl *gomock.Controller, conns <-chan ports.Conn) *mocks.MockListener {
	l := mocks.NewMockListener(ctrl)
	closed := make(chan struct{})
	l.EXPECT().Addr().Return("mock").AnyTimes()
	l.EXPECT().Accept().DoAndReturn(func() (ports.Conn, error) {
		select {
		case c := <-conns:
			return c, nil
		case <-closed:
			return nil, ports.ErrClosed
		}
	}).AnyTimes()
	l.EXPECT().Close().DoAndReturn(func() error { close(closed); return nil }).Times(1)
	return l
}

func fixedClock(ctrl *gomock.Controller, at time.Time) *mocks.MockClock {
	c := mocks.NewMockClock(ctrl)
	c.EXPECT().Now().Return(at).AnyTimes()
	return c
}

func serve(t *testing.T, l ports.Listener, clock ports.Clock, spool ports.Spool) context.CancelFunc {
	srv, err := server.New(server.Config{}, l, dictcodec.New(), clock, spool, nil, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return cancel
}

func waitWrites(t *testing.T, c *scriptedConn, want int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(c.frames()) < want {
		select {
		case <-c.wrote:
		case <-deadline:
			t.Fatalf("got %d frames, want %d: %q", len(c.frames()), want, c.frames())
		}
	}
	return c.frames()
}

func TestMockedLoginIsRetriedOnTheSameConnection(t *testing.T) {
	ctrl := gomock.NewController(t)
	conns := make(chan ports.Conn, 1)
	conn := newScriptedConn(ctrl, `{"nickname":"SERVER"}`, `{ "nickname" : "Ivan" }`)
	conns <- conn
	spool := mocks.NewMockSpool(ctrl) // no attachment: never called
	serve(t, mockListener(ctrl, conns), fixedClock(ctrl, time.Now()), spool)

	require.Equal(t, []string{
		`{"status":"error: this nickname is already taken"}`,
		`{"status":"success"}`,
	}, waitWrites(t, conn, 2))
}

func TestMockedRelayIsStampedByTheClockAndEncodedExactly(t *testing.T) {
	ctrl := gomock.NewController(t)
	at := time.Date(2021, 9, 27, 15, 34, 56, 789000000, time.FixedZone("MSK", 3*3600))
	conns := make(chan ports.Conn)
	serve(t, mockListener(ctrl, conns), fixedClock(ctrl, at), mocks.NewMockSpool(ctrl))
	receiver := newScriptedConn(ctrl, `{"nickname":"Maria"}`)
	conns <- receiver
	waitWrites(t, receiver, 1)

	// Only now does the sender connect, so Maria is surely in the room.
	conns <- newScriptedConn(ctrl, `{"nickname":"Ivan"}`, `{"text":"Hello \"you\"","extra":{"k":[]}}`)
	const stamp = `"time":"2021-09-27 12:34:56.789000+00:00"`
	require.Equal(t, []string{
		`{"status":"success"}`,
		`{` + stamp + `,"nickname":"SERVER","text":"User \"Ivan\" connected"}`,
		`{` + stamp + `,"nickname":"Ivan","text":"Hello \"you\""}`,
	}, waitWrites(t, receiver, 3))
}

// A failure that passes (out of file descriptors) is retried after a
// pause, and the connection that comes next is served; a failure that
// does not pass ends Serve with it.
func TestAcceptRetriesFailuresThatPassAndStopsOnOthers(t *testing.T) {
	ctrl := gomock.NewController(t)
	l := mocks.NewMockListener(ctrl)
	l.EXPECT().Addr().Return("mock").AnyTimes()
	passing := fmt.Errorf("accept: %w: too many open files", ports.ErrAcceptPassing)
	broken := errors.New("accept: the listener broke")
	peer, conn := memoryPair(t)
	gomock.InOrder(
		l.EXPECT().Accept().Return(nil, passing).Times(2),
		l.EXPECT().Accept().Return(conn, nil),
		l.EXPECT().Accept().DoAndReturn(func() (ports.Conn, error) {
			peer.Login("Ivan") // served although Accept failed twice before
			return nil, broken
		}),
	)
	l.EXPECT().Close().Return(nil).AnyTimes()
	srv, err := server.New(server.Config{ShutdownGrace: 200 * time.Millisecond}, l, dictcodec.New(), sysclock.New(), nil, nil, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)

	require.ErrorIs(t, srv.Serve(context.Background()), broken)
}

// memoryPair is a connection on the in-memory transport: the peer's end,
// and the server's end as a listener would hand it out.
func memoryPair(t *testing.T) (*testpeer.Peer, ports.Conn) {
	t.Helper()
	network := memory.NewNetwork()
	l, err := network.Listen("pair")
	require.NoError(t, err)
	defer l.Close()
	dialed := make(chan ports.Conn, 1)
	go func() {
		c, err := network.Dial(context.Background(), "pair")
		assert.NoError(t, err)
		dialed <- c
	}()
	conn, err := l.Accept()
	require.NoError(t, err)
	return testpeer.New(t, <-dialed), conn
}
