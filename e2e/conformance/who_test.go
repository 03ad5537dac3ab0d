package conformance_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// whoReply matches the exact canonical answer to "who" (§7), with any stamp.
func whoReply(list, users string) *regexp.Regexp {
	return regexp.MustCompile(`^\{"time":"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00","nickname":"SERVER","text":"` +
		regexp.QuoteMeta(list) + `","users":\[` + regexp.QuoteMeta(users) + `\]\}$`)
}

// §7: {"command":"who"} is answered to the asker alone, in login order,
// the asker included, nicknames as typed; after a leave the order holds.
func TestWhoListsEveryoneToTheAskerAlone(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cs := s.room("Ivan", "maria", "Olga", "Petr")
	ivan, maria, olga, petr := cs[0], cs[1], cs[2], cs[3]
	maria.close()
	for _, c := range []*client{ivan, olga, petr} {
		c.expectNotice(`User "maria" disconnected`)
	}

	olga.send([]byte(`{"command":"who"}`))
	require.Regexp(t, whoReply("Online (3): Ivan, Olga, Petr", `"Ivan","Olga","Petr"`), string(olga.next()))

	barrier(olga, ivan, "only Olga got the list")
	barrier(olga, petr, "only Olga got the list")
}

// §7: another command is refused; with text the record is a message.
func TestWhoRefusesUnknownCommandsAndKeepsMessages(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]

	ivan.send([]byte(`{"command":"kick"}`))
	require.Equal(t, "unknown command", ivan.expectError())

	ivan.send([]byte(`{"command":"who","text":"just a message"}`))
	olga.expectText("Ivan", "just a message")

	ivan.send([]byte(`{"command":"who"}`))
	require.Regexp(t, whoReply("Online (2): Ivan, Olga", `"Ivan","Olga"`), string(ivan.next()))
	barrier(ivan, olga, "nothing else")
}
