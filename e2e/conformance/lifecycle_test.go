package conformance_test

import (
	"bytes"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// §3.5: on SIGTERM every logged-in client gets what was queued for it,
// then the notice, then the end of its stream; a client that has not
// logged in gets no notice.
func TestShutdownFlushesQueuesThenSaysGoodbye(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	stranger := s.dial()
	half := s.dial()
	half.write(frame(dict("nickname", "Half"))[:7])
	cs := s.room("Ivan", "Olga", "Behind")
	ivan, olga, behind := cs[0], cs[1], cs[2]
	for i := 0; i < 50; i++ {
		ivan.say(strconv.Itoa(i))
	}
	for i := 0; i < 50; i++ {
		olga.expectText("Ivan", strconv.Itoa(i))
	}
	// Behind has read none of the 50, which the server has all read.
	s.signal(syscall.SIGTERM)
	for i := 0; i < 50; i++ {
		behind.expectText("Ivan", strconv.Itoa(i))
	}
	behind.expectShutdownNotice()
	behind.expectClosed()
	t.Logf("stranger: %q", stranger.expectCut())
	t.Logf("half logged in: %q", half.expectCut())
	s.finish()
}

// §3.5: a file being written to a receiver at SIGTERM is finished before
// the notice (the grace is long enough for it).
func TestShutdownFinishesAFileInFlight(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--shutdown-grace", "5s")
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	big := payloadFor("Ivan", 3, 16<<20)
	ivan.sendFile("big", "big.bin", big)
	m := olga.nextMessage()
	require.Equal(t, "big.bin", m.attachment)
	s.signal(syscall.SIGTERM)
	require.True(t, bytes.Equal(big, olga.next()))
	olga.expectShutdownNotice()
	olga.expectClosed()
	ivan.expectShutdownNotice()
	ivan.expectClosed()
	s.finish()
}

// Issue 3: SIGINT is a shutdown like SIGTERM.
func TestShutdownOnSIGINT(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.room("Ivan", "Olga")
	s.signal(syscall.SIGINT)
	s.finish()
}

// §3.5, §5: a client in the middle of an upload at shutdown is told too;
// its unfinished message is never relayed.
func TestShutdownDuringAnUpload(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cs := s.room("Ivan", "Olga")
	ivan := cs[0]
	ivan.write(append(frame(dict("text", "never whole", "attachment", "x.bin")), append(header(1<<20), make([]byte, 1000)...)...))
	barrier(cs[1], ivan, "the record is read")
	s.stop() // Olga's goodbye must not be preceded by the unfinished file
}

// Shutdown is bounded: a receiver that never reads does not keep the
// server from exiting 0.
func TestShutdownWithAReceiverThatNeverReads(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--shutdown-grace", "1s")
	cs := s.room("Ivan", "Deaf", "Olga")
	ivan, deaf, olga := cs[0], cs[1], cs[2]
	deaf.deaf = true
	big := payloadFor("Ivan", 0, 6<<20)
	for i := 0; i < 3; i++ {
		ivan.sendFile("file", "f.bin", big)
		olga.expectFile("Ivan", "file", "f.bin", big)
	}
	start := time.Now()
	s.stop()
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}

// §1 ("in both directions"): before login a record with an attachment key
// is also followed by its payload, which must not be taken for a login.
func TestPayloadBeforeLoginIsNotALogin(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.dial()
	c.send([]byte(`{"text":"hi","attachment":"a.txt"}`), dict("nickname", "Smuggled"))
	t.Logf("error: %s", c.expectLoginError())
	c.login("Real")
	probe := s.dial()
	probe.login("Smuggled") // would be taken had the payload logged in
}

// §1: a login record with an attachment key is followed by a payload that
// must not be relayed or read as a message.
func TestPayloadAfterALoginRecordIsNotAMessage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	olga := s.room("Olga")[0]
	c := s.dial()
	c.send([]byte(`{"nickname":"Ivan","attachment":"a.txt"}`), smuggled)
	reply := string(c.next())
	if reply != string(dict("status", "success")) {
		t.Logf("refused: %s", reply)
		c.login("Ivan")
	} else {
		c.nick, c.loggedIn = "Ivan", true
	}
	olga.expectNotice(`User "Ivan" connected`)
	barrier(c, olga, "first message")
	barrier(olga, c, "no error notice came first")
}

// §5: a client that logs in and leaves at once: the others see the join
// notice, then the leave notice.
func TestJoinThenLeaveAtOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	olga := s.room("Olga")[0]
	for i := 0; i < 20; i++ {
		c := s.dial()
		c.write(append(frame(dict("nickname", "Brief")), frame(dict("text", "bye"))...))
		c.close()
		olga.expectNotice(`User "Brief" connected`)
		olga.expectText("Brief", "bye")
		olga.expectNotice(`User "Brief" disconnected`)
	}
	require.True(t, olga.loggedIn)
}
