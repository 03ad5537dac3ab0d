// Package transporttest holds the contract suite of the transport port
// (ports.Listener, ports.Dialer, ports.Conn): every adapter of the port runs
// it from its own tests, so that the application may rely on one behaviour
// whichever transport carries its frames.
//
// The suite assumes only what the port promises. In particular a write may
// block until the peer reads (as on net.Pipe), so every write the suite
// makes runs beside the read that consumes it.
package transporttest

import (
	"context"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/ports"
)

// patience bounds how long the suite waits for an operation that must end;
// it turns a hang into a failure, it is not a performance bound.
const patience = 10 * time.Second

// recordLimit is the max the suite passes to ReadRecord where the limit is
// not what is being tested.
const recordLimit = 1 << 20

// async runs f in a goroutine and returns the channel its result arrives on.
func async(f func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	return done
}

// await waits for the result of an async call and returns it.
func await(t *testing.T, done <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(patience):
		t.Fatalf("%s did not end within %v", what, patience)
		return nil
	}
}

// writeRecords writes bodies as records in one call, in the background.
func writeRecords(c ports.Conn, bodies ...string) <-chan error {
	frames := make([][]byte, len(bodies))
	for i, b := range bodies {
		frames[i] = []byte(b)
	}
	return async(func() error { return c.Writer().WriteFrames(frames) })
}

// readRecords reads n records and returns their bodies as strings.
func readRecords(t *testing.T, c ports.Conn, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	var buf []byte
	for range n {
		body, err := c.Reader().ReadRecord(buf, recordLimit)
		require.NoError(t, err)
		out = append(out, string(body))
		buf = body
	}
	return out
}

// readPayload reads one payload frame and returns its announced length and
// the hash of what its reader yielded.
func readPayload(c ports.Conn) (int64, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	n, body, err := c.Reader().ReadPayload()
	if err != nil {
		return 0, sum, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, body); err != nil {
		return n, sum, err
	}
	h.Sum(sum[:0])
	return n, sum, nil
}

// closeOnCleanup closes the given connections when the test ends.
func closeOnCleanup(t *testing.T, conns ...ports.Conn) {
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
}

// dial dials addr with the suite's patience.
func dial(t *testing.T, d ports.Dialer, addr string) ports.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := d.Dial(ctx, addr)
	require.NoError(t, err)
	return c
}
