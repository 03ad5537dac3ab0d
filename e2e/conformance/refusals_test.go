package conformance_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// smuggled is the payload of every refused message with an attachment: if
// the server took it for a record, it would relay it and the barrier
// after it would fail.
var smuggled = frame(dict("text", "smuggled"))[4:]

// refusedOnce checks the promise of §5 for one refused input that ivan
// sent: one error notice to ivan, nothing to olga, the stream in step.
func refusedOnce(t *testing.T, ivan, olga *client) string {
	t.Helper()
	reason := ivan.expectError()
	barrier(ivan, olga, "in step")
	barrier(olga, ivan, "exactly one notice")
	return reason
}

// §2, §5: a record that cannot be parsed is dropped on its own with one
// error notice; the connection stays.
func TestMalformedRecordsAreRefusedOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	for _, tc := range []struct{ name, record string }{
		{"an empty frame", ``},
		{"only whitespace", " \n\t"},
		{"not a record", `hello`},
		{"a top-level string", `"text"`},
		{"a top-level list", `[{"text":"hi"}]`},
		{"an empty top-level object", `{}`},
		{"an unterminated string", `{"text":"hi}`},
		{"an escaped closing quote", `{"text":"hi\"}`},
		{"no closing brace", `{"text":"hi"`},
		{"a missing colon", `{"text" "hi"}`},
		{"a missing comma", `{"text":"hi" "x":"y"}`},
		{"a trailing comma", `{"text":"hi",}`},
		{"bytes after the closing brace", `{"text":"hi"}x`},
		{"a second object", `{"text":"hi"}{"text":"hi"}`},
		{"a bare word key", `{text:"hi"}`},
		{"a number", `{"text":1}`},
		{"true", `{"text":true}`},
		{"null", `{"text":null}`},
		{"a single-quoted string", `{'text':'hi'}`},
		{"a duplicate key", `{"text":"a","text":"b"}`},
		{"a duplicate unknown key", `{"x":"1","x":"2","text":"hi"}`},
		{"a duplicate key in a nested object", `{"x":{"k":"1","k":"2"},"text":"hi"}`},
		{"a duplicate key spelled with an escape", `{"text":"a","te\xt":"b","te\\xt":"c"}`},
		{"a mismatched bracket", `{"x":["a"},"text":"hi"}`},
		{"an unclosed list", `{"x":["a","text":"hi"}`},
		{"invalid UTF-8 outside strings", "{\xff\"text\":\"hi\"}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ivan.t, olga.t = t, t
			ivan.send([]byte(tc.record))
			reason := refusedOnce(t, ivan, olga)
			require.Equal(t, reasonMalformed, reason)
		})
	}
}

// §3.3, §5: a record that parses but is refused is dropped with its
// payload frame when it has an attachment key, whatever the value of that
// key and whether or not it has a text.
func TestRefusedMessagesDropTheirPayload(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	for _, tc := range []struct {
		name    string
		record  string
		payload bool
	}{
		{"no text", `{"txt":"hi"}`, false},
		{"a text that is an object", `{"text":{"a":"b"}}`, false},
		{"a text that is a list", `{"text":["hi"]}`, false},
		{"a text that is an empty object", `{"text":{}}`, false},
		{"a text of invalid UTF-8", "{\"text\":\"caf\xe9\"}", false},
		{"a text of a lone surrogate in UTF-8", "{\"text\":\"\xed\xa0\x80\"}", false},
		{"a text with an overlong encoding", "{\"text\":\"\xc0\xaf\"}", false},
		{"a text with a code point over U+10FFFF", "{\"text\":\"\xf4\x90\x80\x80\"}", false},
		{"a text cut inside a character", "{\"text\":\"\xe2\x82\"}", false},
		{"an attachment without text", `{"attachment":"a.txt"}`, true},
		{"an attachment with an object text", `{"text":{"a":"b"},"attachment":"a.txt"}`, true},
		{"an attachment with a list text", `{"text":[],"attachment":"a.txt"}`, true},
		{"an attachment with an invalid UTF-8 text", "{\"text\":\"\xff\",\"attachment\":\"a.txt\"}", true},
		{"an attachment that is an object", `{"text":"hi","attachment":{"name":"a.txt"}}`, true},
		{"an attachment that is a list", `{"text":"hi","attachment":["a.txt"]}`, true},
		{"an attachment that is an empty object", `{"text":"hi","attachment":{}}`, true},
		{"an empty attachment name", `{"text":"hi","attachment":""}`, true},
		{"an attachment name that is a path", `{"text":"hi","attachment":"../a.txt"}`, true},
		{"an attachment key alone with a non-string", `{"attachment":[]}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ivan.t, olga.t = t, t
			if tc.payload {
				ivan.send([]byte(tc.record), smuggled)
			} else {
				ivan.send([]byte(tc.record))
			}
			reason := refusedOnce(t, ivan, olga)
			require.NotEqual(t, reasonMalformed, reason)
			t.Logf("error: %s", reason)
		})
	}
}

// §6: the attachment name rules, refused and accepted.
func TestAttachmentNames(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	refused := []struct{ name, wire string }{
		{"a slash", `a/b.txt`},
		{"an absolute path", `/etc/passwd`},
		{"a trailing slash", `dir/`},
		{"an escaped backslash", `a\\b.txt`},
		{"a lenient backslash", `a\qb`},
		{"a Windows path", `C:\\Windows\\x.txt`},
		{"a NUL", "a\x00b"},
		{"a control character", "a\x01b"},
		{"a tab", "a\tb"},
		{"a newline", "a\nb"},
		{"DEL", "a\x7fb"},
		{"a C1 control character", "a\u0085b"},
		{"dot", `.`},
		{"dot dot", `..`},
		{"256 bytes", strings.Repeat("n", 256)},
		{"256 bytes of two-byte letters", strings.Repeat("ж", 128)},
		{"invalid UTF-8", "\xff.txt"},
		{"truncated UTF-8", "a\xd0"},
		{"empty", ``},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			ivan.t, olga.t = t, t
			ivan.send([]byte(`{"text":"file","attachment":"`+tc.wire+`"}`), smuggled)
			t.Logf("error: %s", refusedOnce(t, ivan, olga))
		})
	}
	accepted := []string{
		strings.Repeat("n", 255),
		strings.Repeat("€", 85), // 255 bytes
		"фото 1.jpg",
		"名前.txt",
		"name with spaces.txt",
		".hidden",
		"...",
		"..x",
		"x..",
		`say "cheese".jpg`,
		"a:b*c?.txt",
		"🎉",
		"-rf",
		" ",
		"trailing space ",
		"\uffff\U0010ffff",
	}
	for i, name := range accepted {
		t.Run("accepted: "+name, func(t *testing.T) {
			ivan.t, olga.t = t, t
			payload := bytes.Repeat([]byte{byte(i)}, i+1)
			ivan.sendFile("file", name, payload)
			olga.expectFile("Ivan", "file", name, payload)
		})
	}
	ivan.t, olga.t = t, t
	barrier(olga, ivan, "no echo")
}

// §1: a payload may be empty, and an empty payload is relayed as such.
func TestEmptyPayloadIsRelayed(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga", "Petr")
	ivan, olga, petr := c[0], c[1], c[2]
	ivan.sendFile("nothing", "empty.txt", []byte{})
	olga.expectFile("Ivan", "nothing", "empty.txt", []byte{})
	petr.expectFile("Ivan", "nothing", "empty.txt", []byte{})
	// An empty payload whose bytes look like a record must not confuse anyone.
	ivan.sendFile("record-like", "r.json", smuggled)
	olga.expectFile("Ivan", "record-like", "r.json", smuggled)
	petr.expectFile("Ivan", "record-like", "r.json", smuggled)
	barrier(olga, ivan, "sync")
}

// §5: the record limit (64 KiB by default) refuses longer records but
// keeps the connection; only over 1 MiB is the connection ended.
func TestRecordLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	record := func(size int) []byte {
		pad := size - len(`{"text":""}`)
		return []byte(`{"text":"` + strings.Repeat("x", pad) + `"}`)
	}

	ivan.send(record(64 << 10))
	olga.expectText("Ivan", strings.Repeat("x", 64<<10-len(`{"text":""}`)))

	for _, size := range []int{64<<10 + 1, 200 << 10, 1 << 20} {
		ivan.send(record(size))
		t.Logf("%d bytes: error: %s", size, refusedOnce(t, ivan, olga))
	}

	// A record over the limit is dropped on its own: a payload behind it
	// is read as the next record.
	over := append(record(64<<10 + 1)[:len(record(64<<10+1))-1], []byte(`,"attachment":"a.txt"}`)...)
	ivan.send(over, dict("text", "read as a record"))
	ivan.expectError()
	olga.expectText("Ivan", "read as a record")

	// A payload frame is not a record: it may be longer than 1 MiB.
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	ivan.sendFile("big", "big.bin", big)
	olga.expectFile("Ivan", "big", "big.bin", big)
	barrier(olga, ivan, "still in step")
}

// §5: an attachment over --max-attachment is refused with its payload
// dropped; one of exactly the limit is relayed.
func TestAttachmentSizeLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--max-attachment", "1KiB")
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]

	exact := bytes.Repeat([]byte("e"), 1024)
	ivan.sendFile("exact", "exact.bin", exact)
	olga.expectFile("Ivan", "exact", "exact.bin", exact)

	over := append(bytes.Repeat([]byte("o"), 1024), smuggled...)
	ivan.sendFile("over", "over.bin", over)
	t.Logf("error: %s", refusedOnce(t, ivan, olga))

	huge := bytes.Repeat([]byte("h"), 5<<20)
	ivan.sendFile("huge", "huge.bin", huge)
	t.Logf("error: %s", refusedOnce(t, ivan, olga))
}

// §3.3: the receiver's frames for an attachment are in the order record,
// payload; several messages in one write are all read.
func TestMessagesAfterLoginInOneWrite(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	ivan.send(dict("text", "1"), dict("text", "2", "attachment", "2.txt"), []byte("two"),
		[]byte(`{"bad"}`), dict("text", "3"))
	olga.expectText("Ivan", "1")
	olga.expectFile("Ivan", "2", "2.txt", []byte("two"))
	olga.expectText("Ivan", "3")
	require.Equal(t, reasonMalformed, ivan.expectError())
	barrier(olga, ivan, "one notice")
}

// After login, a second login record is a message without a text: it is
// refused with an error notice (not a status reply) and changes nothing.
func TestSecondLoginIsARefusedMessage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Olga")
	ivan, olga := c[0], c[1]
	ivan.send(dict("nickname", "Petr"))
	t.Logf("error: %s", refusedOnce(t, ivan, olga))
	barrier(ivan, olga, "still Ivan")
}
