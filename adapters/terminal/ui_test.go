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
			out:   "<" + hhmm + "> [Ivan] Hello\n",
		},
		{
			name:  "notice, not coloured",
			event: ports.Event{Kind: ports.EventNotice, Time: at, Nickname: "SERVER", Text: `User "Olga" connected`},
			out:   "<" + hhmm + `> [SERVER] User "Olga" connected` + "\n",
		},
		{
			name:  "saved file",
			event: ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "look", Attachment: "../p.jpg", SavedAs: "p (1).jpg"},
			out:   "<" + hhmm + "> [Olga] look (saved as p (1).jpg)\n",
		},
		{
			name:  "file not saved",
			event: ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "look", Attachment: "p.jpg", SaveError: "disk full"},
			out:   "<" + hhmm + `> [Olga] look (file "p.jpg" not saved: disk full)` + "\n",
		},
		{
			name:  "escapes from a peer are removed",
			event: ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Ol\x1b[2Jga", Text: "\x1b]0;pwned\x07hi\x1b[31m there\r\x00", Attachment: "\x1b[31mx", SavedAs: "x"},
			out:   "<" + hhmm + "> [Olga] hi there (saved as x)\n",
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

func TestScriptedShowsNoProgress(t *testing.T) {
	ui := terminal.NewScripted(strings.NewReader(""), io.Discard, io.Discard)
	r := strings.NewReader("x")

	got, done := ui.Track("big", 10<<20, ports.Receiving, r)
	done()

	assert.Same(t, r, got)
}
