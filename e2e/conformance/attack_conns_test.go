package conformance_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// §5, issue 8 point 5: one address may hold --max-conns-per-ip
// connections (loopback is exempt by default, as a local proxy); one more
// is told so and closed, and those before it still log in.
func TestAttackConnectionsFromOneAddressAreLimited(t *testing.T) {
	singleNode(t, "the per-address connection limit is per server")
	t.Parallel()
	s := startServer(t, "--conn-limit-exempt", "")
	var first []*client
	for i := range 64 {
		first = append(first, eventuallyAdmitted(t, s, fmt.Sprint("u", i)))
	}
	over := s.dial()
	require.Equal(t, "too many connections from your address", over.expectCut())
	// The 64 are still served.
	barrier(first[0], first[63], "still here")
	// A connection that closes makes room for another.
	first[0].close()
	eventuallyAdmitted(t, s, "again")
	s.expectLog("refusing connections over a limit")
}

// Loopback is exempt from the per-address limit by default.
func TestConnectionsFromLoopbackAreExemptByDefault(t *testing.T) {
	singleNode(t, "the per-address connection limit is per server")
	t.Parallel()
	s := startServer(t, "--max-conns-per-ip", "2")
	for i := range 4 {
		s.join(fmt.Sprint("u", i))
	}
}

// §5: --max-conns bounds the connections of the whole server.
func TestAttackConnectionsOverTheServerLimitAreRefused(t *testing.T) {
	singleNode(t, "--max-conns bounds one server's connections")
	t.Parallel()
	s := startServer(t, "--max-conns", "5")
	var first []*client
	for i := range 5 {
		first = append(first, eventuallyAdmitted(t, s, fmt.Sprint("u", i)))
	}
	for range 3 {
		require.Equal(t, "too many connections on this server", s.dial().expectCut())
	}
	first[0].close()
	eventuallyAdmitted(t, s, "Olga")
	s.expectLog("refusing connections over a limit")
	log := s.log.String()
	// Three refusals or more within a second or two: one warning a
	// second at most.
	warnings := strings.Count(log, "refusing connections over a limit")
	require.True(t, warnings >= 1 && warnings <= 2, "%d warnings:\n%s", warnings, log)
}

// eventuallyAdmitted dials until a connection is let in (the server may
// not yet have seen an earlier one close, such as the one startServer
// probes the port with) and logs it in as nick.
func eventuallyAdmitted(t *testing.T, s *server, nick string) *client {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		c := s.dial()
		c.send(dict("nickname", nick))
		body := c.next()
		if string(body) == string(dict("status", "success")) {
			c.nick, c.loggedIn = nick, true
			return c
		}
		require.Contains(t, string(body), "too many connections")
		c.expectClosed()
		require.True(t, time.Now().Before(deadline), "no connection admitted after one closed")
		time.Sleep(20 * time.Millisecond)
	}
}
