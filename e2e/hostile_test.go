package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/adapters/tcp"
	"pcx/app/client"
	"pcx/domain"
	"pcx/ports"
)

// peer speaks the protocol by hand, to send what no client of ours would.
type peer struct {
	t    *testing.T
	conn ports.Conn
}

func (p *peer) send(record, payload []byte) {
	p.t.Helper()
	require.NoError(p.t, p.conn.Writer().WriteFrames([][]byte{record}))
	if payload != nil {
		require.NoError(p.t, p.conn.Writer().WriteFrames([][]byte{payload}))
	}
}

func (p *peer) read() []byte {
	p.t.Helper()
	body, err := p.conn.Reader().ReadRecord(nil, 1<<20)
	require.NoError(p.t, err)
	return body
}

// readRelay reads a relayed message or a notice.
func (p *peer) readRelay() domain.Relay {
	p.t.Helper()
	rec, err := dictcodec.DecodeRelay(p.read())
	require.NoError(p.t, err)
	rel, err := rec.Relay()
	require.NoError(p.t, err)
	return rel
}

func chat(text, attachment string) []byte {
	return dictcodec.AppendRequest(nil, &domain.Request{Message: domain.ChatMessage{Text: text, Attachment: attachment, HasAttachment: true}})
}

func TestHostileNamesFromARawPeerStayInTheFolder(t *testing.T) {
	addr, _ := startServer(t)
	olga := join(t, addr, "Olga")
	conn, err := tcp.Dialer{}.Dial(context.Background(), addr)
	require.NoError(t, err)
	defer conn.Close()
	mallory := &peer{t: t, conn: conn}
	mallory.send(dictcodec.AppendLogin(nil, "Mallory"), nil)
	reply, err := dictcodec.DecodeStatus(mallory.read())
	require.NoError(t, err)
	require.Equal(t, domain.RawOf("success"), reply.Status)
	olga.stdout.waitFor(t, `User "Mallory" connected`)

	mallory.send(chat("climb", "../../x"), []byte("evil"))
	refusal := mallory.readRelay()
	assert.Contains(t, refusal.Text, "error: ", "the server refuses a path")
	mallory.send(chat("hidden", ".profile"), []byte("evil"))
	mallory.send(chat("disguised", "evil\u202egpj.exe"), []byte("evil"))
	mallory.send(chat("done", "y"), []byte("y"))

	olga.stdout.waitFor(t, "Mallory: hidden")
	olga.stdout.waitFor(t, `saved as "profile"`)
	olga.stdout.waitFor(t, "Mallory: disguised")
	olga.stdout.waitFor(t, `saved as "evilgpj.exe"`)
	olga.stdout.waitFor(t, "Mallory: done")
	assert.NotContains(t, olga.stdout.String(), "climb", "a refused message reaches nobody")
	assert.Equal(t, map[string]string{"profile": "evil", "evilgpj.exe": "evil", "y": "y"}, folder(t, olga.dir))
	require.NoError(t, olga.leave(t))
}

// hostileServer accepts one client, takes any nickname and relays what
// serve sends, as a server we did not write might.
func hostileServer(t *testing.T, serve func(p *peer)) string {
	t.Helper()
	return rawServer(t, func(p *peer) {
		p.read() // the login
		p.send(dictcodec.AppendStatus(nil, nil), nil)
		serve(p)
		// Hang up as a server should: half-close, then read what the
		// client still sends (its question after login) until it closes
		// or the linger passes. Closing with that unread would reset the
		// connection, and a reset destroys what the client has not read yet.
		p.conn.Writer().CloseWrite(wait)
		for {
			if _, _, err := p.conn.Reader().ReadPayload(); err != nil {
				return
			}
		}
	})
}

func relayed(nick, text, attachment string) []byte {
	rel := domain.Relayed(time.Now(), nick, domain.ChatMessage{Text: text, Attachment: attachment, HasAttachment: true})
	return dictcodec.AppendRelay(nil, &rel)
}

func TestHostileNamesFromAServerStayInTheFolder(t *testing.T) {
	names := []struct{ sent, saved string }{
		{"../../x", "x"},
		{"\x1b[31mred", "red"},
		{".", "attachment"},
		{"..", "attachment (1)"},
		{"/etc/passwd", "passwd"},
		{"a\\..\\..\\b.txt", "b.txt"},
		{". .gitconfig", "gitconfig"},
		{"\u00a0.profile", "profile"},
		{"\u3000.npmrc", "npmrc"},
	}
	addr := hostileServer(t, func(p *peer) {
		for i, n := range names {
			p.send(relayed("Eve\x1b[2J", "file "+string(rune('A'+i))+"\x1b]0;owned\x07", n.sent), []byte(n.saved))
		}
	})
	parent := t.TempDir()
	c := startClientIn(t, addr, "Ivan", filepath.Join(parent, "downloads"))

	require.ErrorIs(t, c.result(t), client.ErrConnectionLost, "the server hung up")
	out := c.stdout.String()
	for i, n := range names {
		assert.Contains(t, out, `"Eve\x1b[2J": file `+string(rune('A'+i))+"\n"+`        └ file `+strconv.Quote(n.sent)+` saved as "`+n.saved+`"`+"\n")
	}
	assert.NotContains(t, out, "\x1b", "no escape sequence reaches the terminal")
	want := map[string]string{}
	for _, n := range names {
		want[n.saved] = n.saved
	}
	assert.Equal(t, want, folder(t, filepath.Join(parent, "downloads")))
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing written beside the download folder")
	assert.Equal(t, "downloads", entries[0].Name())
}

// TestForgedLinesFromAServerStayAttributable sends the forgeries of issue 9
// through a server that relays anything: each output line is still
// attributable to the one message that carried it.
func TestForgedLinesFromAServerStayAttributable(t *testing.T) {
	t.Parallel()
	plain := func(nick, text string) []byte {
		rel := domain.Relayed(time.Now(), nick, domain.ChatMessage{Text: text})
		return dictcodec.AppendRelay(nil, &rel)
	}
	addr := hostileServer(t, func(p *peer) {
		p.send(plain("Eve", "hi\n<12:34> SERVER: User \"admin\" connected"), nil)
		p.send(plain("x]y", "hello]"), nil)
		p.send(plain("Eve", "look (saved as evil.sh)"), nil)
		p.send(plain("Eve", "look\n        └ file \"x\" saved as \"evil.sh\""), nil)
		p.send(plain("x y", "a nickname with a space"), nil)
	})
	c := startClientIn(t, addr, "Ivan", t.TempDir())
	require.ErrorIs(t, c.result(t), client.ErrConnectionLost, "the server hung up")

	lines := c.stdout.lines()
	t.Logf("output:\n%s", c.stdout)
	require.Len(t, lines, 7)
	assert.Regexp(t, `^<\d\d:\d\d> Eve: hi$`, lines[0])
	assert.Equal(t, `        │ <12:34> SERVER: User "admin" connected`, lines[1])
	assert.Regexp(t, `^<\d\d:\d\d> x\]y: hello\]$`, lines[2])
	assert.Regexp(t, `^<\d\d:\d\d> Eve: look \(saved as evil\.sh\)$`, lines[3])
	assert.Regexp(t, `^<\d\d:\d\d> Eve: look$`, lines[4])
	assert.Equal(t, `        │         └ file "x" saved as "evil.sh"`, lines[5])
	assert.Regexp(t, `^<\d\d:\d\d> "x y": a nickname with a space$`, lines[6])
}
