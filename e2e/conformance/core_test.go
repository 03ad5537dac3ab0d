package conformance_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// §3.4, §5: a text goes to every other logged-in client as the canonical
// record time, nickname, text, and never back to its sender.
func TestTextReachesEveryoneButTheSenderInCanonicalForm(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga", "Petr")
	ivan, olga, petr := c[0], c[1], c[2]

	before := time.Now().UTC().Truncate(time.Microsecond)
	ivan.say("Hello")
	for _, r := range []*client{olga, petr} {
		m := r.expectText("Ivan", "Hello")
		require.False(t, m.time.Before(before), "stamp %s is before the message was sent (%s)", m.stamp, before)
	}
	// Had Ivan got his own message back, it would be queued ahead of Olga's.
	barrier(olga, ivan, "sync")
	petr.expectText("Olga", "sync")
}

// §3.5: the join notice goes to everyone but the newcomer, the leave
// notice to everyone left.
func TestJoinAndLeaveNoticesGoToEveryoneElse(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]

	petr := s.join("Petr")
	ivan.expectNotice(`User "Petr" connected`)
	olga.expectNotice(`User "Petr" connected`)
	// Petr's first record must be Ivan's message, not his own join notice.
	barrier(ivan, petr, "welcome")
	olga.expectText("Ivan", "welcome")

	petr.close()
	ivan.expectNotice(`User "Petr" disconnected`)
	olga.expectNotice(`User "Petr" disconnected`)
}

// §3.2, §4: a nickname held by a logged-in user or by the server is
// refused with the exact reason, and the client may try again on the same
// connection.
func TestTakenNicknameIsRefusedAndTheClientMayRetry(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.room("Ivan")
	c := s.dial()
	for _, nick := range []string{"Ivan", "SERVER"} {
		c.send(dict("nickname", nick))
		c.expectStatus("error: this nickname is already taken")
	}
	c.login("Olga")
}

// §5: a refused message costs its sender exactly one error notice, reaches
// nobody, and the stream stays in step.
func TestRefusedMessageGetsOneErrorNoticeAndReachesNobody(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]

	ivan.send([]byte(`{"attachment":"a.txt"}`), []byte(`{"text":"smuggled"}`))
	ivan.expectError()
	barrier(ivan, olga, "next")
	barrier(olga, ivan, "no second notice")
}

// §3.5, issue 3: SIGTERM tells every logged-in client, then the server
// exits 0 (checked by stop).
func TestShutdownSaysGoodbyeAndExitsZero(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.room("Ivan", "Olga")
	s.stop()
}
