package server

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPeerAddr(t *testing.T) {
	cases := map[string]string{
		"192.0.2.7:4000":         "192.0.2.7",
		"[2001:db8::1]:4000":     "2001:db8::1",
		"[::ffff:192.0.2.7]:400": "192.0.2.7", // an IPv4 peer on a dual-stack socket
		"192.0.2.8":              "192.0.2.8",
	}
	for remote, want := range cases {
		require.Equal(t, netip.MustParseAddr(want), peerAddr(remote), remote)
	}
	require.False(t, peerAddr("pipe-3").IsValid(), "the in-memory transport names no address")
}

func TestConnLimits(t *testing.T) {
	cfg := Config{MaxConns: 4, MaxConnsPerIP: 2, ConnLimitExempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}.Defaults()
	l := connLimits{perIP: map[netip.Addr]int{}, exempt: cfg.ConnLimitExempt}
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	proxy := netip.MustParseAddr("10.1.1.1")

	require.Zero(t, l.admit(a, &cfg))
	require.Zero(t, l.admit(a, &cfg))
	require.Equal(t, refusedFromAddress, l.admit(a, &cfg), "a third from one address")
	require.Zero(t, l.admit(proxy, &cfg))
	require.Zero(t, l.admit(proxy, &cfg), "an exempt address passes the per-address limit")
	require.Equal(t, refusedOnServer, l.admit(b, &cfg), "a fifth on the server")
	require.Equal(t, refusedOnServer, l.admit(netip.Addr{}, &cfg), "no address: only the server limit")

	l.release(a)
	require.Zero(t, l.admit(b, &cfg), "a closed connection makes room")
	l.release(a)
	l.release(b)
	l.release(proxy)
	l.release(proxy)
	require.Zero(t, l.total)
	require.Empty(t, l.perIP, "no address left counted")
}

func TestWarnEveryLogsOncePerIntervalWithCounts(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	w := warnEvery{interval: time.Hour}
	for range 5 {
		w.note(log, "limit bites")
	}
	require.Equal(t, 1, strings.Count(out.String(), "limit bites"))
	w.last = time.Now().Add(-2 * time.Hour)
	w.note(log, "limit bites")
	require.Contains(t, out.String(), "times=5", "the four held back and this one")
}
