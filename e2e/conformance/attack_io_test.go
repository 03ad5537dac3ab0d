package conformance_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Attacks on the server's reading and writing (issue 8, points 2 to 4):
// a flooder, a sender that stalls inside an upload, a receiver that reads
// slowly but steadily.

// floodSeconds is how long TestFlooderIsSlowedAndPushesNobodyOff floods:
// 5 s, or PCX_FLOOD_SECONDS for a measurement by hand.
func floodSeconds(t *testing.T) time.Duration {
	if v := os.Getenv("PCX_FLOOD_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "PCX_FLOOD_SECONDS")
		return time.Duration(n) * time.Second
	}
	return 5 * time.Second
}

// §5: one connection sending empty texts as fast as it can is read more
// slowly (--rate-limit, default 50/s with a burst of 200): it is not
// disconnected, and no receiver is cut off as a slow consumer; a normal
// sender's messages reach every receiver, all of them and in order.
func TestFlooderIsSlowedAndPushesNobodyOff(t *testing.T) {
	t.Parallel()
	const rate, burst = 50, 200
	s := startServer(t) // the defaults
	cs := s.room("Ivan", "Olga", "Petr", "Anna")
	ivan, receivers := cs[0], cs[1:]
	flooder := s.join("Flood")
	for _, c := range cs {
		c.expectNotice(`User "Flood" connected`)
	}

	// The flooder reads what comes to it, so that it is no slow consumer
	// itself. It stays connected to the end: whatever whole records the
	// kernel holds for the server when it stops are relayed still, at the
	// rate limit, as they must be even if it left.
	flooder.deaf = true
	flooderRead := make(chan error, 1)
	go func() {
		for {
			if _, err := flooder.read(time.Hour); err != nil {
				flooderRead <- err
				return
			}
		}
	}()

	type result struct {
		nick      string
		floods    int
		latencies []time.Duration
		err       error
	}
	results := make(chan result, len(receivers))
	for _, r := range receivers {
		go func() {
			res := result{nick: r.nick}
			res.floods, res.latencies, res.err = readFloodAndIvan(r)
			results <- res
		}()
	}

	flood := floodSeconds(t)
	start := time.Now()
	stopFlood := make(chan struct{})
	flooded := make(chan int64, 1)
	go func() { flooded <- floodUntil(flooder, stopFlood) }()
	sent := 0
	for tick := time.NewTicker(40 * time.Millisecond); time.Since(start) < flood; <-tick.C {
		ivan.say(fmt.Sprintf("n %d %d", sent, time.Now().UnixNano()))
		sent++
	}
	close(stopFlood)
	bytesFlooded := <-flooded
	select {
	case err := <-flooderRead:
		t.Fatalf("the flooder was disconnected while it flooded: %v", err)
	default:
	}
	ivan.say("end " + strconv.Itoa(sent))
	elapsed := time.Since(start)

	var all []time.Duration
	for range receivers {
		res := <-results
		require.NoError(t, res.err, "%s was pushed off or lost messages", res.nick)
		require.Len(t, res.latencies, sent, "%s: every message of Ivan", res.nick)
		require.Positive(t, res.floods, "%s: the flood is relayed, slowly", res.nick)
		require.LessOrEqual(t, res.floods, burst+rate*int(elapsed.Seconds()+2),
			"%s: the flooder is read at most --rate-limit records a second after the burst", res.nick)
		all = append(all, res.latencies...)
		t.Logf("%s: %d flood records relayed in %v", res.nick, res.floods, elapsed.Round(time.Millisecond))
	}
	slices.Sort(all)
	t.Logf("flood of %v (%d MiB written by the flooder): Ivan's %d messages at %d receivers, latency p50 %v, p99 %v, max %v",
		flood, bytesFlooded>>20, sent, len(receivers), all[len(all)/2], all[len(all)*99/100], all[len(all)-1])
	s.expectLog("rate limit reached") // the throttling is logged
}

// floodUntil writes empty texts as fast as the connection takes them
// until stop is closed, and returns the bytes written.
func floodUntil(c *client, stop <-chan struct{}) int64 {
	batch := bytes.Repeat(frame(dict("text", "")), 4096)
	var written int64
	for {
		select {
		case <-stop:
			return written
		default:
		}
		c.conn.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		n, _ := c.conn.Write(batch) // a timeout only means TCP pushed back
		written += int64(n)
	}
}

// readFloodAndIvan reads until Ivan's "end": it counts the flood's empty
// texts, checks Ivan's numbered messages arrive all and in order, and
// measures how long each took.
func readFloodAndIvan(r *client) (floods int, latencies []time.Duration, err error) {
	for {
		m, _, err := r.recv()
		if err != nil {
			return floods, latencies, err
		}
		switch {
		case m.nickname == "Flood" && m.text == "":
			floods++
		case m.nickname == "Ivan" && strings.HasPrefix(m.text, "end "):
			return floods, latencies, nil
		case m.nickname == "Ivan":
			var seq int
			var sentAt int64
			if _, err := fmt.Sscanf(m.text, "n %d %d", &seq, &sentAt); err != nil || seq != len(latencies) {
				return floods, latencies, fmt.Errorf("%s: want Ivan's message %d, got %q", r.nick, len(latencies), m.raw)
			}
			latencies = append(latencies, time.Since(time.Unix(0, sentAt)))
		default:
			return floods, latencies, fmt.Errorf("%s: unexpected %q", r.nick, m.raw)
		}
	}
}

// §5: an upload's declared size takes no spool room: a sender that sent a
// record and a payload header claiming 100 MiB, then nothing, does not
// keep another user's 1 MiB attachment out; it is disconnected after
// --read-timeout, and its partial payload is never relayed.
func TestStalledUploadHoldsNoSpoolAndIsCutOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--max-spool", "100MiB", "--read-timeout", "2s")
	cs := s.room("Olga", "Petr")
	olga, petr := cs[0], cs[1]
	staller := s.join("Stall")
	staller.deaf = true
	olga.expectNotice(`User "Stall" connected`)
	petr.expectNotice(`User "Stall" connected`)

	staller.write(append(frame(dict("text", "hold", "attachment", "hold.bin")), header(100<<20)...))
	staller.write(bytes.Repeat([]byte("h"), 256<<10))
	stalledAt := time.Now()

	small := payloadFor("Olga", 1, 1<<20)
	olga.sendFile("small", "small.bin", small)
	petr.expectFile("Olga", "small", "small.bin", small)

	petr.expectNotice(`User "Stall" disconnected`)
	cutAfter := time.Since(stalledAt)
	olga.expectNotice(`User "Stall" disconnected`)
	t.Logf("the staller was cut off %v after it stopped sending", cutAfter.Round(time.Millisecond))
	assert.Greater(t, cutAfter, time.Second, "not before --read-timeout")
	assert.Less(t, cutAfter, 4*time.Second, "about --read-timeout (in the two-node run heard over the bus)")
	barrier(petr, olga, "nothing of the stalled upload")
	barrier(olga, petr, "nor here")
	staller.close()
	s.expectSpoolEmpty()
	s.expectLog("stopped sending in the middle of a frame")
}

// §5: a connection that stops in the middle of a frame, wherever in it, is
// disconnected after --read-timeout; one that is idle between messages
// for longer is not.
func TestStopInTheMiddleOfAFrameIsCutOffButIdleIsNot(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--read-timeout", "1s")
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	time.Sleep(1500 * time.Millisecond)
	barrier(ivan, olga, "idle for longer than the read timeout is fine")

	for _, tc := range []struct {
		name string
		sent []byte
	}{
		{"in a header", []byte{0, 0}},
		{"in a record", append(header(100), `{"text":"`...)},
		{"between a record and its payload", frame(dict("text", "f", "attachment", "f.bin"))},
		{"in a small payload", append(append(frame(dict("text", "f", "attachment", "f.bin")), header(1000)...), 'x')},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ivan.t, olga.t = t, t
			staller := s.join("Stall")
			ivan.expectNotice(`User "Stall" connected`)
			olga.expectNotice(`User "Stall" connected`)
			// Taken before the write: the cut comes a read timeout after
			// the bytes arrive, which is after this, however late the
			// write runs on a loaded machine.
			stalledAt := time.Now()
			staller.write(tc.sent)
			if tc.name == "between a record and its payload" {
				// Not in a frame: waiting for the payload's header is
				// waiting for the next frame, which is never bounded.
				time.Sleep(2 * time.Second)
				stalledAt = time.Now()
				staller.write(header(1))
			}
			// Timed on the staller's own connection: in the two-node
			// run the others hear of it over the bus, a moment later.
			staller.expectCut()
			cutAfter := time.Since(stalledAt)
			olga.expectNotice(`User "Stall" disconnected`)
			ivan.expectNotice(`User "Stall" disconnected`)
			assert.Greater(t, cutAfter, 700*time.Millisecond)
			assert.Less(t, cutAfter, 1900*time.Millisecond, "about --read-timeout")
			staller.close()
			barrier(ivan, olga, "nothing of "+tc.name)
		})
	}
	ivan.t, olga.t = t, t
}

// slowReadSeconds is how long TestSlowSteadyReaderIsKept reads slowly.
const slowReadSeconds = 12

// §5: a receiver that takes 2 KiB/s of a 16 MiB file under
// --write-timeout 5s is kept for as long as it keeps reading, through
// several timeouts' worth of slow progress (a small receive buffer keeps
// the kernel from absorbing the file); once it stops reading it is cut
// off about one write timeout later.
func TestSlowSteadyReaderIsKept(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--write-timeout", "5s")
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	slow := dialSmallBuffer(t, s, 4<<10)
	slow.login("Slow")
	ivan.expectNotice(`User "Slow" connected`)
	olga.expectNotice(`User "Slow" connected`)

	big := payloadFor("Ivan", 1, 16<<20)
	ivan.sendFile("big", "big.bin", big)
	olga.expectFile("Ivan", "big", "big.bin", big)

	var taken atomic.Int64
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() { readErr <- readSlowly(slow, 2<<10, &taken, stop) }()

	var marks []int64
	for range slowReadSeconds {
		time.Sleep(time.Second)
		marks = append(marks, taken.Load())
	}
	select {
	case err := <-readErr:
		t.Fatalf("the slow reader was cut off after %d bytes: %v", taken.Load(), err)
	default:
	}
	n := len(marks)
	t.Logf("the slow reader took %d bytes in %d s; per second: %v", marks[n-1], n, marks)
	require.Greater(t, marks[n-1], marks[n-5], "still taking bytes in the last 4 s")
	require.Greater(t, marks[n-1], int64(slowReadSeconds*2<<10/2), "read about 2 KiB/s")
	_, err := olga.read(100 * time.Millisecond)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "nobody has seen the slow reader leave")

	close(stop)
	require.NoError(t, <-readErr)
	stoppedAt := time.Now()
	olga.expectNotice(`User "Slow" disconnected`)
	cutAfter := time.Since(stoppedAt)
	// Counted from the last byte its kernel took, which may be a window's
	// worth of reading before the reader itself stopped.
	t.Logf("cut off %v after it stopped reading", cutAfter.Round(time.Millisecond))
	assert.Less(t, cutAfter, 5*time.Second+wait/2)
	ivan.expectNotice(`User "Slow" disconnected`)
	slow.close()
	s.expectSpoolEmpty()
}

// dialSmallBuffer connects with a receive buffer of rcvbuf bytes, set
// before the handshake so that the window stays small.
func dialSmallBuffer(t *testing.T, s *server, rcvbuf int) *client {
	t.Helper()
	d := net.Dialer{Timeout: wait, Control: func(_, _ string, rc syscall.RawConn) error {
		var sockErr error
		err := rc.Control(func(fd uintptr) {
			sockErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		})
		return errors.Join(err, sockErr)
	}}
	conn, err := d.Dial("tcp", s.nextAddr())
	require.NoError(t, err)
	c := &client{t: t, srv: s, conn: conn}
	s.clients = append(s.clients, c)
	return c
}

// readSlowly reads c at about perSecond bytes a second, in eight steps a
// second, counting into taken, until stop is closed.
func readSlowly(c *client, perSecond int, taken *atomic.Int64, stop <-chan struct{}) error {
	buf := make([]byte, perSecond/8)
	tick := time.NewTicker(125 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		c.conn.SetReadDeadline(time.Now().Add(wait))
		n, err := c.conn.Read(buf)
		taken.Add(int64(n))
		if err != nil {
			return err
		}
	}
}

// §5: refused records count towards the rate limit, login attempts
// included: a burst of bad logins is answered at the limit's pace, not at
// once, and nothing of it is dropped.
func TestRefusedLoginsCountTowardsTheRateLimit(t *testing.T) {
	t.Parallel()
	const attempts, rate, burst = 60, 100, 10
	s := startServer(t, "--rate-limit", strconv.Itoa(rate), "--rate-burst", strconv.Itoa(burst))
	c := s.dial()
	start := time.Now()
	c.send(slices.Repeat([][]byte{dict("nickname", "two words")}, attempts)...)
	for range attempts {
		c.expectLoginError()
	}
	took := time.Since(start)
	t.Logf("%d refused logins answered in %v", attempts, took.Round(time.Millisecond))
	// A token bucket cannot give more than burst + rate × elapsed.
	require.GreaterOrEqual(t, took, time.Duration(attempts-burst)*time.Second/rate*9/10)
	c.login("Ivan")
}

// A reader waiting for its turn under the rate limit does not hold up a
// shutdown: the server still says goodbye and exits well within the grace.
func TestShutdownDoesNotWaitOutTheRateLimit(t *testing.T) {
	t.Parallel()
	// Ivan's burst of 2 is his login and "one".
	s := startServer(t, "--rate-limit", "0.1", "--rate-burst", "2", "--shutdown-grace", "8s")
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	ivan.say("one")
	olga.expectText("Ivan", "one")
	ivan.say("two, ten seconds later") // waits for its turn
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	s.stop()
	require.Less(t, time.Since(start), 4*time.Second, "the paced reader let the shutdown go at once")
}

// §5: the spool is bounded by default, and the operator is told the bound
// chosen at start.
func TestSpoolIsBoundedByDefault(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.join("Ivan") // the server is up and has logged its start
	s.expectLog(`msg="attachment spool"`)
	log := s.log.String()
	require.Contains(t, log, `msg="attachment spool"`)
	require.Contains(t, log, "auto=true")
	require.NotContains(t, log, "max_spool=0 ", "not unbounded")
}

// §5: an attachment whose bytes, as they arrive, would take the spool past
// --max-spool is refused (its rest read and dropped) and gives back what
// it took; the sender stays, and the upload that was there first still
// completes.
func TestAttachmentArrivingPastTheSpoolLimitIsRefused(t *testing.T) {
	t.Parallel()
	singleNode(t, "the spool limit is each server's: an upload to the other node, whose spool is empty, is not refused")
	s := startServer(t, "--max-spool", "3MiB", "--read-timeout", "20s")
	cs := s.room("Ivan", "Olga", "Petr")
	ivan, olga, petr := cs[0], cs[1], cs[2]

	first := payloadFor("Ivan", 1, 2<<20+512<<10)
	ivan.write(append(frame(dict("text", "first", "attachment", "first.bin")), header(uint32(len(first)))...))
	ivan.write(first[:2<<20]) // holds 2 MiB of the 3 and waits
	s.waitForSpoolFile(2 << 20)

	second := payloadFor("Olga", 1, 2<<20)
	olga.sendFile("second", "second.bin", second)
	t.Logf("error: %s", olga.expectError())
	barrier(olga, petr, "still here")
	ivan.expectText("Olga", "still here")

	ivan.write(first[2<<20:])
	petr.expectFile("Ivan", "first", "first.bin", first)
	olga.expectFile("Ivan", "first", "first.bin", first)
	s.expectSpoolEmpty()
}

// waitForSpoolFile waits until a file in the spool holds at least size
// bytes.
func (s *server) waitForSpoolFile(size int64) {
	s.t.Helper()
	require.Eventually(s.t, func() bool {
		all, err := readDirAll(s.spoolDir)
		if err != nil {
			return false
		}
		for _, p := range all {
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Size() >= size {
				return true
			}
		}
		return false
	}, wait, 10*time.Millisecond, "a spool file of %d bytes", size)
}
