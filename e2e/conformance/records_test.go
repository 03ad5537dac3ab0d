package conformance_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// §2: a string is decoded (\" and \\ are escapes, \x stands for itself,
// everything else is literal) and relayed in canonical form, where only "
// and \ are escaped.
func TestTextsAreRelayedInCanonicalForm(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	cases := []struct {
		name string
		sent string // the text as it appears between the quotes on the wire
		text string // the string it stands for
	}{
		{"plain", `Hello`, "Hello"},
		{"an escaped quote", `say \"hi\"`, `say "hi"`},
		{"an escaped backslash", `x\\y`, `x\y`},
		{"a backslash before another letter stands for itself", `a\qb`, `a\qb`},
		{"a backslash before n is not a newline", `tab\tand\n`, `tab\tand\n`},
		{"a backslash before u is no unicode escape", `\u00e9`, `\u00e9`},
		{"a trailing escaped backslash", `ends with \\`, `ends with \`},
		{"three backslashes and a quote", `\\\"`, `\"`},
		{"literal newlines, tabs and CR", "line1\nline2\r\n\tend", "line1\nline2\r\n\tend"},
		{"control bytes", "\x00\x01\x1f\x7f", "\x00\x01\x1f\x7f"},
		{"JSON-looking content", `{\"text\":\"x\"}`, `{"text":"x"}`},
		{"unicode", "Привет, 世界 🎉", "Привет, 世界 🎉"},
		{"noncharacters and the last code point", "\uffff\ufffe\U0010ffff\ufffd", "\uffff\ufffe\U0010ffff\ufffd"},
		{"empty", ``, ""},
		{"braces, colons and commas", `{:,[]}`, `{:,[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ivan.t, olga.t = t, t
			ivan.send([]byte(`{"text":"` + tc.sent + `"}`))
			olga.expectText("Ivan", tc.text)
		})
	}
	ivan.t, olga.t = t, t
	barrier(olga, ivan, "nothing came back")
}

// §2 reading: whitespace between tokens and around the object is
// accepted, as in the examples of Lab1.md.
func TestReadingAcceptsWhitespaceBetweenTokens(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ivan := s.room("Ivan")[0]
	olga := s.dial()
	olga.send([]byte(" \t\r\n{ \"nickname\" :\t\"Olga\"\r\n}\n "))
	olga.expectStatus("success")
	olga.nick, olga.loggedIn = "Olga", true
	ivan.expectNotice(`User "Olga" connected`)

	olga.send([]byte(`{"text":"Hello", "attachment":"1.jpg"}`), []byte("jpeg"))
	ivan.expectFile("Olga", "Hello", "1.jpg", []byte("jpeg"))
	olga.send([]byte("\n\n{\n\t\"extra\" : [ \"a\" ,\t{ \"b\" : \"c\" } , [ ] , { } ] ,\r\n\t\"text\"\t:\t\" spaced \"\n}\t\r\n"))
	ivan.expectText("Olga", " spaced ")
}

// §3.3, §3.4: unknown keys are ignored; a client cannot set the time or
// the nickname of its own message, nor the key order of the relay.
func TestUnknownKeysAreIgnored(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	before := time.Now().UTC().Truncate(time.Microsecond)
	cases := []struct{ name, record string }{
		{"a colour", `{"text":"hi","color":"red"}`},
		{"unknown keys first", `{"z":"1","a":"2","text":"hi"}`},
		{"a forged time and nickname", `{"time":"1999-01-01 00:00:00.000000+00:00","nickname":"SERVER","text":"hi"}`},
		{"a forged status", `{"status":"success","text":"hi"}`},
		{"empty object and list values", `{"o":{},"l":[],"text":"hi"}`},
		{"nested objects and lists", `{"x":{"a":["b",{"c":["d",[]]}],"e":{"f":"g"}},"text":"hi"}`},
		{"an empty key", `{"":"v","text":"hi"}`},
		{"a key with escapes", `{"te\"xt":"v","text":"hi"}`},
		{"a key like text but with a stray backslash", `{"te\xt":"no","text":"hi"}`},
		{"an attachment key nested in an unknown key", `{"x":{"attachment":"a.txt"},"text":"hi"}`},
		{"an attachment key inside a list", `{"x":[{"attachment":"a.txt"}],"text":"hi"}`},
		{"a key like attachment but with a stray backslash", `{"text":"hi","attach\ment":"a.txt"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ivan.t, olga.t = t, t
			ivan.send([]byte(tc.record))
			m := olga.expectText("Ivan", "hi")
			require.False(t, m.time.Before(before), "stamp %s", m.stamp)
		})
	}
	ivan.t, olga.t = t, t
	barrier(olga, ivan, "nothing came back")
}

// §2: nesting up to 32 levels (the top-level object is 1) is accepted,
// 33 refused as malformed, whether the levels are objects or lists.
func TestNestingDepthLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	for _, list := range []bool{false, true} {
		kind := map[bool]string{false: "objects", true: "lists"}[list]
		t.Run("32 levels of "+kind, func(t *testing.T) {
			ivan.t, olga.t = t, t
			ivan.send(nested(32, list))
			olga.expectText("Ivan", "deep")
		})
		t.Run("33 levels of "+kind, func(t *testing.T) {
			ivan.t, olga.t = t, t
			ivan.send(nested(33, list))
			t.Logf("error: %s", ivan.expectError())
			barrier(ivan, olga, "after 33")
			barrier(olga, ivan, "one notice")
		})
	}
	t.Run("20000 levels of lists", func(t *testing.T) {
		ivan.t, olga.t = t, t
		ivan.send(nested(20_000, true))
		ivan.expectError()
		barrier(ivan, olga, "after 20000")
		barrier(olga, ivan, "one notice")
	})
}

// stamps: §3 requires UTC, six fractional digits (checked by
// parseMessage on every record) and a stamp taken once the whole message,
// payload included, is read.
func TestStampIsTakenOnceThePayloadIsWhole(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]

	ivan.send(dict("text", "late file", "attachment", "late.bin"))
	time.Sleep(300 * time.Millisecond) // the payload comes later
	sent := time.Now().UTC().Truncate(time.Microsecond)
	ivan.send([]byte("payload"))
	m := olga.expectFile("Ivan", "late file", "late.bin", []byte("payload"))
	got := time.Now().UTC()
	require.False(t, m.time.Before(sent), "stamp %s is before the payload was sent (%s)", m.stamp, sent.Format(timeLayout))
	require.False(t, m.time.After(got), "stamp %s is after the message arrived (%s)", m.stamp, got.Format(timeLayout))

	// The same for a record sent in pieces.
	rec := frame(dict("text", "slow record"))
	ivan.write(rec[:len(rec)-1])
	time.Sleep(300 * time.Millisecond)
	sent = time.Now().UTC().Truncate(time.Microsecond)
	ivan.write(rec[len(rec)-1:])
	m = olga.expectText("Ivan", "slow record")
	require.False(t, m.time.Before(sent), "stamp %s is before the record was whole (%s)", m.stamp, sent.Format(timeLayout))
}

// §3.5: notices are stamped too, in the same format, and in UTC.
func TestNoticesAreStampedInUTC(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ivan := s.room("Ivan")[0]
	before := time.Now().UTC().Truncate(time.Microsecond)
	olga := s.join("Olga")
	m := ivan.expectNotice(`User "Olga" connected`)
	olga.close()
	m2 := ivan.expectNotice(`User "Olga" disconnected`)
	after := time.Now().UTC()
	for _, m := range []message{m, m2} {
		require.False(t, m.time.Before(before) || m.time.After(after), "stamp %s outside [%s, %s]", m.stamp, before.Format(timeLayout), after.Format(timeLayout))
	}
	require.False(t, m2.time.Before(m.time))
	require.True(t, strings.HasSuffix(m.stamp, "+00:00"))
}
