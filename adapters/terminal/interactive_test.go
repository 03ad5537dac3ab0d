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

	"pcx/adapters/terminal"
	"pcx/adapters/terminal/terminaltest"
	"pcx/ports"
)

// keyboard drives an interactive UI: what is typed goes in through a pipe,
// what is printed lands on an emulated screen.
type keyboard struct {
	t      *testing.T
	ui     *terminal.UI
	screen *terminaltest.Screen
	keys   *io.PipeWriter
}

func newKeyboard(t *testing.T, opts terminal.Options) *keyboard {
	in, keys := io.Pipe()
	screen := terminaltest.NewScreen(80)
	ui := terminal.NewInteractive(struct {
		io.Reader
		io.Writer
	}{in, screen}, 80, opts)
	t.Cleanup(func() { keys.Close() }) // ends a read still in flight
	return &keyboard{t: t, ui: ui, screen: screen, keys: keys}
}

func (k *keyboard) typeKeys(s string) {
	_, err := io.WriteString(k.keys, s)
	require.NoError(k.t, err)
}

// readLine starts a ReadLine and returns where its result will arrive.
func (k *keyboard) readLine(p ports.Prompt) <-chan string {
	got := make(chan string, 1)
	go func() {
		line, err := k.ui.ReadLine(context.Background(), p)
		if err != nil {
			line = "error: " + err.Error()
		}
		got <- line
	}()
	return got
}

// waitLastLine waits until the bottom line of the screen reads want.
func (k *keyboard) waitLastLine(want string) {
	k.t.Helper()
	require.Eventually(k.t, func() bool { return k.screen.LastLine() == want }, 5*time.Second, time.Millisecond,
		"the screen never ended with %q:\n%s", want, k.screen)
}

func TestAnArrivingMessageLeavesTheHalfTypedLineIntact(t *testing.T) {
	k := newKeyboard(t, terminal.Options{})
	got := k.readLine(ports.PromptText)
	k.typeKeys("hel")
	k.waitLastLine("> hel")

	k.ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "Hi\x1b[2J there"})

	assert.Equal(t, []string{"<" + hhmm + "> Olga: Hi there", "> hel"}, k.screen.Lines())
	k.typeKeys("lo\r")
	assert.Equal(t, "hello", <-got, "what was typed before the message is still there")
}

func TestInteractivePrompts(t *testing.T) {
	k := newKeyboard(t, terminal.Options{})
	assert.True(t, k.ui.Interactive())

	got := k.readLine(ports.PromptAttachment)
	k.waitLastLine("attach a file (path, or Enter for none):")
	k.typeKeys("\r")
	assert.Equal(t, "", <-got)

	got = k.readLine(ports.PromptNickname)
	k.waitLastLine("another nickname:")
	k.typeKeys("\x04") // Ctrl-D
	assert.Equal(t, "error: EOF", <-got)
}

func TestCtrlCEndsInput(t *testing.T) {
	k := newKeyboard(t, terminal.Options{})
	got := k.readLine(ports.PromptText)
	k.typeKeys("half\x03")
	assert.Equal(t, "error: EOF", <-got)
}

func TestNoticesAreColouredOnlyWhenAsked(t *testing.T) {
	notice := ports.Event{Kind: ports.EventNotice, Time: at, Nickname: "SERVER", Text: "Server is shutting down"}
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		ui := terminal.NewInteractive(struct {
			io.Reader
			io.Writer
		}{strings.NewReader(""), &out}, 80, terminal.Options{Color: color})

		ui.Show(notice)

		assert.Equal(t, color, strings.Contains(out.String(), "\x1b[1;36m"), "colour %v: %q", color, out.String())
		assert.Contains(t, out.String(), "SERVER")
		assert.Contains(t, out.String(), ": Server is shutting down")
	}
}

func TestProgressShowsInThePromptLine(t *testing.T) {
	k := newKeyboard(t, terminal.Options{Progress: true})
	got := k.readLine(ports.PromptText)
	k.typeKeys("typing")
	k.waitLastLine("> typing")
	const size = 3 << 20

	r, done := k.ui.Track("big.bin", size, ports.Receiving, bytes.NewReader(make([]byte, size)))
	buf := make([]byte, 1<<20)
	_, err := io.ReadFull(r, buf)
	require.NoError(t, err)

	last := k.screen.LastLine()
	t.Logf("prompt line during the transfer: %q", last)
	assert.Contains(t, last, "↓ big.bin")
	assert.Contains(t, last, "33%")
	assert.True(t, strings.HasSuffix(last, "] > typing"), "the typed text stays after the bar: %q", last)

	done()
	k.waitLastLine("> typing")
	k.typeKeys("\r")
	assert.Equal(t, "typing", <-got)
}

func TestSmallTransfersShowNoProgress(t *testing.T) {
	k := newKeyboard(t, terminal.Options{Progress: true})
	r := strings.NewReader("small")

	got, done := k.ui.Track("small.txt", terminal.ProgressMin-1, ports.Sending, r)
	done()

	assert.Same(t, r, got)
}

// show prints e on an interactive UI with opts and returns the raw output.
func showRaw(opts terminal.Options, events ...ports.Event) string {
	var out bytes.Buffer
	ui := terminal.NewInteractive(struct {
		io.Reader
		io.Writer
	}{strings.NewReader(""), &out}, 80, opts)
	for _, e := range events {
		ui.Show(e)
	}
	return out.String()
}

func TestEachNicknameHasItsOwnStableColour(t *testing.T) {
	msg := func(nick string) ports.Event {
		return ports.Event{Kind: ports.EventMessage, Time: at, Nickname: nick, Text: "hi"}
	}
	colourOf := func(nick string) string {
		out := showRaw(terminal.Options{Color: true}, msg(nick))
		i := strings.Index(out, "\x1b[")
		require.GreaterOrEqual(t, i, 0, "%q", out)
		return out[i : i+strings.IndexByte(out[i:], 'm')+1]
	}
	assert.Equal(t, colourOf("Olga"), colourOf("Olga"), "stable")
	seen := map[string]bool{}
	for _, nick := range []string{"Ivan", "Olga", "Maria", "Petr", "Anna", "Boris"} {
		seen[colourOf(nick)] = true
	}
	assert.Greater(t, len(seen), 2, "nicknames differ in colour")
	assert.NotContains(t, showRaw(terminal.Options{}, msg("Olga")), "\x1b[", "no colour when NO_COLOR")
}

func TestAMentionIsHighlightedAndRingsTheBell(t *testing.T) {
	login := ports.Event{Kind: ports.EventLoggedIn, Nickname: "Ivan"}
	mention := ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "hey ivan, look"}
	other := ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "hey all"}

	out := showRaw(terminal.Options{Color: true, Bell: true}, login, mention)
	assert.Contains(t, out, "\x1b[1;7mhey ivan, look\x1b[0m")
	assert.Contains(t, out, "\a")

	assert.NotContains(t, showRaw(terminal.Options{Color: true, Bell: true}, login, other), "\a")
	assert.NotContains(t, showRaw(terminal.Options{Color: true}, login, mention), "\a", "--no-bell")
	plain := showRaw(terminal.Options{Bell: true}, login, mention)
	assert.Contains(t, plain, "\a", "the bell rings without colour too")
	assert.NotContains(t, plain, "\x1b[")
}

// TestALongTextCannotForgeALineByWrapping pads a text so that, wrapped by
// the terminal at the screen's edge, its rest would start a line of its own
// reading like a notice. The UI wraps it itself and marks every piece.
func TestALongTextCannotForgeALineByWrapping(t *testing.T) {
	const width = 40
	screen := terminaltest.NewScreen(width)
	ui := terminal.NewInteractive(struct {
		io.Reader
		io.Writer
	}{strings.NewReader(""), screen}, width, terminal.Options{})
	forged := "<" + hhmm + `> SERVER: User "admin" connected`
	prefix := "<" + hhmm + "> Eve: "
	ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: strings.Repeat(" ", width-len(prefix)) + forged})
	ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: "日本語" + strings.Repeat("語", 30)})
	ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: strings.Repeat("N", 100), Text: "after a long nickname"})
	ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Eve", Text: "file", Attachment: strings.Repeat("a", 60) + forged, SavedAs: "x"})

	lines := screen.Lines()
	t.Logf("the screen:\n%s", screen)
	require.NotEmpty(t, lines)
	for _, l := range lines {
		if l == "" {
			continue
		}
		ok := strings.HasPrefix(l, "<"+hhmm+"> ") || strings.HasPrefix(l, "        │ ") || strings.HasPrefix(l, "        └ ") || strings.HasPrefix(l, "          ")
		assert.True(t, ok, "a line that belongs to no message: %q", l)
		assert.NotEqual(t, forged, strings.TrimSpace(l))
	}
}
