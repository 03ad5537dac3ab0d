package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runBinary runs the built client with stdin as its input and returns its
// exit code and what it printed.
func runBinary(t *testing.T, stdin io.Reader, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientBinary(t), args...)
	cmd.Stdin = stdin
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// freeAddr is a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestBinaryExitCodes(t *testing.T) {
	addr, _ := startServer(t)
	ivan := join(t, addr, "Ivan")
	unreachable := freeAddr(t)
	cases := []struct {
		name   string
		stdin  string
		env    []string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "help", args: []string{"--help"}, code: 0, stdout: "Usage:"},
		{name: "version", args: []string{"--version"}, code: 0, stdout: "pcx-client "},
		{name: "no nickname", args: []string{"--server", addr}, code: 2, stderr: "a nickname is needed"},
		{name: "two nicknames", args: []string{"--server", addr, "a", "b"}, code: 2, stderr: "one nickname only"},
		{name: "unknown flag", args: []string{"--colour", "Olga"}, code: 2, stderr: "flag provided but not defined"},
		{name: "missing download folder", args: []string{"--server", addr, "--dir", "/nonexistent/x", "Olga"}, code: 1, stderr: "download folder"},
		{
			name: "unreachable server", args: []string{"--server", unreachable, "Olga"}, code: 1,
			stderr: "pcx-client: cannot reach the server at " + unreachable + " (connection refused)\n",
		},
		{
			name: "server from the environment", env: []string{"PCX_SERVER=" + unreachable}, args: []string{"Olga"}, code: 1,
			stderr: "cannot reach the server at " + unreachable,
		},
		{
			name: "taken nickname", args: []string{"--server", addr, "IVAN"}, code: 1,
			stderr: "pcx-client: cannot log in: the server refused the nickname \"IVAN\": this nickname is already taken\n",
		},
		{name: "invalid nickname", args: []string{"--server", addr, `back\slash`}, code: 1, stderr: "cannot be used"},
		{name: "end of input", stdin: "hi there\n\n", args: []string{"--server", addr, "Olga"}, code: 0},
		{name: "quit", stdin: "\\q\nnever sent\n\n", args: []string{"--server", addr, "Olga"}, code: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, strings.NewReader(tc.stdin), tc.env, tc.args...)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr)
			assert.Contains(t, stdout, tc.stdout)
			assert.Contains(t, stderr, tc.stderr)
		})
	}
	ivan.stdout.waitFor(t, "Olga: hi there")
	assert.NotContains(t, ivan.stdout.String(), "never sent")
	require.NoError(t, ivan.leave(t))
}

func TestBinaryReportsALostServerInOneLine(t *testing.T) {
	addr, stop := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientBinary(t), "--server", addr, "Olga")
	stdin, err := cmd.StdinPipe() // kept open: the user is still there
	require.NoError(t, err)
	defer stdin.Close()
	stderr := newOutput()
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	require.NoError(t, cmd.Start())
	stderr.waitFor(t, "logged in as Olga")

	stop()
	err = cmd.Wait()

	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	lines := stderr.lines()
	assert.Equal(t, "pcx-client: the connection to the server at "+addr+" is lost (EOF)", lines[len(lines)-1])
}

func TestBinaryDropsAFileOverMaxFile(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientBinary(t), "--server", addr, "--dir", dir, "--max-file", "1KiB", "--min-free", "0", "Olga")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, stderr := newOutput(), newOutput()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	require.NoError(t, cmd.Start())
	stderr.waitFor(t, "logged in as Olga")
	ivan := join(t, addr, "Ivan")
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "big.bin"), randomBytes(t, 2<<10), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "small.bin"), randomBytes(t, 1<<10), 0o644))

	ivan.say(t, "too big", filepath.Join(src, "big.bin"))
	ivan.say(t, "just right", filepath.Join(src, "small.bin"))

	stdout.waitFor(t, `└ file "big.bin" not saved: localfs: the file is over the size limit: 2048 bytes, and at most 1024 are taken (--max-file)`)
	stdout.waitFor(t, `└ file "small.bin" saved as "small.bin"`)
	assert.Equal(t, []string{"small.bin"}, keys(folder(t, dir)))
	stdin.Close()
	require.NoError(t, cmd.Wait())
	require.NoError(t, ivan.leave(t))
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
