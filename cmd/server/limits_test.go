package main

import (
	"io"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLimitFlags(t *testing.T) {
	cases := map[string]struct {
		args       []string
		env        map[string]string
		wantExempt []netip.Prefix
		wantConns  int
		wantMemory int64
	}{
		"defaults": {
			wantExempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
			wantConns:  20000, wantMemory: 512 << 20,
		},
		"empty exempts nobody": {args: []string{"--conn-limit-exempt", ""}, wantExempt: []netip.Prefix{}, wantConns: 20000, wantMemory: 512 << 20},
		"none exempts nobody":  {env: map[string]string{"PCX_CONN_LIMIT_EXEMPT": "none"}, wantExempt: []netip.Prefix{}, wantConns: 20000, wantMemory: 512 << 20},
		"addresses and prefixes": {
			args:       []string{"--conn-limit-exempt", "10.1.2.3, 192.168.7.9/16", "--max-conns", "5", "--max-memory", "1GiB"},
			wantExempt: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32"), netip.MustParsePrefix("192.168.0.0/16")},
			wantConns:  5, wantMemory: 1 << 30,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := parseSettings(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			require.NoError(t, err)
			cfg := serverConfig(s)
			require.NotNil(t, cfg.ConnLimitExempt)
			require.Equal(t, tc.wantExempt, cfg.ConnLimitExempt)
			require.Equal(t, tc.wantConns, cfg.MaxConns)
			require.Equal(t, tc.wantMemory, cfg.MaxMemory)
			require.Equal(t, 64, cfg.MaxConnsPerIP)
			require.EqualValues(t, 2<<30, cfg.MaxBacklog)
		})
	}
	for _, bad := range [][]string{{"--conn-limit-exempt", "localhost"}, {"--max-conns", "0"}, {"--max-conns-per-ip", "x"}} {
		_, err := parseSettings(bad, noEnv, io.Discard)
		require.Error(t, err, "%q", bad)
	}
}
