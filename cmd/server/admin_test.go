package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/internal/testpeer"
)

// freeAddr is a loopback address nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestAdminServesMetricsHealthAndProfiles(t *testing.T) {
	chat, adminAddr := freeAddr(t), freeAddr(t)
	s, err := parseSettings([]string{"--listen", chat, "--tls-listen", "", "--web-listen", "", "--admin-addr", adminAddr,
		"--spool-dir", t.TempDir(), "--shutdown-grace", "1s", "--log-level", "warn"}, noEnv, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- serve(ctx, s, io.Discard) }()
	base := "http://" + adminAddr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "/healthz answers once the server is up")

	ivan, maria := dialTCP(t, chat), dialTCP(t, chat)
	ivan.Login("Ivan")
	maria.Login("Maria")
	ivan.Expect("SERVER", `User "Maria" connected`)
	maria.SendRaw(testpeer.Encode("text", "hi", "attachment", "a.bin"), []byte("12345"))
	ivan.Expect("Maria", "hi")
	assert.Equal(t, "12345", string(ivan.NextPayload()))

	maria.SendRaw([]byte("{not a record"))
	maria.Expect("SERVER", "error: malformed record")
	olga := dialTCP(t, chat)
	olga.SendRecord("nickname", "IVAN")
	olga.ExpectStatus("error: this nickname is already taken")
	olga.Login("Olga")
	ivan.Expect("SERVER", `User "Olga" connected`)

	code, metrics := get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, line := range []string{
		"pcx_users 3\n",
		"pcx_logins_total 3\n",
		`pcx_login_attempts_total{reason="ok"} 3` + "\n",
		`pcx_login_attempts_total{reason="taken"} 1` + "\n",
		"pcx_messages_received_total 1\n",
		"pcx_messages_delivered_total 1\n",
		"pcx_attachment_bytes_in_total 5\n",
		"pcx_attachment_bytes_out_total 5\n",
		`pcx_refusals_total{reason="malformed_record"} 1` + "\n",
		`pcx_connections{carrier="tcp"} 3` + "\n",
		`pcx_connections_accepted_total{carrier="tcp"} 3` + "\n",
		"pcx_spool_bytes ",
		"pcx_delivery_latency_seconds_count ",
	} {
		assert.Contains(t, metrics, line)
	}
	assert.NotContains(t, metrics, "Ivan", "no nicknames in the metrics")
	code, _ = get(t, base+"/debug/pprof/goroutine?debug=1")
	assert.Equal(t, http.StatusOK, code)

	cancel()
	require.Equal(t, 0, <-done)
}

func TestABusyAdminPortIsOneLineAndExitOne(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	var out strings.Builder
	code := run([]string{"--listen", "127.0.0.1:0", "--tls-listen", "", "--web-listen", "", "--admin-addr", busy.Addr().String()}, noEnv, io.Discard, &out)
	require.Equal(t, 1, code)
	require.Equal(t, 1, strings.Count(out.String(), "\n"), "output: %q", out.String())
	require.Contains(t, out.String(), "admin endpoints")
}
