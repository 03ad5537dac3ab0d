package terminal_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/terminal"
	"pcx/ports"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var at = time.Date(2021, 9, 27, 12, 34, 56, 0, time.UTC)

// hhmm is at as the local clock shows it.
var hhmm = at.Local().Format("15:04")

func TestScriptedReadsLinesThenEOF(t *testing.T) {
	ui := terminal.NewScripted(strings.NewReader("hello\r\n\nlast"), io.Discard, io.Discard)
	ctx := context.Background()

	var got []string
	for {
		line, err := ui.ReadLine(ctx, ports.PromptText)
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		got = append(got, line)
	}
	assert.Equal(t, []string{"hello", "", "last"}, got)
	assert.False(t, ui.Interactive())
}

func TestReadLineEndsWhenTheContextDoes(t *testing.T) {
	in, feed := io.Pipe()
	ui := terminal.NewScripted(in, io.Discard, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := ui.ReadLine(ctx, ports.PromptText)
	require.ErrorIs(t, err, context.Canceled)

	// A line that was in flight is not lost: the next call gets it.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() { io.WriteString(feed, "kept\n") }()
	line, err := ui.ReadLine(ctx2, ports.PromptText)
	require.NoError(t, err)
	assert.Equal(t, "kept", line)
	feed.Close()
}

func TestReadLineInFlightIsKeptAfterACancel(t *testing.T) {
	in, feed := io.Pipe()
	defer feed.Close()
	ui := terminal.NewScripted(in, io.Discard, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(time.Millisecond) // let the read start; either order is correct
		cancel()
	}()
	_, err := ui.ReadLine(ctx, ports.PromptText)
	require.ErrorIs(t, err, context.Canceled)

	go func() { io.WriteString(feed, "kept\n") }()
	line, err := ui.ReadLine(context.Background(), ports.PromptText)
	require.NoError(t, err)
	assert.Equal(t, "kept", line)
}

func TestScriptedShow(t *testing.T) {
	cases := []struct {
		name   string
		event  ports.Event
		out    string
		errOut string
	}{
		{
			name:  "message",
			event: ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Ivan", Text: "Hello"},
			out:   "<" + hhmm + "> Ivan: Hello\n",
		},
		{
			name:  "notice, not coloured",
			event: ports.Event{Kind: ports.EventNotice, Time: at, Nickname: "SERVER", Text: `User "Olga" connected`},
			out:   "<" + hhmm + `> SERVER: User "Olga" connected` + "\n",
		},
		{
			name:  "saved file",
			event: ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "look", Attachment: "../p.jpg", SavedAs: "p (1).jpg"},
			out:   "<" + hhmm + "> Olga: look\n" + `        └ file "../p.jpg" saved as "p (1).jpg"` + "\n",
		},
		{
			name:  "file not saved",
			event: ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "look", Attachment: "p.jpg", SaveError: "disk full"},
			out:   "<" + hhmm + "> Olga: look\n" + `        └ file "p.jpg" not saved: disk full` + "\n",
		},
		{
			name:  "escapes from a peer are removed",
			event: ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Ol\x1b[2Jga", Text: "\x1b]0;pwned\x07hi\x1b[31m there\r\x00", Attachment: "\x1b[31mx", SavedAs: "x"},
			out:   "<" + hhmm + `> "Ol\x1b[2Jga": hi there` + "\n" + `        └ file "\x1b[31mx" saved as "x"` + "\n",
		},
		{
			name:  "a multi-line text marks every further line",
			event: ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "one\ntwo\u2028three\n"},
			out:   "<" + hhmm + "> Olga: one\n        │ two\n        │ three\n        │ \n",
		},
		{
			name:  "who is online",
			event: ports.Event{Kind: ports.EventWho, Time: at, Nickname: "SERVER", Text: "Online (2): Ivan, x y", Users: []string{"Ivan", "x y"}},
			out:   "<" + hhmm + `> SERVER: online (2): Ivan, "x y"` + "\n",
		},
		{
			name:   "login goes to standard error",
			event:  ports.Event{Kind: ports.EventLoggedIn, Nickname: "Ivan"},
			errOut: "* logged in as Ivan; type a message, /help for help, or \\q to leave\n",
		},
		{
			name:   "a sent file goes to standard error",
			event:  ports.Event{Kind: ports.EventSent, Attachment: "a.bin", Size: 2048},
			errOut: `* sent "a.bin" (2.0 KiB)` + "\n",
		},
		{
			name:  "a final loss is left to the caller",
			event: ports.Event{Kind: ports.EventLost, Text: "EOF"},
		},
		{
			name:   "a loss before a retry is said",
			event:  ports.Event{Kind: ports.EventLost, Text: "EOF", Retry: time.Second},
			errOut: "* the connection to the server is lost (EOF); trying again in 1s; what you type is kept\n",
		},
		{
			name:   "info goes to standard error",
			event:  ports.Event{Kind: ports.EventInfo, Text: "logged in"},
			errOut: "* logged in\n",
		},
		{
			name:   "error goes to standard error",
			event:  ports.Event{Kind: ports.EventError, Text: "cannot attach"},
			errOut: "! cannot attach\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			ui := terminal.NewScripted(strings.NewReader(""), &out, &errOut)

			ui.Show(tc.event)

			assert.Equal(t, tc.out, out.String())
			assert.Equal(t, tc.errOut, errOut.String())
		})
	}
}

// TestForgedLinesCannotPassForOthers sends the forgeries of issue 9: each
// must stay attributable to the one message that carried it.
func TestForgedLinesCannotPassForOthers(t *testing.T) {
	show := func(e ports.Event) []string {
		var out bytes.Buffer
		ui := terminal.NewScripted(strings.NewReader(""), &out, io.Discard)
		ui.Show(e)
		return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	}
	real := show(ports.Event{Kind: ports.EventNotice, Time: at, Nickname: "SERVER", Text: `User "admin" connected`})
	require.Len(t, real, 1)

	t.Run("a notice inside a text", func(t *testing.T) {
		got := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: "hi\n" + real[0]})
		require.Len(t, got, 2)
		assert.Equal(t, "<"+hhmm+"> Eve: hi", got[0])
		assert.NotEqual(t, real[0], got[1])
		assert.True(t, strings.HasPrefix(got[1], "        │ "), "a continuation is marked: %q", got[1])
	})
	t.Run("a notice after a carriage return or a Unicode line break", func(t *testing.T) {
		for _, sep := range []string{"\r", "\u2028", "\u2029", "\u0085", "\v", "\f"} {
			got := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: "hi" + sep + real[0]})
			for _, l := range got[1:] {
				assert.True(t, strings.HasPrefix(l, "        │ "), "%q gives %q", sep, got)
			}
			assert.True(t, strings.HasPrefix(got[0], "<"+hhmm+"> Eve: "), "%q gives %q", sep, got)
		}
	})
	t.Run("a nickname with a bracket", func(t *testing.T) {
		a := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "x]y", Text: "hello]"})
		b := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "x", Text: "y] hello]"})
		assert.Equal(t, []string{"<" + hhmm + "> x]y: hello]"}, a)
		assert.NotEqual(t, a, b)
	})
	t.Run("a nickname with a colon and a space", func(t *testing.T) {
		a := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "x: y", Text: "hello"})
		b := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "x", Text: "y: hello"})
		assert.Equal(t, []string{"<" + hhmm + `> "x: y": hello`}, a)
		assert.NotEqual(t, a, b)
	})
	t.Run("a nickname that hides a bidi override", func(t *testing.T) {
		got := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Iv\u202ean", Text: "hi"})
		assert.Equal(t, []string{"<" + hhmm + `> "Iv\u202ean": hi`}, got)
	})
	t.Run("a file notice at the end of a text", func(t *testing.T) {
		forged := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: "look\n" + `        └ file "x" saved as "evil.sh"`})
		realFile := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: "look", Attachment: "x", SavedAs: "evil.sh"})
		assert.NotEqual(t, realFile[1], forged[1])
		assert.Equal(t, []string{"<" + hhmm + "> Eve: look (saved as evil.sh)"}, show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: "look (saved as evil.sh)"}),
			"the old notice inside a text is only text: the file line is a line of its own")
	})
	t.Run("an attachment name with a line break", func(t *testing.T) {
		got := show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: "x", Attachment: "a\n" + real[0], SavedAs: "a"})
		require.Len(t, got, 2, "the name stays on the file line: %q", got)
	})
}

func TestSecondsAreShownWhenAsked(t *testing.T) {
	var out bytes.Buffer
	ui := terminal.NewScripted(strings.NewReader(""), &out, io.Discard, terminal.Options{Seconds: true})
	ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Ivan", Text: "Hello"})
	assert.Equal(t, "<"+at.Local().Format("15:04:05")+"> Ivan: Hello\n", out.String())
}

func TestScriptedShowsNoProgress(t *testing.T) {
	ui := terminal.NewScripted(strings.NewReader(""), io.Discard, io.Discard)
	r := strings.NewReader("x")

	got, done := ui.Track("big", 10<<20, ports.Receiving, r)
	done()

	assert.Same(t, r, got)
}
