package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/app/client"
)

func TestParseSettings(t *testing.T) {
	env := func(server string) func(string) string {
		return func(k string) string {
			if k == "PCX_SERVER" {
				return server
			}
			return ""
		}
	}
	cases := []struct {
		name string
		args []string
		env  string
		want settings
		err  string
	}{
		{name: "defaults", args: []string{"Ivan"}, want: settings{Server: DefaultServer, Dir: ".", Nickname: "Ivan", MaxFile: 1 << 30, MinFree: 1 << 30}},
		{name: "environment", args: []string{"Ivan"}, env: "h:1", want: settings{Server: "h:1", Dir: ".", Nickname: "Ivan", MaxFile: 1 << 30, MinFree: 1 << 30}},
		{name: "flag wins over environment", args: []string{"--server", "f:2", "Ivan"}, env: "h:1", want: settings{Server: "f:2", Dir: ".", Nickname: "Ivan", MaxFile: 1 << 30, MinFree: 1 << 30}},
		{name: "download folder", args: []string{"--dir", "/tmp", "Ivan"}, want: settings{Server: DefaultServer, Dir: "/tmp", Nickname: "Ivan", MaxFile: 1 << 30, MinFree: 1 << 30}},
		{name: "single dash flags", args: []string{"-server", "f:2", "Ivan"}, want: settings{Server: "f:2", Dir: ".", Nickname: "Ivan", MaxFile: 1 << 30, MinFree: 1 << 30}},
		{name: "limits and switches", args: []string{"--max-file", "10MiB", "--min-free", "0", "--json", "--reconnect", "--seconds", "--no-bell", "Bot"},
			want: settings{Server: DefaultServer, Dir: ".", Nickname: "Bot", MaxFile: 10 << 20, JSON: true, Reconnect: true, Seconds: true, NoBell: true}},
		{name: "bad size", args: []string{"--max-file", "lots", "Ivan"}, err: "bad command line"},
		{name: "no nickname", args: nil, err: "a nickname is needed"},
		{name: "two nicknames", args: []string{"a", "b"}, err: "one nickname only"},
		{name: "flag after the nickname", args: []string{"Ivan", "--dir", "x"}, err: "one nickname only"},
		{name: "empty server", args: []string{"--server", "", "Ivan"}, err: "--server must not be empty"},
		{name: "unknown flag", args: []string{"--colour", "Ivan"}, err: "bad command line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSettings(tc.args, env(tc.env), io.Discard, io.Discard)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestHelpGoesToStandardOutputAndExitsZero(t *testing.T) {
	var out, errOut bytes.Buffer
	_, err := parseSettings([]string{"--help"}, func(string) string { return "" }, &out, &errOut)
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, want := range []string{"pcx-client [flags] NICKNAME", "-server", "-dir", "-max-file", "-min-free", "-json", "-reconnect", "-seconds", "-no-bell", "-version"} {
		assert.Contains(t, out.String(), want)
	}
	assert.Empty(t, errOut.String())
	out.Reset()
	assert.Equal(t, 0, run([]string{"--help"}, func(string) string { return "" }, &out, &errOut))
	assert.Contains(t, out.String(), "Usage:")
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, 0, run([]string{"--version"}, func(string) string { return "" }, &out, io.Discard))
	assert.Regexp(t, `^pcx-client \S+\n$`, out.String())
}

func TestSizesComeFromTheEnvironment(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"PCX_MAX_FILE": "5MiB", "PCX_MIN_FREE": "2GiB"}[k]
	}
	s, err := parseSettings([]string{"Ivan"}, env, io.Discard, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, byteSize(5<<20), s.MaxFile)
	assert.Equal(t, byteSize(2<<30), s.MinFree)
	s, err = parseSettings([]string{"--max-file", "1KiB", "Ivan"}, env, io.Discard, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, byteSize(1<<10), s.MaxFile, "the flag wins")
}

func TestDescribeNamesTheRootCause(t *testing.T) {
	s := settings{Server: "h:1"}
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: %w", client.ErrConnectionLost, fmt.Errorf("framing: header: %w", io.EOF)), "the connection to the server at h:1 is lost (EOF)"},
		{fmt.Errorf("%w at h:1: %w", client.ErrUnreachable, fmt.Errorf("tcp: dial: %w", syscall.ECONNREFUSED)), "cannot reach the server at h:1 (connection refused)"},
		{fmt.Errorf("%w: the server refused the nickname \"Ivan\": taken", client.ErrNicknameRefused), `cannot log in: the server refused the nickname "Ivan": taken`},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, describe(tc.err, s))
	}
}
