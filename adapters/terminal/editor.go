package terminal

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/rivo/uniseg"
)

// editor is the interactive mode's line editor, written on uniseg because
// golang.org/x/term's counts a wide character or an emoji as one column
// and a combining mark as one, and so draws a line that is not the line
// it returns.
//
// The prompt and the line being typed take one row, never the last column
// of it: a line wider than the row scrolls sideways, with … at the edge
// that hides text. One row is what can be redrawn without knowing where
// the terminal wrapped it, so that lines printed above it (Show) and a
// change of width never leave a stale copy behind. The cursor is put back
// with ESC 7 / ESC 8 (save and restore), so it lands after what the
// terminal drew even where the terminal's idea of a character's width
// differs from uniseg's.
//
// One goroutine reads keys (readLine); any goroutine may print above the
// line, change the status in front of the prompt, or the width.
type editor struct {
	in *bufio.Reader // only readLine reads it; ports.UI allows one reader

	// mu guards every field below, and orders the writes to out so that a
	// line printed from one goroutine never lands inside the redraw of
	// another. The writes go to the user's terminal, which takes them as
	// fast as it draws; nothing else waits for mu.
	mu      sync.Mutex
	out     io.Writer
	width   int
	status  string // transfers in progress, shown before the prompt
	prompt  string
	editing bool // the prompt and the line are on screen, the cursor in them
	line    line
	scroll  int // the first cluster shown when the line scrolls sideways
	// drawn is the width of each character of the row last drawn, and
	// drawnCursor the index of the one the cursor is on: where a terminal
	// that reflows puts the cursor when the window narrows.
	drawn       []int
	drawnCursor int
	options     lineOptions
	history     []string // the messages sent, oldest first
	recalled    int      // the index in history of the line shown; len(history) for the draft
	draft       string   // the line typed before going up the history
}

// lineOptions say what a prompt keeps and completes.
type lineOptions struct {
	// history: the line read goes in the history, and the arrow keys
	// bring back earlier ones.
	history bool
	// complete, if set, completes the text before the cursor on Tab and
	// returns it with the candidates it chose from.
	complete func(before string) (completed string, candidates []string)
}

func newEditor(rw io.ReadWriter, width int) *editor {
	if width <= 0 {
		width = 80
	}
	return &editor{in: bufio.NewReader(rw), out: rw, width: width}
}

// readLine shows prompt and edits a line until Enter, and returns it. It
// returns io.EOF on Ctrl-C, and on Ctrl-D on an empty line.
func (e *editor) readLine(prompt string, opts lineOptions) (string, error) {
	e.start(prompt, opts)
	for {
		k, err := readKey(e.in)
		if err != nil {
			e.stopEditing()
			if err == io.EOF {
				return "", err
			}
			return "", fmt.Errorf("terminal: read: %w", err)
		}
		if k.code == keyTab && opts.complete != nil {
			e.complete(opts.complete)
			continue
		}
		e.mu.Lock()
		text, done, err := e.apply(k)
		e.mu.Unlock()
		if done {
			return text, err
		}
	}
}

// start shows prompt and an empty line.
func (e *editor) start(prompt string, opts lineOptions) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prompt, e.options, e.editing = prompt, opts, true
	e.line.set("", 0)
	e.scroll, e.recalled, e.draft = 0, len(e.history), ""
	e.redraw()
}

// apply does what k asks; done says the line is finished. mu must be held.
func (e *editor) apply(k key) (text string, done bool, err error) {
	l := &e.line
	switch k.code {
	case keyEnter:
		return e.accept(), true, nil
	case keyInterrupt:
		e.clear()
		return "", true, io.EOF
	case keyEOF:
		if l.len() == 0 {
			e.clear()
			return "", true, io.EOF
		}
		l.erase(l.pos, min(l.pos+1, l.len()))
	case keyText, keyPaste:
		l.insert(k.text)
	case keyNewline:
		l.insert("\n")
	case keyBackspace:
		l.erase(max(l.pos-1, 0), l.pos)
	case keyDelete:
		l.erase(l.pos, min(l.pos+1, l.len()))
	case keyLeft:
		l.pos = max(l.pos-1, 0)
	case keyRight:
		l.pos = min(l.pos+1, l.len())
	case keyWordLeft:
		l.pos = l.wordLeft()
	case keyWordRight:
		l.pos = l.wordRight()
	case keyHome:
		l.pos = 0
	case keyEnd:
		l.pos = l.len()
	case keyKillLeft:
		l.erase(0, l.pos)
	case keyKillRight:
		l.erase(l.pos, l.len())
	case keyKillWordLeft:
		l.erase(l.wordLeft(), l.pos)
	case keyKillWordRight:
		l.erase(l.pos, l.wordRight())
	case keyUp:
		e.recall(e.recalled - 1)
	case keyDown:
		e.recall(e.recalled + 1)
	case keyRedraw:
	default:
		return "", false, nil
	}
	e.redraw()
	return "", false, nil
}

// accept ends the line: what was typed stays on screen in full, with its
// line breaks, under the plain prompt, and the cursor goes to the next
// row. mu must be held.
func (e *editor) accept() string {
	text := e.line.String()
	var b bytes.Buffer
	b.WriteString("\r\x1b[K" + e.prompt)
	for _, c := range e.line.clusters {
		if c == "\n" {
			b.WriteString("\r\n  ")
			continue
		}
		s, _ := shown(c)
		b.WriteString(s)
	}
	b.WriteString("\r\n")
	e.out.Write(b.Bytes())
	e.editing = false
	if e.options.history && strings.TrimSpace(text) != "" &&
		(len(e.history) == 0 || e.history[len(e.history)-1] != text) {
		e.history = append(e.history, text)
	}
	return text
}

// recall shows the message at index i of the history, or the draft past
// its end. mu must be held.
func (e *editor) recall(i int) {
	if !e.options.history || i < 0 || i > len(e.history) || i == e.recalled {
		return
	}
	if e.recalled == len(e.history) {
		e.draft = e.line.String()
	}
	e.recalled = i
	text := e.draft
	if i < len(e.history) {
		text = e.history[i]
	}
	e.line.set(text, len(text))
}

// complete completes the text before the cursor; when that adds nothing
// and there is a choice, it lists the candidates above the prompt. The
// completion (which may read a disk) runs without mu: only this goroutine
// changes the line.
func (e *editor) complete(complete func(string) (string, []string)) {
	before := e.line.String()[:e.line.offset(e.line.pos)]
	completed, candidates := complete(before)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case completed != before && strings.HasPrefix(completed, before):
		e.line.insert(completed[len(before):])
		e.redraw()
	case len(candidates) > 1:
		e.printLocked(columns(candidates, e.width-1, maxCandidates))
	default:
		e.out.Write([]byte("\a"))
	}
}

// maxCandidates is how many completions are listed at most.
const maxCandidates = 100

// columns lays names out in rows of at most width columns, two spaces
// apart, listing at most limit of them.
func columns(names []string, width, limit int) string {
	var b strings.Builder
	col := 0
	for i, name := range names {
		if i == limit {
			name = fmt.Sprintf("… and %d more", len(names)-limit)
		}
		w := uniseg.StringWidth(name)
		switch {
		case col == 0:
		case col+2+w > width:
			b.WriteString("\n")
			col = 0
		default:
			b.WriteString("  ")
			col += 2
		}
		b.WriteString(name)
		col += w
		if i == limit {
			break
		}
	}
	return b.String()
}

// print shows text, one or more lines, above the prompt, and redraws the
// prompt and the line under it. A last line break is optional; a bell
// (BEL) at the very end rings once the text is shown.
func (e *editor) print(text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.printLocked(text)
}

// printLocked is print. mu must be held.
func (e *editor) printLocked(text string) {
	bell := strings.HasSuffix(text, "\a")
	text = strings.TrimSuffix(strings.TrimSuffix(text, "\a"), "\n")
	var b bytes.Buffer
	if e.editing {
		b.WriteString("\r\x1b[K")
	}
	b.WriteString(strings.ReplaceAll(text, "\n", "\r\n"))
	b.WriteString("\r\n")
	if bell {
		b.WriteString("\a")
	}
	if e.editing {
		e.render(&b)
	}
	e.out.Write(b.Bytes())
}

// setStatus changes what is shown before the prompt.
func (e *editor) setStatus(status string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if status == e.status {
		return
	}
	e.status = status
	if e.editing {
		e.redraw()
	}
}

// resize takes the terminal's new width. When the window narrows, a
// terminal that reflows (tmux, VTE, kitty, iTerm2, ...) cuts the row of
// the prompt into several and keeps the cursor on its character: the
// editor goes up to the first of them and erases them all before drawing
// the line again. (A terminal that cuts rows instead, as xterm does,
// loses as many printed lines above the prompt as the reflow would have
// added.)
func (e *editor) resize(width int) {
	if width <= 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	narrower := width < e.width
	e.width = width
	if !e.editing {
		return
	}
	var b bytes.Buffer
	if narrower {
		if up := reflowRow(e.drawn, e.drawnCursor, width); up > 0 {
			fmt.Fprintf(&b, "\x1b[%dA", up)
		}
		b.WriteString("\r\x1b[J")
	}
	e.render(&b)
	e.out.Write(b.Bytes())
}

// reflowRow is the row, counted from the first, that a terminal which
// reflows moves the cursor to when a row of characters of the given
// widths, the cursor on the one at index cursor (or past the last), is
// cut at width columns. A wide character that does not fit at the end of
// a row goes to the next; a cursor past a full last row stays on it.
func reflowRow(widths []int, cursor, width int) int {
	row, col := 0, 0
	for i, w := range widths {
		if col+w > width && col > 0 {
			row, col = row+1, 0
		}
		if i == cursor {
			return row
		}
		col += w
	}
	return row
}

// stopEditing clears the row of the prompt when reading ends without a
// line.
func (e *editor) stopEditing() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clear()
}

// clear erases the prompt and the line. mu must be held.
func (e *editor) clear() {
	if e.editing {
		e.out.Write([]byte("\r\x1b[K"))
		e.editing = false
	}
}

// redraw draws the prompt and the line again. mu must be held.
func (e *editor) redraw() {
	var b bytes.Buffer
	e.render(&b)
	e.out.Write(b.Bytes())
}

// render writes the row of the prompt and the line, from its first column,
// and leaves the cursor on it. mu must be held.
func (e *editor) render(b *bytes.Buffer) {
	cols := max(e.width-1, 1) // the last column is never written: no wrap
	l := &e.line
	textWidth := 0
	for _, w := range l.widths {
		textWidth += w
	}
	minEdit := max(cols/3, min(10, cols/2), 1) // columns the prompt leaves to the line
	prompt, promptWidths := fitPrompt(e.status, e.prompt, cols-min(textWidth+1, minEdit))
	editCols := cols
	for _, w := range promptWidths {
		editCols -= w
	}
	win := scrollWindow(l.widths, l.pos, e.scroll, editCols)
	e.scroll = win.start

	e.drawn = append(e.drawn[:0], promptWidths...)
	b.WriteString("\r")
	b.WriteString(prompt)
	if win.left {
		b.WriteString("…")
		e.drawn = append(e.drawn, 1)
	}
	e.drawnCursor = len(e.drawn) + l.pos - win.start
	saved := false
	for i := win.start; i < win.end; i++ {
		if i == l.pos {
			b.WriteString("\x1b7")
			saved = true
		}
		s, _ := shown(l.clusters[i])
		b.WriteString(s)
		e.drawn = append(e.drawn, l.widths[i])
	}
	if !saved { // the cursor is past what is shown (on a row too narrow for it)
		b.WriteString("\x1b7")
		e.drawnCursor = len(e.drawn)
	}
	if win.right {
		b.WriteString("…")
		e.drawn = append(e.drawn, 1)
	}
	b.WriteString("\x1b[K\x1b8")
}

// fitPrompt returns the status and the prompt as they fit in room columns,
// with the width of each character: the status is cut first, at its end,
// then the prompt, at its start.
func fitPrompt(status, prompt string, room int) (string, []int) {
	all := status + prompt
	if widths := clusterWidths(all); sum(widths) <= room {
		return all, widths
	}
	promptWidth := uniseg.StringWidth(prompt)
	if status != "" && promptWidth+3 <= room {
		cut := cutRight(strings.TrimRight(status, " "), room-promptWidth-2) + "… " + prompt
		return cut, clusterWidths(cut)
	}
	if room < 2 {
		return "", nil
	}
	cut := "…" + cutLeft(prompt, room-1)
	return cut, clusterWidths(cut)
}

func clusterWidths(s string) []int {
	var widths []int
	state := -1
	for s != "" {
		var w int
		_, s, w, state = uniseg.FirstGraphemeClusterInString(s, state)
		widths = append(widths, w)
	}
	return widths
}

func sum(ns []int) int {
	total := 0
	for _, n := range ns {
		total += n
	}
	return total
}

// cutRight keeps the start of s that fits in n columns.
func cutRight(s string, n int) string {
	var b strings.Builder
	state := -1
	for s != "" {
		var c string
		var w int
		c, s, w, state = uniseg.FirstGraphemeClusterInString(s, state)
		if n -= w; n < 0 {
			break
		}
		b.WriteString(c)
	}
	return b.String()
}

// cutLeft keeps the end of s that fits in n columns.
func cutLeft(s string, n int) string {
	var clusters []string
	var widths []int
	state := -1
	for s != "" {
		var c string
		var w int
		c, s, w, state = uniseg.FirstGraphemeClusterInString(s, state)
		clusters, widths = append(clusters, c), append(widths, w)
	}
	i := len(clusters)
	for i > 0 && n-widths[i-1] >= 0 {
		i--
		n -= widths[i]
	}
	return strings.Join(clusters[i:], "")
}

// window is the part of a line shown when it scrolls sideways: clusters
// start to end (exclusive), after a … if left, before one if right.
type window struct {
	start, end  int
	left, right bool
}

// scrollWindow chooses which clusters of a line, of the given widths, to
// show in cols columns so that the cursor (before cluster pos) is seen,
// moving the previous window (first cluster scroll) as little as it can.
// A cursor moved off the left edge brings a third of the row of what is
// before it along; text deleted at the end pulls the text before into
// view. Rows too narrow for a … on each side of a character show no ….
func scrollWindow(widths []int, pos, scroll, cols int) window {
	n := len(widths)
	x := make([]int, n+1) // x[i]: the columns before cluster i
	for i, w := range widths {
		x[i+1] = x[i] + w
	}
	atEnd := 0 // the cursor past the last cluster takes a column
	if pos == n {
		atEnd = 1
	}
	if x[n]+atEnd <= cols {
		return window{0, n, false, false}
	}
	markers := cols >= 4
	marker := func(start int) int {
		if markers && start > 0 {
			return 1
		}
		return 0
	}
	tailFits := func(start int) bool { return marker(start)+x[n]-x[start]+atEnd <= cols }
	fits := func(start int) bool {
		if tailFits(start) {
			return true
		}
		cursorWidth := 1
		if pos < n {
			cursorWidth = widths[pos]
		}
		right := 0
		if markers {
			right = 1
		}
		return marker(start)+x[pos]-x[start]+cursorWidth+right <= cols
	}
	start := min(scroll, pos)
	if scroll > pos {
		for start > 0 && x[pos]-x[start-1] <= cols/3 && fits(start-1) {
			start--
		}
	}
	for start < pos && !fits(start) {
		start++
	}
	for start > 0 && tailFits(start-1) {
		start--
	}
	win := window{start: start, end: n, left: marker(start) > 0}
	if tailFits(start) {
		return win
	}
	win.right = markers
	room := cols - marker(start)
	if markers {
		room--
	}
	win.end = start
	for win.end < n && x[win.end+1]-x[start] <= room {
		win.end++
	}
	return win
}
