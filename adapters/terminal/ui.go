// Package terminal is the client's user interface on a text terminal
// (ports.UI). It works in one of two modes, chosen by whoever builds it:
//
//   - interactive, when a person sits at a terminal: a line editor
//     (editor.go) reads the input in raw mode and redraws the prompt and
//     the half-typed line below every line printed, so arriving messages
//     never garble what the user types; it edits by grapheme cluster and
//     display width, takes a bracketed paste as one text, keeps the
//     messages sent in a history and completes paths at the attachment
//     prompt; progress of large transfers shows in the prompt line;
//     SERVER notices are coloured unless NO_COLOR says otherwise;
//   - scripted, when input comes from a file or a pipe: no prompts, no
//     colour, no progress; messages go to standard output one a line, the
//     client's own remarks to standard error.
//
// Every text a peer sent is made harmless before it is shown: escape
// sequences and control characters are removed.
package terminal

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pcx/ports"
)

// ProgressMin is the smallest file whose transfer shows progress.
const ProgressMin = 1 << 20

// Options tune the output.
type Options struct {
	// Color colours SERVER notices and the client's own remarks.
	Color bool
	// Progress shows the progress of transfers of ProgressMin bytes or
	// more.
	Progress bool
	// Seconds shows times as HH:MM:SS instead of HH:MM.
	Seconds bool
	// Bell rings the terminal's bell for a message that names the user.
	Bell bool
}

// UI implements ports.UI on a terminal or on plain streams.
type UI struct {
	opts  Options
	lines *lineReader
	now   func() time.Time // the time of an event the server did not stamp
	// width is the screen's width in columns, 0 when unknown (scripted):
	// texts are wrapped to it, each piece marked, so that the terminal
	// never wraps a line where it cannot be marked.
	width atomic.Int32

	// Interactive mode: editor is the line editor; every write goes
	// through it. Scripted mode: editor is nil.
	editor *editor

	// Scripted mode only: out takes messages, errOut the client's own
	// remarks. mu serialises writes to them, and guards self.
	mu     sync.Mutex
	out    io.Writer
	errOut io.Writer
	self   string // the user's nickname once logged in; guarded by mu

	// bars are the transfers in progress, shown before the prompt.
	// promptMu guards them, and orders the changes of what the editor
	// shows before the prompt.
	promptMu sync.Mutex
	bars     []*bar
}

var _ ports.UI = (*UI)(nil)

// NewScripted returns a UI that reads lines from in, writes messages to out
// and remarks to errOut, and asks nothing. It never colours, rings nor
// shows progress. Of opts, only the first counts, and only its Seconds.
func NewScripted(in io.Reader, out, errOut io.Writer, opts ...Options) *UI {
	ui := &UI{out: out, errOut: errOut, now: time.Now}
	if len(opts) > 0 {
		ui.opts.Seconds = opts[0].Seconds
	}
	ui.lines = newLineReader(newScriptReader(in).readLine)
	return ui
}

// NewInteractive returns a UI that edits lines on the terminal behind rw,
// which must already be in raw mode (see Open), of the given width.
func NewInteractive(rw io.ReadWriter, width int, opts Options) *UI {
	ui := &UI{opts: opts, now: time.Now}
	ui.editor = newEditor(rw, width)
	ui.width.Store(int32(max(width, 0)))
	ui.lines = newLineReader(ui.readTerminal)
	return ui
}

// Resize tells an interactive UI that the terminal is now width columns
// wide.
func (ui *UI) Resize(width int) {
	if ui.editor != nil {
		ui.editor.resize(width)
		ui.width.Store(int32(max(width, 0)))
	}
}

// Interactive implements ports.UI.
func (ui *UI) Interactive() bool { return ui.editor != nil }

// ReadLine implements ports.UI.
func (ui *UI) ReadLine(ctx context.Context, p ports.Prompt) (string, error) {
	return ui.lines.readLine(ctx, p)
}

// readTerminal reads one line with the line editor, after the question p.
// Only the messages typed go in the history, and only a path is completed.
func (ui *UI) readTerminal(p ports.Prompt) (string, error) {
	opts := lineOptions{history: p == ports.PromptText}
	if p == ports.PromptAttachment {
		opts.complete = completePath
	}
	return ui.editor.readLine(prompts[p], opts)
}

// prompts are the questions of the interactive mode.
var prompts = map[ports.Prompt]string{
	ports.PromptText:       "> ",
	ports.PromptAttachment: "attach a file (path, or Enter for none): ",
	ports.PromptNickname:   "another nickname: ",
}

// Show implements ports.UI.
func (ui *UI) Show(e ports.Event) {
	if e.Kind == ports.EventLost && e.Retry == 0 {
		return // the caller of the client says it, as the last word
	}
	ui.mu.Lock()
	if e.Kind == ports.EventLoggedIn {
		ui.self = e.Nickname
	}
	r := ui.render(e, ui.self)
	ui.mu.Unlock()
	text := strings.Join(r.lines, "\n") + "\n"
	if r.mention && ui.opts.Bell {
		text += "\a"
	}
	if ui.editor != nil {
		ui.editor.print(text)
		return
	}
	w := ui.out
	switch e.Kind {
	case ports.EventInfo, ports.EventError, ports.EventLoggedIn, ports.EventSent, ports.EventLost:
		w = ui.errOut
	}
	ui.mu.Lock()
	defer ui.mu.Unlock()
	io.WriteString(w, text)
}

// repaintPrompt shows the transfers in progress before the prompt at
// once. promptMu must be held.
func (ui *UI) repaintPrompt() {
	var b strings.Builder
	for _, bar := range ui.bars {
		b.WriteString("[" + bar.text() + "] ")
	}
	ui.editor.setStatus(b.String())
}
