package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTLSSettings(t *testing.T) {
	fp := "sha256:" + strings.Repeat("0a", 32)
	cases := []struct {
		name   string
		args   []string
		env    string
		server string
		tls    tlsSettings
		err    string
	}{
		{name: "plain by default", args: []string{"Ivan"}, server: DefaultServer},
		{name: "--tls moves the default to the TLS port", args: []string{"--tls", "Ivan"}, server: DefaultTLSServer, tls: tlsSettings{On: true}},
		{name: "--tls keeps a server given", args: []string{"--tls", "--server", "chat.example:443", "Ivan"}, server: "chat.example:443", tls: tlsSettings{On: true}},
		{name: "--tls keeps a server from the environment", args: []string{"--tls", "Ivan"}, env: "chat.example:9", server: "chat.example:9", tls: tlsSettings{On: true}},
		{name: "tls:// with a port", args: []string{"--server", "tls://chat.example:9", "Ivan"}, server: "chat.example:9", tls: tlsSettings{On: true}},
		{name: "tls:// without a port", args: []string{"--server", "tls://chat.example", "Ivan"}, server: "chat.example:23481", tls: tlsSettings{On: true}},
		{name: "tls:// IPv6 without a port", args: []string{"--server", "tls://[::1]", "Ivan"}, server: "[::1]:23481", tls: tlsSettings{On: true}},
		{name: "tls:// from the environment", args: []string{"Ivan"}, env: "tls://chat.example", server: "chat.example:23481", tls: tlsSettings{On: true}},
		{name: "a fingerprint implies TLS", args: []string{"--tls-fingerprint", strings.ToUpper(fp), "Ivan"}, server: DefaultTLSServer, tls: tlsSettings{On: true, Fingerprint: fp}},
		{name: "a bad fingerprint", args: []string{"--tls-fingerprint", "abc", "Ivan"}, err: "--tls-fingerprint"},
		{name: "--plain", args: []string{"--plain", "Ivan"}, server: DefaultServer, tls: tlsSettings{Plain: true}},
		{name: "--plain with TLS", args: []string{"--plain", "--server", "tls://h", "Ivan"}, err: "contradict"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSettings(tc.args, func(k string) string {
				if k == "PCX_SERVER" {
					return tc.env
				}
				return ""
			}, io.Discard, io.Discard)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.server, got.Server)
			assert.Equal(t, tc.tls, got.TLS)
		})
	}
}

func TestPlainWarning(t *testing.T) {
	cases := []struct {
		server string
		tls    tlsSettings
		warn   bool
	}{
		{server: "127.0.0.1:23480"},
		{server: "[::1]:23480"},
		{server: "localhost:23480"},
		{server: "192.0.2.7:23480", warn: true},
		{server: "chat.example:23480", warn: true},
		{server: "chat.example:23480", tls: tlsSettings{Plain: true}},
		{server: "chat.example:23481", tls: tlsSettings{On: true}},
	}
	for _, tc := range cases {
		got := plainWarning(settings{Server: tc.server, TLS: tc.tls})
		if !tc.warn {
			assert.Empty(t, got, tc.server)
			continue
		}
		assert.Contains(t, got, "not encrypted", tc.server)
		assert.Contains(t, got, tc.server)
		assert.NotContains(t, got, "\n", "one line")
	}
}
