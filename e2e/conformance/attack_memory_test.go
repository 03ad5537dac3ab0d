package conformance_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// dialDeaf opens a connection whose receive buffer is 4 KiB, logs it in
// as nick, and never reads from it again: the receiver of the memory
// amplification attack (issue 8, point 1).
func (s *server) dialDeaf(t *testing.T, nick string) *client {
	t.Helper()
	d := net.Dialer{Timeout: wait, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", s.nextAddr())
	require.NoError(t, err)
	c := &client{t: t, srv: s, conn: conn}
	s.clients = append(s.clients, c)
	c.login(nick)
	c.deaf = true
	return c
}

// floodText is the i-th text of a flood: its number every hundredth,
// else pad (empty: the cheapest record there is).
func floodText(i int, pad string) string {
	if i%100 == 0 {
		return strconv.Itoa(i)
	}
	return pad
}

// flood sends texts from c in batches of 100 records for about d (a
// server that paces the sender makes each batch take longer), then the
// marker "end", and reports how many texts came before the marker. It
// runs in its own goroutine, so it reports errors instead of failing the
// test. It never gets more than ahead texts ahead of read(), the reader's
// count: the attack is on the deaf receivers, not on the reader.
func flood(c *client, d time.Duration, pad string, ahead int, read func() int) (int, error) {
	var sent int
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for sent-read() > ahead {
			if time.Now().After(deadline.Add(wait)) {
				return sent, fmt.Errorf("the reader is stuck at %d of %d texts", read(), sent)
			}
			time.Sleep(time.Millisecond)
		}
		var batch []byte
		for range 100 {
			batch = append(batch, frame(dict("text", floodText(sent, pad)))...)
			sent++
		}
		if err := writeAll(c.conn, batch); err != nil {
			return sent, err
		}
	}
	return sent, writeAll(c.conn, frame(dict("text", "end")))
}

func writeAll(conn net.Conn, b []byte) error {
	if err := conn.SetWriteDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	_, err := conn.Write(b)
	return err
}

// readFlood reads what flood sent up to its marker, requiring every text
// in order, counting them in read; leave notices may come between. It
// returns the texts read and the nicknames seen leaving.
func readFlood(c *client, from string, pad string, read *atomic.Int64) (int, []string) {
	c.t.Helper()
	var left []string
	for i := 0; ; {
		m := c.nextMessage()
		if m.nickname == "SERVER" {
			nick, ok := strings.CutPrefix(m.text, `User "`)
			require.True(c.t, ok, "unexpected notice %q", m.text)
			left = append(left, strings.TrimSuffix(nick, `" disconnected`))
			continue
		}
		require.Equal(c.t, from, m.nickname)
		if m.text == "end" {
			return i, left
		}
		require.Equal(c.t, floodText(i, pad), m.text, "text %d", i)
		i++
		read.Store(int64(i))
	}
}

// attack floods from sender for d while reader reads, and requires the
// reader to get every text in order. It returns the texts sent and who
// was seen leaving.
func attack(t *testing.T, sender, reader *client, d time.Duration, pad string, ahead int) (int, []string) {
	t.Helper()
	var read atomic.Int64
	type result struct {
		sent int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		n, err := flood(sender, d, pad, ahead, func() int { return int(read.Load()) })
		done <- result{n, err}
	}()
	got, left := readFlood(reader, sender.nick, pad, &read)
	r := <-done
	require.NoError(t, r.err)
	require.Equal(t, r.sent, got, "texts read before the marker")
	return r.sent, left
}

// §5, issue 8 point 1: receivers that never read and one sender of empty
// texts must not make the server's memory grow as receivers × messages
// (it grew to 1.98 GB with 200 receivers); a reader that keeps up gets
// every message in order.
func TestAttackDeafReceiversDoNotAmplifyMemory(t *testing.T) {
	singleNode(t, "it measures one process's peak memory")
	if testing.Short() {
		t.Skip("an attack of a few seconds")
	}
	// Without the rate limit: many senders, each under the limit, can
	// send as much as one unlimited sender, and the bound must hold even so.
	s := startServer(t, "--log-level", "info", "--rate-limit", "0")
	reader := s.join("reader")
	sender := s.join("sender")
	reader.expectNotice(`User "sender" connected`)
	const deaf = 200
	for i := range deaf {
		s.dialDeaf(t, fmt.Sprint("deaf", i))
	}
	for i := range deaf {
		reader.expectNotice(fmt.Sprintf(`User "deaf%d" connected`, i))
	}
	barrier(sender, reader, "go")
	before := s.vmHWM(t)

	sent, left := attack(t, sender, reader, 5*time.Second, "", 20000)
	peak := s.vmHWM(t)
	t.Logf("%d texts to %d deaf receivers: peak RSS %d MiB (before the flood %d MiB); %d deaf receivers cut off (race detector: %v)",
		sent, deaf, peak>>20, before>>20, len(left), raceEnabled)
	for _, nick := range left {
		require.True(t, strings.HasPrefix(nick, "deaf"), "%s was cut off", nick)
	}
	// Before the shared log, 2.4 MiB of empty texts took it to 1.98 GB.
	limit := int64(100 << 20)
	if raceEnabled {
		limit *= 3
	}
	require.Less(t, peak, limit, "peak RSS %d MiB", peak>>20)
}

// §5: a receiver that stops reading is cut off as a slow consumer once it
// is --max-queue behind, while a reader gets every message in order and
// is told who left.
func TestAttackDeafReceiversAreCutOffAsSlowConsumers(t *testing.T) {
	s := startServer(t, "--max-queue", "256KiB", "--rate-limit", "0")
	reader := s.join("reader")
	sender := s.join("sender")
	reader.expectNotice(`User "sender" connected`)
	const deaf = 20
	for i := range deaf {
		s.dialDeaf(t, fmt.Sprint("deaf", i))
	}
	for i := range deaf {
		reader.expectNotice(fmt.Sprintf(`User "deaf%d" connected`, i))
	}
	barrier(sender, reader, "go")
	pad := strings.Repeat("x", 900)
	var left []string
	for round := 0; len(left) < deaf; round++ {
		require.Less(t, round, 50, "only %d of %d deaf receivers were cut off", len(left), deaf)
		_, l := attack(t, sender, reader, 200*time.Millisecond, pad, 100)
		left = append(left, l...)
	}
	require.Len(t, left, deaf)
	require.Eventually(t, func() bool { return strings.Count(s.log.String(), "slow consumer") >= deaf }, wait, 10*time.Millisecond,
		"every cut-off is logged")
	require.Equal(t, deaf, strings.Count(s.log.String(), "slow consumer"), "each cut-off logged once")
	for _, c := range s.clients {
		if c.deaf {
			c.gone = true
		}
	}
}
