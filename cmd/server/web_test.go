package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/websocket"
	"pcx/internal/testpeer"
)

func TestTheWebFlags(t *testing.T) {
	s, err := parseSettings(nil, noEnv, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ":23482", s.WebListen, "on by default")
	assert.Empty(t, origins(s.WebOrigins))

	env := map[string]string{"PCX_WEB_LISTEN": "127.0.0.1:8080", "PCX_WEB_ORIGINS": " chat.example.com, *.example.org ,"}
	s, err = parseSettings(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", s.WebListen)
	assert.Equal(t, []string{"chat.example.com", "*.example.org"}, origins(s.WebOrigins))

	s, err = parseSettings([]string{"--web-listen", ""}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	assert.Empty(t, s.WebListen, "'' turns it off")
}

func TestTheServerAcceptsFromTCPAndWebSocketAtOnce(t *testing.T) {
	var logged bytes.Buffer
	s := settings{Listen: "127.0.0.1:0", WebListen: "127.0.0.1:0", WriteTimeout: 10 * time.Second,
		SpoolDir: t.TempDir(), ShutdownGrace: time.Second}
	srv, cleanup, err := initServer(s, slog.New(slog.NewTextHandler(&logged, nil)))
	require.NoError(t, err)
	// The URL is logged while the listeners open, before Serve logs anything.
	m := regexp.MustCompile(`open http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(logged.String())
	require.NotNil(t, m, "the URL to open is logged: %s", logged.String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
		cleanup()
	}()

	conn, err := websocket.Dialer{}.Dial(ctx, m[1])
	require.NoError(t, err)
	web := testpeer.New(t, conn)
	plain := dialTCP(t, srv.Addr())
	web.Login("Web")
	plain.Login("Plain")
	web.Expect("SERVER", `User "Plain" connected`)

	web.SendRaw(testpeer.Encode("text", "a file", "attachment", "f.bin"), []byte("payload over the WebSocket"))
	plain.Expect("Web", "a file")
	assert.Equal(t, "payload over the WebSocket", string(plain.NextPayload()))
	plain.SendRaw(testpeer.Encode("text", "back", "attachment", "g.bin"), []byte("payload over TCP"))
	web.Expect("Plain", "back")
	assert.Equal(t, "payload over TCP", string(web.NextPayload()))
}
