package terminal

import (
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"pcx/internal/ansi"
	"pcx/ports"
)

// Track implements ports.UI. In the interactive mode a transfer of
// ProgressMin bytes or more shows a progress bar (bytes, speed, time left)
// drawn by progressbar/v3. The bar goes in front of the prompt, through the
// line editor: a bar written straight to the terminal would land in the
// middle of the line being typed.
func (ui *UI) Track(name string, size int64, dir ports.Direction, r io.Reader) (io.Reader, func()) {
	if ui.editor == nil || !ui.opts.Progress || size < ProgressMin {
		return r, func() {}
	}
	b := &bar{ui: ui}
	arrow := "↑ "
	if dir == ports.Receiving {
		arrow = "↓ "
	}
	b.pb = progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(b),
		progressbar.OptionSetDescription(arrow+shorten(clean(name), 20)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(10),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionUseANSICodes(false),
		progressbar.OptionEnableColorCodes(false),
	)
	ui.promptMu.Lock()
	ui.bars = append(ui.bars, b)
	ui.promptMu.Unlock()
	reader := progressbar.NewReader(r, b.pb)
	var once sync.Once
	return &reader, func() { once.Do(func() { ui.dropBar(b) }) }
}

func (ui *UI) dropBar(b *bar) {
	ui.promptMu.Lock()
	defer ui.promptMu.Unlock()
	ui.bars = slices.DeleteFunc(ui.bars, func(x *bar) bool { return x == b })
	ui.repaintPrompt()
}

// bar is one transfer's progress. progressbar renders it into Write.
type bar struct {
	ui *UI
	pb *progressbar.ProgressBar

	mu   sync.Mutex // guards last
	last string     // the latest rendering, one line without escapes
}

// Write takes one rendering of the bar ("\r" and the bar, or a clearing
// of the line) and shows it in the prompt.
func (b *bar) Write(p []byte) (int, error) {
	s := string(p)
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(ansi.Strip(s))
	if s == "" {
		return len(p), nil // a clearing: the next rendering replaces it
	}
	b.mu.Lock()
	b.last = s
	b.mu.Unlock()
	b.ui.promptMu.Lock()
	defer b.ui.promptMu.Unlock()
	b.ui.repaintPrompt()
	return len(p), nil
}

func (b *bar) text() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
