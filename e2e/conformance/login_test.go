package conformance_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	reasonTaken     = "this nickname is already taken"
	reasonRequired  = "nickname is required"
	reasonMalformed = "malformed record"
)

// §3.2: the three reasons PROTOCOL.md spells out, each on the same
// connection, which may then log in.
func TestLoginRefusalsWithNamedReasons(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.room("Ivan")
	cases := []struct {
		name   string
		record []byte
		reason string
	}{
		{"no nickname key", []byte(`{"name":"Olga"}`), reasonRequired},
		{"an empty nickname", []byte(`{"nickname":""}`), reasonRequired},
		{"a text instead of a login", []byte(`{"text":"hi"}`), reasonRequired},
		{"an empty frame", []byte{}, reasonMalformed},
		{"not a record", []byte(`hello`), reasonMalformed},
		{"an empty top-level object", []byte(`{}`), reasonMalformed},
		{"a top-level list", []byte(`["Olga"]`), reasonMalformed},
		{"an unterminated string", []byte(`{"nickname":"Olga}`), reasonMalformed},
		{"no closing brace", []byte(`{"nickname":"Olga"`), reasonMalformed},
		{"a missing colon", []byte(`{"nickname" "Olga"}`), reasonMalformed},
		{"a missing comma", []byte(`{"nickname":"Olga" "x":"y"}`), reasonMalformed},
		{"bytes after the closing brace", []byte(`{"nickname":"Olga"}x`), reasonMalformed},
		{"a duplicate key", []byte(`{"nickname":"Olga","nickname":"Petr"}`), reasonMalformed},
		{"a number", []byte(`{"nickname":1}`), reasonMalformed},
		{"the holder's nickname", dict("nickname", "Ivan"), reasonTaken},
		{"the server's nickname", dict("nickname", "SERVER"), reasonTaken},
	}
	c := s.dial()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.send(tc.record)
			c.expectStatus("error: " + tc.reason)
		})
	}
	c.t = t
	c.login("Olga")
}

// §3.2, §4: every other rule of section 4 gets "a short specific sentence",
// none of the three named ones.
func TestLoginRefusalsWithSpecificReasons(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cases := []struct{ name, nick string }{
		{"33 characters", strings.Repeat("a", 33)},
		{"33 Cyrillic characters", strings.Repeat("ж", 33)},
		{"a space", "Iv an"},
		{"a leading space", " Ivan"},
		{"a tab", "Iv\tan"},
		{"a newline", "Iv\nan"},
		{"a no-break space", "Iv\u00a0an"},
		{"an ideographic space", "Iv\u3000an"},
		{"a NUL", "Iv\x00an"},
		{"a control character", "Iv\x01an"},
		{"DEL", "Iv\x7fan"},
		{"a C1 control character", "Iv\u0085an"},
		{"a zero-width space", "Iv\u200ban"},
		{"a backslash", `Iv\an`},
		{"a double quote", `Iv"an`},
		{"invalid UTF-8", "Iv\xffan"},
		{"a lone continuation byte", "\x80"},
		{"only whitespace", "   "},
	}
	c := s.dial()
	reasons := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.send(dict("nickname", tc.nick))
			reason := c.expectLoginError()
			assert.NotContains(t, []string{reasonTaken, reasonMalformed}, reason)
			reasons[tc.name] = reason
		})
	}
	c.t = t
	c.login("Ivan")
	for name, reason := range reasons {
		t.Logf("%-24s error: %s", name, reason)
	}
}

// §3.2: a non-string nickname is refused with some reason, and the
// connection may still log in.
func TestLoginWithANonStringNicknameIsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.dial()
	for _, rec := range []string{`{"nickname":{"a":"b"}}`, `{"nickname":["Ivan"]}`, `{"nickname":{}}`, `{"nickname":[]}`} {
		c.send([]byte(rec))
		t.Logf("%s → error: %s", rec, c.expectLoginError())
	}
	c.login("Ivan")
}

// §4: 1 to 32 characters (not bytes), anything printable but the listed
// exceptions.
func TestLoginAcceptsEveryAllowedNickname(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, nick := range []string{
		"a",
		strings.Repeat("b", 32),
		strings.Repeat("ж", 32), // 64 bytes
		strings.Repeat("語", 32), // 96 bytes
		"ivan_the-2nd.",
		"Иван",
		"O'Brien",
		"{curly}",
		"a:b,c",
		"'single'",
	} {
		t.Run(nick, func(t *testing.T) {
			c := s.dial()
			c.t = t
			c.login(nick)
			c.close()
		})
	}
}

// §4: printable includes symbols; PROTOCOL.md names no narrower class.
// Such nicknames still compare case- and width-insensitively.
func TestLoginAcceptsSymbolNicknames(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, nick := range []string{"fox🦊", "☃", "I♥Go"} {
		t.Run(nick, func(t *testing.T) {
			c := s.dial()
			c.t = t
			c.login(nick)
		})
	}
	probe := s.dial()
	for _, nick := range []string{"FOX🦊", "ｆｏｘ🦊", "i♥go", "Ｉ♥Ｇｏ"} {
		t.Run("taken: "+nick, func(t *testing.T) {
			probe.t = t
			probe.send(dict("nickname", nick))
			probe.expectStatus("error: " + reasonTaken)
		})
	}
}

// §4: nicknames compare case- and width-insensitively; SERVER is the
// server's in every form; messages show the nickname as typed.
func TestNicknamesFoldCaseAndWidth(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Ｏｌｇａ")
	ivan, olga := c[0], c[1]
	probe := s.dial()
	for _, nick := range []string{"ivan", "IVAN", "iVaN", "Ｉｖａｎ", "ＩＶＡＮ", "olga", "OLGA", "Ｏｌｇａ",
		"SERVER", "server", "Server", "sErVeR", "Ｓｅｒｖｅｒ", "ＳＥＲＶＥＲ", "ｓｅｒｖｅｒ"} {
		t.Run(nick, func(t *testing.T) {
			probe.t = t
			probe.send(dict("nickname", nick))
			probe.expectStatus("error: " + reasonTaken)
		})
	}
	probe.t = t
	probe.login("Petr")
	ivan.expectNotice(`User "Petr" connected`)
	olga.expectNotice(`User "Petr" connected`)
	barrier(olga, ivan, "as typed")
	probe.expectText("Ｏｌｇａ", "as typed")
}

// §3.2: before its login succeeds a client receives nothing but status
// replies: no messages, no join or leave notices.
func TestNothingButStatusRepliesBeforeLogin(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	waiting := s.dial()
	c := s.room("Ivan", "Olga", "Petr")
	ivan, olga, petr := c[0], c[1], c[2]
	ivan.say("while you wait")
	olga.expectText("Ivan", "while you wait")
	petr.expectText("Ivan", "while you wait")
	ivan.sendFile("file", "a.txt", []byte("data"))
	olga.expectFile("Ivan", "file", "a.txt", []byte("data"))
	petr.close()
	ivan.expectNotice(`User "Petr" disconnected`)
	olga.expectNotice(`User "Petr" disconnected`)

	waiting.send(dict("nickname", "ivan"))
	waiting.expectStatus("error: " + reasonTaken)
	waiting.login("Anna")
	barrier(ivan, waiting, "first thing Anna sees")
}

// §3.2: the login timeout ends a connection that has not logged in,
// whether it sent nothing or only failed logins; it does not touch one
// that logged in.
func TestLoginTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--login-timeout", "1s")
	silent := s.dial()
	failing := s.dial()
	failing.send(dict("nickname", ""))
	failing.expectStatus("error: " + reasonRequired)
	half := s.dial()
	half.write(frame(dict("nickname", "Half"))[:10])
	c := s.room("Ivan", "Olga")
	t.Logf("silent: %q", silent.expectCut())
	t.Logf("failing: %q", failing.expectCut())
	t.Logf("half a login record: %q", half.expectCut())

	time.Sleep(1500 * time.Millisecond) // past the login timeout
	barrier(c[0], c[1], "still here")
	barrier(c[1], c[0], "me too")
}

// §3.2: a peer that goes on sending after its login timed out still reads
// why. The server reads and drops its input for a moment before it closes
// (a close with input unread resets the connection, and a reset can
// destroy the reason before the peer reads it), although the login's own
// deadline has passed by then.
func TestLoginTimeoutIsToldToAPeerThatKeepsSending(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--login-timeout", "300ms")
	c := s.dial()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		junk := frame(dict("nickname", "")) // refused, and answered
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if c.conn.SetWriteDeadline(time.Now().Add(wait)) != nil {
				return
			}
			if _, err := c.conn.Write(junk); err != nil {
				return
			}
		}
	}()
	defer func() {
		if stop != nil {
			close(stop)
			<-stopped
		}
	}()
	for {
		body, err := c.read(wait)
		require.NoError(t, err, "the connection ended before it said why")
		if string(body) == string(dict("status", "error: login timed out")) {
			break
		}
		require.Equal(t, string(dict("status", "error: "+reasonRequired)), string(body))
	}
	close(stop)
	<-stopped
	stop = nil
	// The server goes on reading for a while after its last words (a
	// second): what the peer sends meanwhile is taken, not answered by a
	// reset.
	for range 20 {
		c.write(frame(dict("nickname", "")))
		time.Sleep(10 * time.Millisecond)
	}
	c.gone = true
}

// §3.2: the login timeout runs from the connection, not from the last
// attempt: retrying does not extend it.
func TestLoginRetriesDoNotExtendTheTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--login-timeout", "1s")
	c := s.dial()
	start := time.Now()
	for time.Since(start) < 4*time.Second {
		if _, err := c.conn.Write(frame(dict("nickname", ""))); err != nil {
			break // closed, as it should be
		}
		body, err := c.read(wait)
		if err != nil {
			break
		}
		if string(body) != string(dict("status", "error: "+reasonRequired)) {
			t.Logf("last reply: %q", body) // the timeout's own status line
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	require.Less(t, elapsed, 4*time.Second, "retrying every 100 ms kept the connection past a 1 s login timeout")
	c.gone = true
}

// §1: frames may arrive in any pieces, and several in one segment.
func TestFramesSplitAndCoalesced(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ivan := s.room("Ivan")[0]

	olga := s.dial()
	olga.conn.(*net.TCPConn).SetNoDelay(true)
	for _, b := range frame(dict("nickname", "Olga")) {
		olga.write([]byte{b})
	}
	olga.expectStatus("success")
	olga.nick, olga.loggedIn = "Olga", true
	ivan.expectNotice(`User "Olga" connected`)
	for _, b := range append(frame(dict("text", "slow", "attachment", "s.bin")), frame([]byte("xyz"))...) {
		olga.write([]byte{b})
	}
	ivan.expectFile("Olga", "slow", "s.bin", []byte("xyz"))

	// A login and two messages in one write.
	petr := s.dial()
	petr.write(append(append(frame(dict("nickname", "Petr")), frame(dict("text", "one"))...), frame(dict("text", "two"))...))
	petr.expectStatus("success")
	petr.nick, petr.loggedIn = "Petr", true
	for _, r := range []*client{ivan, olga} {
		r.expectNotice(`User "Petr" connected`)
		r.expectText("Petr", "one")
		r.expectText("Petr", "two")
	}
}

// §1, §5: a length over the hard cap ends the connection, before or after
// login; the others see a logged-in one leave.
func TestLengthOverTheHardCapEndsTheConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ivan := s.room("Ivan")[0]

	stranger := s.dial()
	stranger.write(header(0xFFFFFFFF))
	t.Logf("stranger: %q", stranger.expectCut())

	olga := s.join("Olga")
	ivan.expectNotice(`User "Olga" connected`)
	olga.write(header(1<<20 + 1))
	t.Logf("olga: %q", olga.expectCut())
	ivan.expectNotice(`User "Olga" disconnected`)

	petr := s.join("Petr")
	ivan.expectNotice(`User "Petr" connected`)
	petr.write(header(0xFFFFFFFF))
	t.Logf("petr: %q", petr.expectCut())
	ivan.expectNotice(`User "Petr" disconnected`)
}

// §3.2: a record of length 0xFFFFFFFF before login must not make the
// server wait for 4 GiB; and a record over the record limit but under the
// cap before login is refused as a status error, not by closing.
func TestOversizedLoginRecordIsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.dial()
	pad := strings.Repeat("x", 70_000)
	c.send([]byte(`{"nickname":"Ivan","pad":"` + pad + `"}`))
	reason := c.expectLoginError()
	t.Logf("error: %s", reason)
	c.login("Ivan")
	require.True(t, c.loggedIn)
}
