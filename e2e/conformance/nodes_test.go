package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The two-node run (issue 13, PROTOCOL.md section 9): with
// PCX_CONFORMANCE_NATS=1 every test runs against two servers joined into
// one room through a nats-server embedded in the test process (its own per
// test, JetStream on, store in the test's directory), and the test's
// clients alternate between the two. Section 5 holds across servers but
// for one exception (two senders on different servers may be seen in
// different orders), so the same assertions must hold; a test that is
// about one process (its memory, its per-server limits) says so with
// singleNode and is skipped there. TestConformanceOverTwoNodes runs it as
// part of an ordinary `go test`.
const natsEnv = "PCX_CONFORMANCE_NATS"

// serverEnv hands the server binary the parent built to the two-node run,
// which then neither builds it again nor removes it.
const serverEnv = "PCX_CONFORMANCE_SERVER"

// twoNodes is set in the two-node run.
var twoNodes = os.Getenv(natsEnv) == "1"

// twoNodeParallel is how many tests the two-node run has going at once
// unless told: it runs beside the single-node run, with three processes
// per test on the same cores.
const twoNodeParallel = 4

// singleNode skips the test in the two-node run: it is about one server
// process, for the reason given.
func singleNode(t *testing.T, reason string) {
	t.Helper()
	if twoNodes {
		t.Skip("single node: " + reason)
	}
}

// roomName is a room name made of the test's name: letters, digits, '_'.
func roomName(t *testing.T) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_")
	return "c_" + name[:min(len(name), 40)]
}

// TestConformanceOverTwoNodes runs this suite again in a child process of
// the test binary in the two-node mode, beside the single-node run, and
// fails with every test that failed there. PCX_CONFORMANCE_NATS=1 go test
// -run NAME ./e2e/conformance/ runs chosen tests that way directly.
func TestConformanceOverTwoNodes(t *testing.T) {
	if twoNodes {
		t.Skip("this is the two-node run")
	}
	t.Parallel()
	bin, err := serverBin.Path()
	require.NoError(t, err)
	exe, err := os.Executable()
	require.NoError(t, err)
	timeout := 10 * time.Minute
	if d, ok := t.Deadline(); ok {
		timeout = time.Until(d) - 10*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"-test.timeout", (timeout - 5*time.Second).String(), "-test.count", "1",
		"-test.parallel", strconv.Itoa(twoNodeParallel)}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), natsEnv+"=1", serverEnv+"="+bin)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("two-node run: %v", time.Since(start).Round(time.Second))
	if testing.Verbose() {
		t.Logf("two-node run's output:\n%s", out)
	}
	if err == nil {
		return
	}
	failed := failedTests(out)
	for _, name := range failed {
		t.Errorf("over two nodes: %s failed", name)
	}
	t.Errorf("two-node run: %v; its output:\n%s", err, tail(string(out), 64<<10))
}

// failedTests lists the top-level tests a `go test` output says failed.
func failedTests(out []byte) []string {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "--- FAIL: "); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, name)
		}
	}
	return names
}
