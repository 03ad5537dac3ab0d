package terminal

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// Console is a UI on the process's own standard streams, with what it
// takes to give the terminal back.
type Console struct {
	*UI
	restore func()
}

// Open returns the UI for standard input and output: interactive when both
// are terminals, scripted otherwise. In the interactive mode the terminal
// is put in raw mode, with bracketed paste on (so that a pasted text with
// line breaks comes as one), and follows window resizes until Close;
// colour is on unless NO_COLOR is set (https://no-color.org), and progress
// is shown.
// Of opts, Color is ignored (NO_COLOR decides) and Progress always on.
func Open(stdin, stdout *os.File, stderr io.Writer, opts Options) (*Console, error) {
	in, out := int(stdin.Fd()), int(stdout.Fd())
	if !term.IsTerminal(in) || !term.IsTerminal(out) {
		return &Console{UI: NewScripted(stdin, stdout, stderr, opts), restore: func() {}}, nil
	}
	state, err := term.MakeRaw(in)
	if err != nil {
		return nil, fmt.Errorf("terminal: raw mode: %w", err)
	}
	width, _, err := term.GetSize(out)
	if err != nil {
		width = 80
	}
	opts.Color = os.Getenv("NO_COLOR") == ""
	opts.Progress = true
	ui := NewInteractive(struct {
		io.Reader
		io.Writer
	}{stdin, stdout}, width, opts)
	stdout.WriteString(bracketedPasteOn)

	resized := make(chan os.Signal, 1)
	signal.Notify(resized, syscall.SIGWINCH)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for range resized {
			if w, _, err := term.GetSize(out); err == nil {
				ui.Resize(w)
			}
		}
	}()
	restore := func() {
		signal.Stop(resized)
		close(resized)
		<-stopped
		// Clear the prompt and whatever was typed after it, so that what
		// is printed next starts on a clean line.
		stdout.WriteString("\r\x1b[K" + bracketedPasteOff)
		term.Restore(in, state)
	}
	return &Console{UI: ui, restore: restore}, nil
}

// Bracketed paste mode: the terminal sends a paste between ESC [ 200 ~ and
// ESC [ 201 ~.
const (
	bracketedPasteOn  = "\x1b[?2004h"
	bracketedPasteOff = "\x1b[?2004l"
)

// Close gives the terminal back as it was. Call it once, before anything
// else is printed.
func (c *Console) Close() { c.restore() }
