package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/tcp"
	"pcx/internal/testpeer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func noEnv(string) string { return "" }

func TestHelpListsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, 0, run([]string{"--help"}, noEnv, io.Discard, &out))
	for _, flag := range []string{"listen", "max-record", "max-attachment", "max-queue", "write-timeout",
		"login-timeout", "spool-dir", "max-spool", "log-level", "log-format", "PCX_LISTEN", "web-listen", "web-origins", "PCX_WEB_LISTEN",
		"rate-limit", "PCX_RATE_LIMIT", "rate-burst", "PCX_RATE_BURST", "read-timeout", "PCX_READ_TIMEOUT",
		"tls-listen", "PCX_TLS_LISTEN", "data-dir", "PCX_DATA_DIR", "tls-cert", "PCX_TLS_CERT", "tls-key", "PCX_TLS_KEY",
		"tls-handshake-timeout", "PCX_TLS_HANDSHAKE_TIMEOUT", "tls-max-handshakes", "PCX_TLS_MAX_HANDSHAKES",
		"print-fingerprint", "PCX_PRINT_FINGERPRINT", "-nats ", "PCX_NATS", "-nats-creds", "PCX_NATS_CREDS",
		"-nats-tls-ca", "PCX_NATS_TLS_CA", "-room", "PCX_ROOM", "-node-name", "PCX_NODE_NAME", "-node-ttl", "PCX_NODE_TTL", "-nats-replicas", "PCX_NATS_REPLICAS",
		"-nats-file-hold", "PCX_NATS_FILE_HOLD", "-nats-file-fetches", "PCX_NATS_FILE_FETCHES"} {
		require.Contains(t, out.String(), flag)
	}
}

func TestSettingsComeFromFlagsOverEnvironmentOverDefaults(t *testing.T) {
	env := map[string]string{"PCX_MAX_QUEUE": "1MiB", "PCX_LISTEN": ":1", "PCX_LOG_FORMAT": "json"}
	s, err := parseSettings([]string{"--listen", "127.0.0.1:9", "--max-record", "2KB"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9", s.Listen)
	require.EqualValues(t, 1<<20, s.MaxQueue)
	require.EqualValues(t, 2000, s.MaxRecord)
	require.EqualValues(t, 1<<30, s.MaxAttachment)
	require.Equal(t, "json", s.LogFormat)
	require.Equal(t, 30*time.Second, s.WriteTimeout)
}

func TestAttackLimitsHaveDefaultsAndCanBeTurnedOff(t *testing.T) {
	s, err := parseSettings(nil, noEnv, io.Discard)
	require.NoError(t, err)
	require.Equal(t, autoSpool, s.MaxSpool)
	require.Equal(t, 30*time.Second, s.ReadTimeout)
	cfg := serverConfig(s)
	require.InDelta(t, 50, cfg.RateLimit, 0)
	require.Equal(t, 200, cfg.RateBurst)

	env := map[string]string{"PCX_RATE_LIMIT": "0", "PCX_MAX_SPOOL": "0", "PCX_READ_TIMEOUT": "2s"}
	s, err = parseSettings([]string{"--rate-burst", "5"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	require.Negative(t, serverConfig(s).RateLimit, "0 turns the rate limit off")
	require.Equal(t, 5, serverConfig(s).RateBurst)
	require.Zero(t, s.MaxSpool, "0 turns the spool limit off")
	require.Equal(t, 2*time.Second, s.ReadTimeout)
}

func TestAutoSpoolIsTheLesserOf8GiBAndHalfTheFreeSpace(t *testing.T) {
	for name, tc := range map[string]struct {
		free int64
		err  error
		want int64
	}{
		"a small disk gives half":       {free: 10 << 30, want: 5 << 30},
		"a large disk gives 8 GiB":      {free: 1 << 40, want: 8 << 30},
		"a full disk still bounds":      {free: 0, want: 1},
		"unknown free space falls back": {err: errors.New("statfs"), want: fallbackSpool},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, spoolLimit(tc.free, tc.err))
		})
	}
	free, err := freeSpace(t.TempDir())
	require.NoError(t, err)
	require.Positive(t, free)
}

func TestBadSettingsAreOneClearLine(t *testing.T) {
	cases := map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"a size without a number": {args: []string{"--max-queue", "lots"}, want: "not a size"},
		"a bad environment value": {env: map[string]string{"PCX_LOGIN_TIMEOUT": "soon"}, want: "PCX_LOGIN_TIMEOUT"},
		"an unknown log format":   {args: []string{"--log-format", "xml"}, want: "text or json"},
		"a stray argument":        {args: []string{"extra"}, want: "unexpected argument"},
		"a record limit too big":  {args: []string{"--max-record", "2MiB", "--listen", "127.0.0.1:0", "--tls-listen", "", "--web-listen", ""}, want: "max record"},
		"a negative rate":         {args: []string{"--rate-limit", "-1"}, want: "not a rate"},
		"a rate with no burst":    {args: []string{"--rate-burst", "0"}, want: "--rate-burst"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(tc.args, func(k string) string { return tc.env[k] }, io.Discard, &out)
			require.NotZero(t, code)
			require.Contains(t, out.String(), tc.want)
		})
	}
}

func TestPortInUseIsOneLineAndExitOne(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	var out bytes.Buffer
	code := run([]string{"--listen", busy.Addr().String(), "--tls-listen", "", "--web-listen", ""}, noEnv, io.Discard, &out)
	require.Equal(t, 1, code)
	require.Equal(t, 1, strings.Count(out.String(), "\n"), "output: %q", out.String())
	require.Contains(t, out.String(), "address already in use")
}

// A room's NATS that does not answer stops the start with one clear line
// and exit code 1; without --nats nothing of the room is set.
func TestUnreachableNATSIsOneLineAndExitOne(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "nats://" + closed.Addr().String()
	require.NoError(t, closed.Close())
	var out bytes.Buffer
	code := run([]string{"--listen", "127.0.0.1:0", "--tls-listen", "", "--web-listen", "", "--nats", url, "--spool-dir", t.TempDir()}, noEnv, io.Discard, &out)
	require.Equal(t, 1, code)
	require.Contains(t, out.String(), "pcx-server: joining the room over NATS: nats: connect to "+url)

	s, err := parseSettings(nil, noEnv, io.Discard)
	require.NoError(t, err)
	require.Empty(t, s.NATS)
	require.Empty(t, s.NodeName)
	env := map[string]string{"PCX_NATS": "nats://a:4222, nats://b:4222", "PCX_NODE_TTL": "3s"}
	s, err = parseSettings([]string{"--listen", "127.0.0.1:7001", "--room", "blue"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"nats://a:4222", "nats://b:4222"}, natsURLs(s.NATS))
	require.Equal(t, "blue", s.Room)
	require.Equal(t, 3*time.Second, s.NodeTTL)
	require.True(t, strings.HasSuffix(s.NodeName, ":7001"), "host name and port: %q", s.NodeName)
	_, err = parseSettings([]string{"--nats", "nats://a:4222", "--node-ttl", "10ms"}, noEnv, io.Discard)
	require.ErrorContains(t, err, "--node-ttl")
}

// startTCP runs the fully wired server on a loopback port.
func startTCP(t *testing.T, s settings) string {
	t.Helper()
	s.Listen = "127.0.0.1:0"
	s.TLSListen = ""
	s.LogLevel = slog.LevelWarn
	if s.WriteTimeout == 0 {
		s.WriteTimeout = 30 * time.Second
	}
	s.SpoolDir = t.TempDir()
	s.ShutdownGrace = time.Second
	srv, cleanup, err := initServer(s, nil, nil, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: s.LogLevel})))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		cleanup()
		entries, _ := os.ReadDir(s.SpoolDir)
		require.Empty(t, entries, "the spool was not removed")
	})
	return srv.Addr()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func dialTCP(t *testing.T, addr string) *testpeer.Peer {
	t.Helper()
	conn, err := tcp.Dialer{}.Dial(context.Background(), addr)
	require.NoError(t, err)
	return testpeer.New(t, conn)
}

func TestGarbageBeforeLoginOverTCP(t *testing.T) {
	addr := startTCP(t, settings{})
	cases := map[string][]byte{
		"an HTTP request":      []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"a length of 2^32 - 1": {0xff, 0xff, 0xff, 0xff, 'x'},
		"a record over 1 MiB":  {0, 0x10, 0, 1},
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.Write(raw)
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(testpeer.Timeout)))
			reply, err := io.ReadAll(conn)
			require.NoError(t, err, "the server did not close the connection")
			require.Contains(t, string(reply), `{"status":"error: record of`)
		})
	}
	// The server is still there for everyone else.
	dialTCP(t, addr).Login("Ivan")
}

func TestSlowReaderIsCutOffWhileOthersGetFortyMiB(t *testing.T) {
	addr := startTCP(t, settings{MaxQueue: 8 << 20, MaxRecord: 64 << 10})
	sender, reader := dialTCP(t, addr), dialTCP(t, addr)
	sender.Login("sender")
	reader.Login("reader")
	sender.Expect("SERVER", `User "reader" connected`)
	sleeper := dialTCP(t, addr)
	sleeper.Login("sleeper") // and never reads again
	sender.Expect("SERVER", `User "sleeper" connected`)
	reader.Expect("SERVER", `User "sleeper" connected`)

	floodPastASleeper(t, sender, reader, 640) // 640 × 64 KiB = 40 MiB
}

// floodPastASleeper sends messages texts of 64 KiB from sender, at most a
// window ahead of reader, so that the reader is never the slow one, and
// requires the reader to get every one in order and to see "sleeper", who
// reads nothing, leave.
func floodPastASleeper(t *testing.T, sender, reader *testpeer.Peer, messages int) {
	t.Helper()
	text := strings.Repeat("y", 64<<10-100)
	window := make(chan struct{}, 16)
	go func() {
		for i := range messages {
			window <- struct{}{}
			if sender.Conn.Writer().WriteFrames([][]byte{testpeer.Encode("text", fmt.Sprintf("%04d%s", i, text))}) != nil {
				return
			}
		}
	}()
	next, sawLeave := 0, false
	for next < messages || !sawLeave {
		nick, got := reader.NextMessage()
		if nick == "SERVER" {
			require.Equal(t, `User "sleeper" disconnected`, got)
			sawLeave = true
			continue
		}
		require.Equal(t, fmt.Sprintf("%04d", next), got[:4])
		require.Len(t, got, len(text)+4)
		next++
		<-window
	}
}

func TestLargeFileOverTCPArrivesWholeAndInStep(t *testing.T) {
	addr := startTCP(t, settings{})
	peers := []*testpeer.Peer{dialTCP(t, addr), dialTCP(t, addr), dialTCP(t, addr)}
	for i, p := range peers {
		p.Login(fmt.Sprint("p", i))
		for _, q := range peers[:i] {
			q.Expect("SERVER", fmt.Sprintf(`User "p%d" connected`, i))
		}
	}
	data := make([]byte, 5<<20)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	peers[0].SendRecord("text", "big", "attachment", "big.bin")
	require.NoError(t, peers[0].Conn.Writer().WritePayload(int64(len(data)), bytes.NewReader(data)))
	peers[0].SendRecord("text", "after")
	for _, p := range peers[1:] {
		p.Expect("p0", "big")
		require.Equal(t, sha256.Sum256(data), sha256.Sum256(p.NextPayload()))
		p.Expect("p0", "after")
	}
}

func TestUploadCutOffMidwayOverTCP(t *testing.T) {
	addr := startTCP(t, settings{})
	ivan, maria := dialTCP(t, addr), dialTCP(t, addr)
	ivan.Login("Ivan")
	maria.Login("Maria")
	ivan.Expect("SERVER", `User "Maria" connected`)
	ivan.SendRecord("text", "half", "attachment", "half.bin")
	conn := ivan.Conn
	// Promise 10 MiB, send 3, die.
	go conn.Writer().WritePayload(10<<20, io.LimitReader(zeros{}, 3<<20))
	time.Sleep(50 * time.Millisecond) // let some of it through before dying; not an assertion
	conn.Close()
	maria.Expect("SERVER", `User "Ivan" disconnected`)
	maria.ExpectSilence(100 * time.Millisecond)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
