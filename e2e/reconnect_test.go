package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/app/client"
)

// TestReconnectSurvivesAServerRestart stops the server under a client
// started with --reconnect, starts it again on the same address, and
// checks that the client reported the loss at once, logged in again under
// its nickname and sent the text it had read before the loss.
func TestReconnectSurvivesAServerRestart(t *testing.T) {
	addr, stop := startServer(t)
	ivan := startClientWith(t, client.Config{
		Server: addr, Nickname: "Ivan", Reconnect: true,
		RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
	}, t.TempDir())
	ivan.stderr.waitFor(t, "logged in as Ivan")

	stop()
	ivan.stderr.waitFor(t, "the connection to the server is lost")
	ivan.stderr.waitFor(t, "trying again in 50ms")
	// Typed while the server is away: the text, then (later) its file line.
	_, err := ivan.stdin.Write([]byte("typed while away\n"))
	require.NoError(t, err)
	ivan.stderr.waitFor(t, "trying again in 100ms") // the wait doubles

	_, stop2 := startServerAt(t, addr)
	defer stop2()
	ivan.stderr.waitCount(t, "logged in as Ivan", 2)
	olga := join(t, addr, "Olga")
	ivan.stdout.waitFor(t, `SERVER: User "Olga" connected`)
	_, err = ivan.stdin.Write([]byte("\n")) // no file
	require.NoError(t, err)
	olga.stdout.waitFor(t, "Ivan: typed while away")
	ivan.say(t, "and after", "")
	olga.stdout.waitFor(t, "Ivan: and after")

	require.NoError(t, ivan.leave(t))
	require.NoError(t, olga.leave(t))
}
