package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/app/server"
	"pcx/internal/testpeer"
)

// TestWhoListsMembersInLoginOrderToTheAskerAlone checks PROTOCOL.md
// section 7: the answer goes to the asker only, lists everyone (the asker
// too) as typed, in login order, also after someone in the middle left.
func TestWhoListsMembersInLoginOrderToTheAskerAlone(t *testing.T) {
	h := start(t, server.Config{})
	p := h.room("Ivan", "maria", "Olga", "Petr")
	ivan, maria, olga, petr := p[0], p[1], p[2], p[3]
	maria.Conn.Close()
	for _, q := range []*testpeer.Peer{ivan, olga, petr} {
		q.Expect("SERVER", `User "maria" disconnected`)
	}

	olga.SendRecord("command", "who")
	rec := olga.Expect("SERVER", "Online (3): Ivan, Olga, Petr")

	require.True(t, rec.HasUsers)
	assert.Equal(t, []string{"Ivan", "Olga", "Petr"}, rec.Users)
	assert.Regexp(t, `^\{"time":"[^"]*","nickname":"SERVER","text":"Online \(3\): Ivan, Olga, Petr","users":\["Ivan","Olga","Petr"\]\}$`, rec.Body)
	ivan.ExpectSilence(100 * time.Millisecond)
	petr.ExpectSilence(100 * time.Millisecond)
}

func TestWhoRefusalsAndMessagesWithACommand(t *testing.T) {
	h := start(t, server.Config{})
	p := h.room("Ivan", "Maria")
	ivan, maria := p[0], p[1]

	ivan.SendRecord("command", "kick")
	ivan.Expect("SERVER", "error: unknown command")

	ivan.SendRecord("command", "who", "text", "a message after all")
	maria.Expect("Ivan", "a message after all")

	ivan.SendRaw(testpeer.Encode("command", "who", "attachment", "x.bin"), []byte("dropped"))
	ivan.Expect("SERVER", "Online (2): Ivan, Maria")

	ivan.SendRecord("other", "x")
	ivan.Expect("SERVER", "error: text is required")

	ivan.SendRecord("text", "still in step")
	maria.Expect("Ivan", "still in step")
	maria.ExpectSilence(100 * time.Millisecond)
}
