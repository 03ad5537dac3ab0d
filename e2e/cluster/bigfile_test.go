package cluster_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/domain"
	"pcx/internal/testpeer"
	"pcx/ports/filesharetest"
)

// TestBigFileAcrossNodes measures one large file from a client of one node
// to a client of another, through real servers and an embedded NATS: the
// time from the first byte sent to the last byte received, and the peak
// memory of each server. It runs only when asked for, with the size:
//
//	PCX_CLUSTER_FILE_MIB=1024 go test -run BigFileAcrossNodes -v ./e2e/cluster/
func TestBigFileAcrossNodes(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("PCX_CLUSTER_FILE_MIB"))
	if mib <= 0 {
		t.Skip("set PCX_CLUSTER_FILE_MIB to run")
	}
	size := int64(mib) << 20
	_, nodes := startRoom(t, 2, "--max-attachment", strconv.FormatInt(size, 10), "--max-spool", strconv.FormatInt(2*size, 10))
	sender := nodes[0].login("sender")
	receiver := nodes[1].login("receiver")
	whoEventually(t, sender, "sender", "receiver")

	block := filesharetest.Payload(1<<20, 7)
	start := time.Now()
	sent := make(chan time.Duration, 1)
	go func() {
		if err := sender.Conn.Writer().WriteFrames([][]byte{testpeer.Encode("text", "big", "attachment", "big.bin")}); err != nil {
			t.Error(err)
		}
		if err := sender.Conn.Writer().WritePayload(size, io.LimitReader(&repeat{block: block}, size)); err != nil {
			t.Error(err)
		}
		sent <- time.Since(start)
	}()
	// The record comes once the file is whole on the receiver's node: a
	// wait longer than the peer's own.
	require.NoError(t, receiver.Conn.Reader().SetReadDeadline(time.Now().Add(10*time.Minute)))
	for {
		body, err := receiver.Conn.Reader().ReadRecord(nil, domain.HardMaxRecord)
		require.NoError(t, err)
		if bytes.Contains(body, []byte(`"nickname":"sender","text":"big"`)) {
			break
		}
	}
	whole := time.Since(start) // the record comes once the file is whole on n1
	n, r, err := receiver.Conn.Reader().ReadPayload()
	require.NoError(t, err)
	require.Equal(t, size, n)
	// Compared with what was sent as it comes, a block at a time: cheaper
	// than a hash, which would take CPU from the servers.
	got, err := io.Copy(&compare{t: t, want: &repeat{block: block}}, r)
	require.NoError(t, err)
	total := time.Since(start)
	require.Equal(t, size, got)
	up := <-sent
	t.Logf("%d MiB from a client of n0 to a client of n1: uploaded in %v, whole on n1 after %v, received whole after %v: %.0f MB/s end to end",
		mib, up.Round(time.Millisecond), whole.Round(time.Millisecond), total.Round(time.Millisecond), float64(size)/total.Seconds()/1e6)
	for _, n := range nodes {
		t.Logf("node %s: peak resident memory %s", n.name, peakRSS(n.cmd.Process.Pid))
	}
}

// compare checks what is written against what want reads.
type compare struct {
	t    *testing.T
	want io.Reader
	buf  []byte
	at   int64
}

func (c *compare) Write(p []byte) (int, error) {
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	exp := c.buf[:len(p)]
	_, _ = io.ReadFull(c.want, exp)
	if !bytes.Equal(exp, p) {
		return 0, fmt.Errorf("the payload differs in the %d bytes at %d", len(p), c.at)
	}
	c.at += int64(len(p))
	return len(p), nil
}

// repeat reads its block over and over.
type repeat struct {
	block []byte
	at    int // where in block the next read starts
}

func (r *repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.block[r.at:])
		n += c
		r.at = (r.at + c) % len(r.block)
	}
	return n, nil
}

// peakRSS is a process's VmHWM from /proc (Linux), or "unknown".
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}
