package e2e_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/adapters/framing"
	"pcx/adapters/tcp"
	"pcx/app/client"
	"pcx/domain"
	"pcx/ports"
)

// peer speaks the protocol by hand, to send what no client of ours would.
type peer struct {
	t     *testing.T
	conn  ports.Conn
	codec *dictcodec.Codec
}

func (p *peer) send(r *domain.Record, payload []byte) {
	p.t.Helper()
	require.NoError(p.t, p.conn.WriteFrames([][]byte{p.codec.AppendRecord(nil, r)}))
	if payload != nil {
		require.NoError(p.t, p.conn.WriteFrames([][]byte{payload}))
	}
}

func (p *peer) read() domain.Record {
	p.t.Helper()
	body, err := p.conn.ReadRecord(nil, 1<<20)
	require.NoError(p.t, err)
	r, err := p.codec.DecodeRecord(body)
	require.NoError(p.t, err)
	return r
}

func chat(text, attachment string) *domain.Record {
	var r domain.Record
	domain.BuildChat(&r, text, attachment, true)
	return &r
}

func TestHostileNamesFromARawPeerStayInTheFolder(t *testing.T) {
	addr, _ := startServer(t)
	olga := join(t, addr, "Olga")
	conn, err := tcp.Dialer{}.Dial(context.Background(), addr)
	require.NoError(t, err)
	defer conn.Close()
	mallory := &peer{t: t, conn: conn, codec: dictcodec.New()}
	var login domain.Record
	domain.BuildLogin(&login, "Mallory")
	mallory.send(&login, nil)
	reply := mallory.read()
	status, _ := reply.GetString("status")
	require.Equal(t, "success", status)
	olga.stdout.waitFor(t, `User "Mallory" connected`)

	mallory.send(chat("climb", "../../x"), []byte("evil"))
	refusal := mallory.read()
	notice, _ := refusal.GetString("text")
	assert.Contains(t, notice, "error: ", "the server refuses a path")
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		conn := framing.NewConn(nc, framing.Options{WriteTimeout: 10 * time.Second})
		defer conn.Close()
		p := &peer{t: t, conn: conn, codec: dictcodec.New()}
		p.read() // the login
		p.send(domain.NewRecord(domain.Field{Key: "status", Value: domain.Str("success")}), nil)
		serve(p)
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}

func relayed(nick, text, attachment string) *domain.Record {
	var r domain.Record
	domain.BuildRelay(&r, time.Now(), nick, text, attachment, true)
	return &r
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
	plain := func(nick, text string) *domain.Record {
		var r domain.Record
		domain.BuildRelay(&r, time.Now(), nick, text, "", false)
		return &r
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
