package main

import (
	"bytes"
	"errors"
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
		{name: "defaults", args: []string{"Ivan"}, want: settings{Server: DefaultServer, Dir: ".", Nickname: "Ivan"}},
		{name: "environment", args: []string{"Ivan"}, env: "h:1", want: settings{Server: "h:1", Dir: ".", Nickname: "Ivan"}},
		{name: "flag wins over environment", args: []string{"--server", "f:2", "Ivan"}, env: "h:1", want: settings{Server: "f:2", Dir: ".", Nickname: "Ivan"}},
		{name: "download folder", args: []string{"--dir", "/tmp", "Ivan"}, want: settings{Server: DefaultServer, Dir: "/tmp", Nickname: "Ivan"}},
		{name: "single dash flags", args: []string{"-server", "f:2", "Ivan"}, want: settings{Server: "f:2", Dir: ".", Nickname: "Ivan"}},
		{name: "no nickname", args: nil, err: "a nickname is needed"},
		{name: "two nicknames", args: []string{"a", "b"}, err: "one nickname only"},
		{name: "flag after the nickname", args: []string{"Ivan", "--dir", "x"}, err: "one nickname only"},
		{name: "empty server", args: []string{"--server", "", "Ivan"}, err: "--server must not be empty"},
		{name: "unknown flag", args: []string{"--colour", "Ivan"}, err: "bad command line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSettings(tc.args, env(tc.env), io.Discard)
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

func TestHelpExitsZeroAndExplains(t *testing.T) {
	var out bytes.Buffer
	_, err := parseSettings([]string{"--help"}, func(string) string { return "" }, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, out.String(), "pcx-client [flags] NICKNAME")
	assert.Contains(t, out.String(), "-server")
	assert.Contains(t, out.String(), "-dir")
	assert.Equal(t, 0, run([]string{"--help"}, func(string) string { return "" }, io.Discard))
}

func TestDescribeNamesTheRootCause(t *testing.T) {
	s := settings{Server: "h:1"}
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: %w", client.ErrConnectionLost, fmt.Errorf("framing: header: %w", io.EOF)), "the connection to the server at h:1 is lost (EOF)"},
		{fmt.Errorf("%w at h:1: %w", client.ErrUnreachable, fmt.Errorf("tcp: dial: %w", syscall.ECONNREFUSED)), "cannot reach the server at h:1 (connection refused)"},
		{errors.New("client: cannot log in: taken"), "client: cannot log in: taken"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, describe(tc.err, s))
	}
}
