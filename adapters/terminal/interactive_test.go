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

	assert.Equal(t, []string{"<" + hhmm + "> [Olga] Hi there", "> hel"}, k.screen.Lines())
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
		assert.Contains(t, out.String(), "[SERVER] Server is shutting down")
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
