package websocket_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ws "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/websocket"
	"pcx/ports"
	"pcx/ports/transporttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newLoopback(opts websocket.Options) func(t *testing.T) (ports.Listener, ports.Dialer) {
	return func(t *testing.T) (ports.Listener, ports.Dialer) {
		l, err := websocket.Listen("127.0.0.1:0", opts)
		require.NoError(t, err)
		return l, websocket.Dialer{WriteTimeout: opts.WriteTimeout}
	}
}

func TestListenerContract(t *testing.T) {
	transporttest.RunListenerContract(t, newLoopback(websocket.Options{}))
}

func TestReadTimeoutContract(t *testing.T) {
	const timeout = 300 * time.Millisecond
	transporttest.RunReadTimeoutContract(t, timeout, transporttest.PairFromListener(newLoopback(websocket.Options{ReadTimeout: timeout})))
}

func TestListenerContractWithWriteTimeout(t *testing.T) {
	transporttest.RunListenerContract(t, newLoopback(websocket.Options{WriteTimeout: 10 * time.Second}))
}

// listen starts a listener that the test closes, and accepts its
// connections in the background.
func listen(t *testing.T, opts websocket.Options) (*websocket.Listener, <-chan ports.Conn) {
	t.Helper()
	l, err := websocket.Listen("127.0.0.1:0", opts)
	require.NoError(t, err)
	conns := make(chan ports.Conn, 8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		close(conns)
		for c := range conns {
			_ = c.Close()
		}
	})
	return l, conns
}

func accepted(t *testing.T, conns <-chan ports.Conn) ports.Conn {
	t.Helper()
	select {
	case c := <-conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted")
		return nil
	}
}

func dialRaw(t *testing.T, l *websocket.Listener, d websocket.Dialer) *ws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialWebSocket(ctx, l.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func frame(body string) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(len(body))) // header only
}

func TestFramesSplitAcrossMessagesAndSeveralInOne(t *testing.T) {
	t.Parallel()
	l, conns := listen(t, websocket.Options{})
	c := dialRaw(t, l, websocket.Dialer{})
	ctx := context.Background()

	// One frame cut byte by byte into messages, header included; then three
	// frames, the last a payload, in a single message.
	stream := append(frame(`{"nickname":"Ivan"}`), `{"nickname":"Ivan"}`...)
	for _, b := range stream {
		require.NoError(t, c.Write(ctx, ws.MessageBinary, []byte{b}))
	}
	var packed []byte
	for _, body := range []string{`{"text":"a"}`, `{"text":"b","attachment":"x"}`, "payload"} {
		packed = append(append(packed, frame(body)...), body...)
	}
	require.NoError(t, c.Write(ctx, ws.MessageBinary, packed))

	server := accepted(t, conns)
	var got []string
	for range 3 {
		body, err := server.Reader().ReadRecord(nil, 1<<20)
		require.NoError(t, err)
		got = append(got, string(body))
	}
	n, r, err := server.Reader().ReadPayload()
	require.NoError(t, err)
	payload, err := io.ReadAll(r)
	require.NoError(t, err)

	assert.Equal(t, []string{`{"nickname":"Ivan"}`, `{"text":"a"}`, `{"text":"b","attachment":"x"}`}, got)
	assert.Equal(t, int64(7), n)
	assert.Equal(t, "payload", string(payload))
}

func TestATextMessageClosesWith1003(t *testing.T) {
	t.Parallel()
	l, conns := listen(t, websocket.Options{})
	c := dialRaw(t, l, websocket.Dialer{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	require.NoError(t, c.Write(ctx, ws.MessageText, append(frame("{}"), "{}"...)))

	server := accepted(t, conns)
	_, err := server.Reader().ReadRecord(nil, 1<<20)
	assert.Error(t, err, "the server reads no frame from a text message")
	_, _, err = c.Read(ctx)
	assert.Equal(t, ws.StatusUnsupportedData, ws.CloseStatus(err), "close status: %v", err)
}

func TestAWrongOrMissingSubprotocolClosesWith1002(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"pcx.v2", "chat"} {
		t.Run(proto, func(t *testing.T) {
			l, conns := listen(t, websocket.Options{})
			c := dialRaw(t, l, websocket.Dialer{Subprotocol: proto})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			_, _, err := c.Read(ctx)

			assert.Equal(t, ws.StatusProtocolError, ws.CloseStatus(err), "close status: %v", err)
			assert.Empty(t, conns, "no connection reaches the application")
		})
	}
	t.Run("none", func(t *testing.T) {
		l, conns := listen(t, websocket.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := ws.Dial(ctx, "ws://"+l.Addr()+websocket.Path, nil)
		require.NoError(t, err)
		defer c.CloseNow()

		_, _, err = c.Read(ctx)

		assert.Equal(t, ws.StatusProtocolError, ws.CloseStatus(err), "close status: %v", err)
		assert.Empty(t, conns, "no connection reaches the application")
	})
}

func TestAForeignOriginIsRefusedWith403(t *testing.T) {
	t.Parallel()
	l, conns := listen(t, websocket.Options{OriginPatterns: []string{"chat.example.com"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := websocket.Dialer{Origin: "http://evil.example"}.Dial(ctx, l.Addr())

	var refused *websocket.UpgradeError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, http.StatusForbidden, refused.Status)
	assert.Empty(t, conns)

	for _, origin := range []string{"http://" + l.Addr(), "https://chat.example.com"} {
		c, err := websocket.Dialer{Origin: origin}.Dial(ctx, l.Addr())
		require.NoError(t, err, "origin %s is allowed", origin)
		_ = c.Close()
	}
}

func TestAMessageOverTheLimitCloses(t *testing.T) {
	t.Parallel()
	l, conns := listen(t, websocket.Options{})
	c := dialRaw(t, l, websocket.Dialer{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	server := make(chan ports.Conn, 1)
	go func() { server <- accepted(t, conns) }()

	// Within the limit: a record at the hard cap, in one message.
	body := strings.Repeat("x", 1<<20)
	require.NoError(t, c.Write(ctx, ws.MessageBinary, append(frame(body), body...)))
	s := <-server
	got, err := s.Reader().ReadRecord(nil, 1<<20)
	require.NoError(t, err)
	assert.Len(t, got, 1<<20)

	// Over it: one message longer than MaxMessage, a payload frame.
	big := binary.BigEndian.AppendUint32(nil, websocket.MaxMessage)
	big = append(big, make([]byte, websocket.MaxMessage)...)
	_ = c.Write(ctx, ws.MessageBinary, big)
	_, r, err := s.Reader().ReadPayload()
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, r)
	assert.Error(t, err)
	_, _, err = c.Read(ctx)
	assert.Equal(t, ws.StatusMessageTooBig, ws.CloseStatus(err), "close status: %v", err)
}

func TestThePageIsServedBesideTheSocket(t *testing.T) {
	t.Parallel()
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "page") })
	l, _ := listen(t, websocket.Options{Page: page})

	resp, err := http.Get("http://" + l.Addr() + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)

	assert.Equal(t, "page", string(body))
	assert.True(t, strings.HasPrefix(l.URL("localhost"), "http://"))
}

func TestCloseWhileAnUpgradeWaitsForAccept(t *testing.T) {
	t.Parallel()
	l, err := websocket.Listen("127.0.0.1:0", websocket.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := websocket.Dialer{}.DialWebSocket(ctx, l.Addr())
	require.NoError(t, err)
	defer c.CloseNow()

	require.NoError(t, l.Close())

	_, _, err = c.Read(ctx)
	assert.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "the waiting upgrade was closed: %v", err)
}

// The server closes a slow receiver's connection while others wait, so
// Close must not wait for the peer, even while a CloseWrite waits for the
// peer's answer (which a peer that reads nothing never gives; the
// handshake's own bound is 5 s).
func TestCloseDoesNotWaitForThePeer(t *testing.T) {
	t.Parallel()
	l, conns := listen(t, websocket.Options{})
	dialRaw(t, l, websocket.Dialer{}) // never reads, so never answers a close
	server := accepted(t, conns)
	closedWrite := make(chan error, 1)
	go func() { closedWrite <- server.Writer().CloseWrite(time.Second) }()
	time.Sleep(50 * time.Millisecond) // let the handshake start; Close must cut it short either way

	closed := make(chan error, 1)
	go func() { closed <- server.Close() }()

	for _, ch := range []chan error{closed, closedWrite} {
		select {
		case <-ch:
		case <-time.After(3 * time.Second):
			t.Fatal("Close waited for the peer")
		}
	}
}
