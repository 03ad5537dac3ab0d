package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pcxtls "pcx/adapters/tls"
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

// startBoth runs the fully wired server on loopback with its TCP and web
// listeners, and returns their addresses; the web one as the log gives it.
func startBoth(t *testing.T, s settings) (tcpAddr, webAddr string) {
	t.Helper()
	var logged bytes.Buffer
	s.Listen, s.WebListen, s.TLSListen = "127.0.0.1:0", "127.0.0.1:0", ""
	if s.WriteTimeout == 0 {
		s.WriteTimeout = 10 * time.Second
	}
	s.SpoolDir, s.ShutdownGrace = t.TempDir(), time.Second
	srv, cleanup, err := initServer(s, nil, nil, slog.New(slog.NewTextHandler(&logged, nil)))
	require.NoError(t, err)
	// The URL is logged while the listeners open, before Serve logs anything.
	m := regexp.MustCompile(`open http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(logged.String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		cleanup()
	})
	require.NotNil(t, m, "the URL to open is logged")
	return srv.Addr(), m[1]
}

func dialWeb(t *testing.T, addr string) *testpeer.Peer {
	t.Helper()
	conn, err := websocket.Dialer{}.Dial(context.Background(), addr)
	require.NoError(t, err)
	return testpeer.New(t, conn)
}

func TestTheServerAcceptsFromTCPAndWebSocketAtOnce(t *testing.T) {
	tcpAddr, webAddr := startBoth(t, settings{})
	web := dialWeb(t, webAddr)
	plain := dialTCP(t, tcpAddr)
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

// A WebSocket receiver that reads nothing is cut off like a TCP one, and
// the others get everything meanwhile.
func TestASleepingWebSocketReceiverIsCutOff(t *testing.T) {
	tcpAddr, webAddr := startBoth(t, settings{MaxQueue: 8 << 20})
	sender, reader := dialTCP(t, tcpAddr), dialTCP(t, tcpAddr)
	sender.Login("sender")
	reader.Login("reader")
	sender.Expect("SERVER", `User "reader" connected`)
	dialWeb(t, webAddr).Login("sleeper") // and never reads again
	reader.Expect("SERVER", `User "sleeper" connected`)

	floodPastASleeper(t, sender, reader, 400) // 400 × 64 KiB = 25 MiB, three times the queue bound
}

// --web-tls serves the page as https and the WebSocket as wss, with the
// certificate whose fingerprint the server logs for its TLS port.
func TestWebTLSServesHTTPSAndWSSWithTheServersCertificate(t *testing.T) {
	s := settings{WebListen: "127.0.0.1:0", WebTLS: true, DataDir: t.TempDir(), SpoolDir: t.TempDir(),
		WriteTimeout: 10 * time.Second, ShutdownGrace: time.Second}
	certs, _, err := loadCertificates(s)
	require.NoError(t, err)
	require.NotNil(t, certs, "--web-tls alone needs the certificate")
	var logged bytes.Buffer
	srv, cleanup, err := initServer(s, certs, nil, slog.New(slog.NewTextHandler(&logged, nil)))
	require.NoError(t, err)
	m := regexp.MustCompile(`open https://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(logged.String())
	require.NotNil(t, m, "the https URL is logged: %s", logged.String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
		cleanup()
	}()

	pinned := &tls.Config{
		InsecureSkipVerify: true, // the fingerprint below is the check
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			cert, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return err
			}
			if got := pcxtls.Fingerprint(cert); got != certs.Fingerprint() {
				return fmt.Errorf("served %s, not the TLS port's %s", got, certs.Fingerprint())
			}
			return nil
		},
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: pinned}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + m[1] + "/")
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, uint16(tls.VersionTLS13), resp.TLS.Version)
	assert.Contains(t, string(page), "<html")

	conn, err := websocket.Dialer{TLS: pinned}.Dial(context.Background(), m[1])
	require.NoError(t, err)
	peer := testpeer.New(t, conn)
	peer.Login("Secure")
}
