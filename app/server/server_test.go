package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/dictcodec"
	"pcx/adapters/diskspool"
	"pcx/adapters/memory"
	"pcx/adapters/sysclock"
	"pcx/app/server"
	"pcx/domain"
	"pcx/internal/testpeer"
	"pcx/ports"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness is a server on an in-memory network.
type harness struct {
	t       testing.TB
	network *memory.Network
	spool   *diskspool.Spool
	cancel  context.CancelFunc
	done    chan error
}

func start(t testing.TB, cfg server.Config) *harness {
	t.Helper()
	return startWithCodec(t, cfg, dictcodec.New())
}

func startWithCodec(t testing.TB, cfg server.Config, codec ports.ServerCodec) *harness {
	t.Helper()
	network := memory.NewNetwork()
	l, err := network.Listen("pcx")
	require.NoError(t, err)
	spool, err := diskspool.New(diskspool.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	srv, err := server.New(cfg, l, codec, sysclock.New(), spool, nil, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, network: network, spool: spool, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(ctx) }()
	t.Cleanup(h.stop)
	return h
}

// stop shuts the server down and waits for Serve to return.
func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		require.NoError(h.t, err)
		h.done <- nil // let a second stop return at once
	case <-time.After(testpeer.Timeout):
		h.t.Fatal("the server did not stop")
	}
	require.NoError(h.t, h.spool.Close())
}

func (h *harness) dial() *testpeer.Peer {
	h.t.Helper()
	conn, err := h.network.Dial(context.Background(), "pcx")
	require.NoError(h.t, err)
	return testpeer.New(h.t, conn)
}

// login dials and logs in as nick, then reads the join notices of
// nothing: a fresh member has seen nothing yet.
func (h *harness) login(nick string) *testpeer.Peer {
	h.t.Helper()
	p := h.dial()
	p.Login(nick)
	return p
}

// room logs in the given nicknames in order and drains the join notices,
// so every peer's stream starts empty.
func (h *harness) room(nicks ...string) []*testpeer.Peer {
	h.t.Helper()
	peers := make([]*testpeer.Peer, len(nicks))
	for i, nick := range nicks {
		peers[i] = h.login(nick)
		for _, earlier := range peers[:i] {
			earlier.Expect("SERVER", fmt.Sprintf("User %q connected", nick))
		}
	}
	return peers
}

func TestRelaysToEveryoneButTheSender(t *testing.T) {
	h := start(t, server.Config{})
	p := h.room("Ivan", "Maria", "Olga")
	ivan, maria, olga := p[0], p[1], p[2]

	ivan.SendRecord("text", "Hello")
	rec := maria.Expect("Ivan", "Hello")
	olga.Expect("Ivan", "Hello")

	require.Regexp(t, `^\{"time":"[^"]*","nickname":"Ivan","text":"Hello"\}$`, rec.Body)
	stamp, _ := rec.GetString("time")
	_, err := time.Parse("2006-01-02 15:04:05.000000+00:00", stamp)
	require.NoError(t, err, "time stamp %q", stamp)

	// Ivan did not get his own message: the next thing he sees is Maria's.
	maria.SendRecord("text", "Hi Ivan")
	ivan.Expect("Maria", "Hi Ivan")
}

func TestJoinAndLeaveNotices(t *testing.T) {
	h := start(t, server.Config{})
	p := h.room("Ivan", "Maria")
	ivan, maria := p[0], p[1]

	maria.Conn.Close()
	ivan.Expect("SERVER", `User "Maria" disconnected`)

	// The nickname is free again at once, in any case.
	h.login("MARIA")
	ivan.Expect("SERVER", `User "MARIA" connected`)
}

func TestNicknameRefusals(t *testing.T) {
	cases := []struct {
		name   string
		record []byte
		reason string
	}{
		{"missing nickname key", testpeer.Encode("nick", "Ivan"), "nickname is required"},
		{"empty nickname", testpeer.Encode("nickname", ""), "nickname is required"},
		{"the server's name", testpeer.Encode("nickname", "SERVER"), "this nickname is already taken"},
		{"the server's name in lower case", testpeer.Encode("nickname", "server"), "this nickname is already taken"},
		{"the server's name in full width", testpeer.Encode("nickname", "Ｓｅｒｖｅｒ"), "this nickname is already taken"},
		{"taken in another case", testpeer.Encode("nickname", "tAKEN"), "this nickname is already taken"},
		{"a backslash", testpeer.Encode("nickname", `Iv\an`), ""},
		{"a quote", testpeer.Encode("nickname", `Iv"an`), ""},
		{"a space", testpeer.Encode("nickname", "Iv an"), ""},
		{"33 characters", testpeer.Encode("nickname", strings.Repeat("я", 33)), ""},
		{"garbage", []byte("\x00\xffnot a record"), "malformed record"},
		{"an empty frame", []byte{}, "malformed record"},
		{"a nickname that is a list", []byte(`{"nickname":["Ivan"]}`), "nickname must be a string"},
		{"a nickname that is an object", []byte(`{"nickname":{"a":"b"}}`), "nickname must be a string"},
		{"a duplicate key deep inside", []byte(`{"nickname":"Ivan","x":[{"k":"","k":""}]}`), "malformed record"},
		{"nesting deeper than 32", []byte(`{"nickname":"Ivan","x":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`), "malformed record"},
	}
	h := start(t, server.Config{})
	h.login("Taken")
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := h.dial()
			p.SendRaw(tc.record)
			rec := p.Next()
			status, _ := rec.GetString("status")
			require.True(t, strings.HasPrefix(status, "error: "), "status %q", status)
			if tc.reason != "" {
				require.Equal(t, "error: "+tc.reason, status)
			}
			// The same connection may try again.
			p.Login(fmt.Sprint("retry-", i))
		})
	}
}

func TestMessageRefusalsKeepTheStreamInStep(t *testing.T) {
	cases := []struct {
		name   string
		frames [][]byte
		reason string
	}{
		{"no text", [][]byte{testpeer.Encode("message", "hi")}, "error: text is required"},
		{"text that is a list", [][]byte{[]byte(`{"text":["a"]}`)}, "error: text must be a string"},
		{"text that is not UTF-8", [][]byte{testpeer.Encode("text", "\xff\xfe")}, "error: text is not valid UTF-8"},
		{"malformed record", [][]byte{[]byte(`{"text":"unterminated}`)}, "error: malformed record"},
		{"attachment without text", [][]byte{testpeer.Encode("attachment", "a.txt"), []byte("payload")}, "error: text is required"},
		{"attachment name that is a path", [][]byte{testpeer.Encode("text", "x", "attachment", "../../etc/passwd"), []byte("payload")}, ""},
		{"attachment name that is a list", [][]byte{[]byte(`{"text":"x","attachment":[]}`), []byte("payload")}, "error: attachment name must be a string"},
		{"text that is an object, with attachment", [][]byte{[]byte(`{"text":{"a":"b"},"attachment":"a.txt"}`), []byte("payload")}, "error: text must be a string"},
		{"text not UTF-8, with an attachment that is a list", [][]byte{[]byte("{\"attachment\":[{}],\"text\":\"\xff\"}"), []byte("payload")}, "error: text is not valid UTF-8"},
		{"duplicate key in a nested object", [][]byte{[]byte(`{"text":"x","l":[{"a":"","b":"","a":""}]}`)}, "error: malformed record"},
		{"unknown command", [][]byte{testpeer.Encode("command", "kick")}, "error: unknown command"},
		{"command that is a list, with attachment", [][]byte{[]byte(`{"command":["who"],"attachment":"x"}`), []byte("payload")}, "error: unknown command"},
		{"record over the limit", [][]byte{testpeer.Encode("text", strings.Repeat("x", 2000))}, "error: record is longer than 1024 bytes"},
		{"attachment over the limit", [][]byte{testpeer.Encode("text", "x", "attachment", "big.bin"), bytes.Repeat([]byte{1}, 4097)}, ""},
	}
	h := start(t, server.Config{MaxRecord: 1024, MaxAttachment: 4096})
	p := h.room("Ivan", "Maria")
	ivan, maria := p[0], p[1]
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ivan.SendRaw(tc.frames...)
			nick, text := ivan.NextMessage()
			require.Equal(t, "SERVER", nick)
			require.True(t, strings.HasPrefix(text, "error: "), text)
			if tc.reason != "" {
				require.Equal(t, tc.reason, text)
			}

			// Nothing of the refused message reached Maria, and the next
			// message goes through whole.
			ivan.SendRecord("text", "after "+tc.name)
			maria.Expect("Ivan", "after "+tc.name)
		})
	}
}

// A record that cannot be parsed has no payload behind it, even if it
// seems to name an attachment: the next frame is read as a record
// (PROTOCOL.md section 5).
func TestMalformedRecordHasNoPayload(t *testing.T) {
	h := start(t, server.Config{})
	p := h.room("Ivan", "Maria")
	ivan, maria := p[0], p[1]
	ivan.SendRaw([]byte(`{"text":"x","attachment":"a.txt"`), testpeer.Encode("text", "read as a record"))
	ivan.Expect("SERVER", "error: malformed record")
	maria.Expect("Ivan", "read as a record")
}

func TestRecordOverTheHardCapEndsTheConnection(t *testing.T) {
	h := start(t, server.Config{})
	p := h.room("Ivan", "Maria")
	ivan, maria := p[0], p[1]
	// The server stops reading at the header, so the send may never end.
	go ivan.Conn.Writer().WriteFrames([][]byte{make([]byte, server.HardMaxRecord+1)})
	got := ivan.ExpectClosed()
	require.Len(t, got, 1)
	text, _ := got[0].GetString("text")
	require.Contains(t, text, "over the hard limit")
	maria.Expect("SERVER", `User "Ivan" disconnected`)
}

func TestAttachmentsAreRelayedWithTheirRecord(t *testing.T) {
	sizes := map[string]int{"empty": 0, "one byte": 1, "in memory": 1000, "on disk": 300 << 10}
	h := start(t, server.Config{})
	p := h.room("Ivan", "Maria", "Olga")
	for name, size := range sizes {
		t.Run(name, func(t *testing.T) {
			data := bytes.Repeat([]byte(name), size/len(name)+1)[:size]
			p[0].SendRaw(testpeer.Encode("text", name, "attachment", "f.bin"), data)
			for _, receiver := range p[1:] {
				rec := receiver.Expect("Ivan", name)
				att, _ := rec.GetString("attachment")
				require.Equal(t, "f.bin", att)
				require.Equal(t, data, receiver.NextPayload())
			}
		})
	}
	require.Eventually(t, func() bool { return h.spool.Used() == 0 }, testpeer.Timeout, 10*time.Millisecond,
		"the spool still holds files after every receiver has them")
}

// Many senders at once, each with attachments of several sizes: every
// receiver gets each record followed directly by its own payload, and each
// sender's messages in the order sent.
func TestConcurrentSendersKeepOrderAndAdjacency(t *testing.T) {
	const senders, perSender = 4, 15
	h := start(t, server.Config{})
	nicks := []string{"watcher"}
	for i := range senders {
		nicks = append(nicks, fmt.Sprintf("s%d", i))
	}
	peers := h.room(nicks...)
	watcher := peers[0]
	var wg sync.WaitGroup
	for i, p := range peers[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range perSender {
				text := fmt.Sprintf("%d:%d", i, seq)
				data := bytes.Repeat([]byte(text+";"), (seq*7919)%(100<<10))
				if err := p.Conn.Writer().WriteFrames([][]byte{testpeer.Encode("text", text, "attachment", "x"), data}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := make([]int, senders)
	for range senders * perSender {
		rec := watcher.Next()
		text, _ := rec.GetString("text")
		var i, seq int
		_, err := fmt.Sscanf(text, "%d:%d", &i, &seq)
		require.NoError(t, err, "record %q", text)
		require.Equal(t, next[i], seq, "sender %d out of order", i)
		next[i]++
		require.Equal(t, bytes.Repeat([]byte(text+";"), (seq*7919)%(100<<10)), watcher.NextPayload())
	}
	wg.Wait()
}

func TestSlowReceiverIsCutOffAndOthersGoOn(t *testing.T) {
	h := start(t, server.Config{MaxQueue: 256 << 10, MaxRecord: 64 << 10})
	p := h.room("sender", "reader", "sleeper")
	sender, reader := p[0], p[1]
	// The sleeper never reads; the reader keeps getting every message, in
	// order, and is told when the sleeper is cut off. The sender waits for
	// the reader (which is then never the slow one), never for the sleeper.
	const messages = 100
	padding := strings.Repeat("x", 10<<10)
	sawLeave := false
	for i := range messages {
		sender.SendRecord("text", fmt.Sprint(i, padding))
		nick, text := reader.NextMessage()
		if nick == "SERVER" {
			require.Equal(t, `User "sleeper" disconnected`, text)
			sawLeave = true
			nick, text = reader.NextMessage()
		}
		require.Equal(t, "sender", nick)
		require.Equal(t, fmt.Sprint(i, padding), text, "message %d", i)
	}
	require.True(t, sawLeave, "the sleeper was never cut off")
}

func TestCutOffUploadIsNeverRelayed(t *testing.T) {
	h := start(t, server.Config{})
	p := h.room("Ivan", "Maria")
	ivan, maria := p[0], p[1]
	// A payload frame that promises 1 MiB, then 100 KiB, then the
	// connection dies.
	ivan.SendRecord("text", "half", "attachment", "half.bin")
	require.Error(t, ivan.Conn.Writer().WritePayload(1<<20, &shortReader{n: 100 << 10}))
	ivan.Conn.Close()
	maria.Expect("SERVER", `User "Ivan" disconnected`)
	require.Eventually(t, func() bool {
		entries, err := os.ReadDir(h.spool.Dir())
		return err == nil && len(entries) == 0
	}, testpeer.Timeout, 10*time.Millisecond, "the cut-off upload left a spool file")
}

// shortReader yields n zero bytes, then fails as a dying sender would.
type shortReader struct{ n int }

func (r *shortReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, fmt.Errorf("sender died")
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

func TestLoginTimeout(t *testing.T) {
	h := start(t, server.Config{LoginTimeout: 50 * time.Millisecond})
	p := h.dial()
	got := p.ExpectClosed()
	require.Len(t, got, 1)
	status, _ := got[0].GetString("status")
	require.Equal(t, "error: login timed out", status)
}

func TestShutdownTellsEveryone(t *testing.T) {
	h := start(t, server.Config{})
	peers := h.room("Ivan", "Maria")
	results := make(chan []testpeer.Record, len(peers))
	for _, p := range peers {
		go func() {
			got, err := p.ReadUntilClosed()
			if err != nil {
				t.Error(err)
			}
			results <- got
		}()
	}
	h.stop()
	for range peers {
		got := <-results
		require.Len(t, got, 1)
		text, _ := got[0].GetString("text")
		require.Equal(t, "Server is shutting down", text)
	}
}

// panickyCodec panics on a message that says "boom", as a bug would.
type panickyCodec struct{ *dictcodec.Codec }

func (c panickyCodec) DecodeInbound(body []byte) (domain.InboundRecord, error) {
	if strings.Contains(string(body), "boom") {
		panic("a bug in decoding")
	}
	return c.Codec.DecodeInbound(body)
}

// A panic in one connection's goroutine costs that connection alone: it
// is closed, its name freed and the others told, and the server goes on.
func TestAPanicCostsItsConnectionOnly(t *testing.T) {
	h := startWithCodec(t, server.Config{}, panickyCodec{dictcodec.New()})
	ps := h.room("Ivan", "Maria")
	ivan, maria := ps[0], ps[1]
	ivan.SendRecord("text", "boom")
	ivan.ExpectClosed()
	maria.Expect("SERVER", `User "Ivan" disconnected`)

	again := h.login("Ivan")
	maria.Expect("SERVER", `User "Ivan" connected`)
	again.SendRecord("text", "still here")
	maria.Expect("Ivan", "still here")
}
