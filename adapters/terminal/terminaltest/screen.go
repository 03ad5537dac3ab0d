// Package terminaltest emulates as much of a terminal as tests need to see
// what a user of the terminal UI would see: printable text with deferred
// wrapping, wide characters (two columns) and grapheme clusters (a
// combining mark, a ZWJ sequence or a flag joins the character before it,
// as in tmux 3.3 and other current terminals), CR, LF, backspace, cursor
// moves (ESC [ n A/B/C/D), save and restore of the cursor (ESC 7, ESC 8),
// erasure (ESC [ K, ESC [ 2K, ESC [ J) and bracketed paste mode
// (ESC [ ? 2004 h/l). A resize either reflows the text, as tmux, VTE,
// kitty or iTerm2 do, or cuts it, as xterm does. Colours and other
// sequences are ignored.
package terminaltest

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Screen is an emulated screen of a given width and unbounded height. It
// is safe for concurrent use.
type Screen struct {
	mu          sync.Mutex // guards every field below
	width       int
	rows        []row
	row, col    int
	pendingWrap bool   // the last column was written; the next character wraps
	partial     []byte // an escape sequence or rune split across writes
	saved       cursor // ESC 7
	paste       bool   // bracketed paste mode is on
}

// cell is one column of a row. A wide character takes two: its lead cell
// holds the character, the cell after it is marked cont.
type cell struct {
	s    string // the grapheme cluster shown; "" for a blank
	wide bool   // s takes this column and the next
	cont bool   // the right half of the wide character before
}

type row struct {
	cells []cell
	// wrapped says the text goes on in the next row because it reached
	// the edge; padded says the last column was left blank because a wide
	// character did not fit in it. A reflow joins wrapped rows.
	wrapped, padded bool
}

type cursor struct {
	row, col    int
	pendingWrap bool
}

// NewScreen returns an empty screen width columns wide.
func NewScreen(width int) *Screen {
	return &Screen{width: width, rows: []row{{}}}
}

// Write interprets p as terminal output.
func (s *Screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := append(s.partial, p...)
	s.partial = nil
	for len(buf) > 0 {
		n := s.step(buf)
		if n == 0 { // incomplete: wait for more
			s.partial = append([]byte(nil), buf...)
			break
		}
		buf = buf[n:]
	}
	return len(p), nil
}

// step interprets one rune or sequence at the start of b and returns its
// length, or 0 when b ends inside it.
func (s *Screen) step(b []byte) int {
	switch b[0] {
	case '\r':
		s.col, s.pendingWrap = 0, false
		return 1
	case '\n':
		s.down(1)
		s.pendingWrap = false
		return 1
	case '\b':
		s.col = max(0, s.col-1)
		s.pendingWrap = false
		return 1
	case 0x1b:
		return s.escape(b)
	}
	if !utf8.FullRune(b) {
		return 0
	}
	r, n := utf8.DecodeRune(b)
	if r < 0x20 || (r >= 0x7f && r < 0xa0) {
		return n
	}
	s.put(string(r))
	return n
}

func (s *Screen) escape(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '[':
	case '7':
		s.saved = cursor{s.row, s.col, s.pendingWrap}
		return 2
	case '8':
		s.row, s.col, s.pendingWrap = s.saved.row, s.saved.col, s.saved.pendingWrap
		return 2
	default:
		return 2
	}
	for i := 2; i < len(b); i++ {
		if b[i] >= 0x40 && b[i] <= 0x7e {
			s.csi(string(b[2:i]), b[i])
			return i + 1
		}
	}
	return 0
}

func (s *Screen) csi(params string, final byte) {
	if strings.HasPrefix(params, "?") {
		if params == "?2004" && (final == 'h' || final == 'l') {
			s.paste = final == 'h'
		}
		return
	}
	n, err := strconv.Atoi(params)
	if err != nil || n == 0 {
		n = 1
	}
	s.pendingWrap = false
	switch final {
	case 'A':
		s.row = max(0, s.row-n)
	case 'B':
		s.down(n)
	case 'C':
		s.col = min(s.width-1, s.col+n)
	case 'D':
		s.col = max(0, s.col-n)
	case 'K':
		switch params {
		case "", "0":
			s.eraseRight()
		case "2":
			s.rows[s.row] = row{}
		}
	case 'J':
		if params == "" || params == "0" {
			s.eraseRight()
			s.rows = s.rows[:s.row+1]
		}
	}
}

// eraseRight erases from the cursor to the end of its row; a wide
// character cut in half goes entirely.
func (s *Screen) eraseRight() {
	r := &s.rows[s.row]
	if s.col < len(r.cells) {
		if r.cells[s.col].cont {
			r.cells[s.col-1] = cell{}
		}
		r.cells = r.cells[:s.col]
	}
	r.wrapped, r.padded = false, false
}

func (s *Screen) down(n int) {
	s.row += n
	for len(s.rows) <= s.row {
		s.rows = append(s.rows, row{})
	}
}

// put draws one character: a new cell, or a part of the cluster in the
// cell before the cursor.
func (s *Screen) put(ch string) {
	if s.join(ch) {
		return
	}
	w := uniseg.StringWidth(ch)
	if w == 0 {
		return // nothing to join it to
	}
	w = min(w, 2, s.width)
	if s.pendingWrap || s.col+w > s.width {
		r := &s.rows[s.row]
		r.wrapped = true
		r.padded = !s.pendingWrap
		s.col, s.pendingWrap = 0, false
		s.down(1)
	}
	s.set(s.col, cell{s: ch, wide: w == 2})
	if w == 2 {
		s.set(s.col+1, cell{cont: true})
	}
	s.col += w
	if s.col >= s.width {
		s.col, s.pendingWrap = s.width-1, true
	}
}

// join adds ch to the grapheme cluster before the cursor when it extends
// it (a combining mark, a ZWJ and what follows it, the second half of a
// flag) or takes no column of its own.
func (s *Screen) join(ch string) bool {
	col := s.col - 1
	if s.pendingWrap {
		col = s.col
	}
	cells := s.rows[s.row].cells
	if col < 0 || col >= len(cells) {
		return false
	}
	if cells[col].cont && col > 0 {
		col--
	}
	prev := &cells[col]
	if prev.s == "" {
		return false
	}
	if _, rest, _, _ := uniseg.FirstGraphemeClusterInString(prev.s+ch, -1); rest != "" && uniseg.StringWidth(ch) > 0 {
		return false
	}
	prev.s += ch
	return true
}

// set writes c at column col of the cursor's row; a wide character it
// overwrites half of is erased.
func (s *Screen) set(col int, c cell) {
	r := &s.rows[s.row]
	for len(r.cells) <= col {
		r.cells = append(r.cells, cell{})
	}
	old := r.cells[col]
	if old.cont && col > 0 && !c.cont {
		r.cells[col-1] = cell{}
	}
	if old.wide && col+1 < len(r.cells) {
		r.cells[col+1] = cell{}
	}
	r.cells[col] = c
}

// Resize changes the width. With reflow, rows that wrapped are joined and
// cut again at the new width and the cursor stays on the same character;
// without, rows are cut at the new width and the cursor keeps its row.
func (s *Screen) Resize(width int, reflow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !reflow {
		for i := range s.rows {
			r := &s.rows[i]
			if len(r.cells) > width {
				r.cells = r.cells[:width]
				if r.cells[width-1].wide {
					r.cells[width-1] = cell{}
				}
			}
		}
		s.width, s.col, s.pendingWrap = width, min(s.col, width-1), false
		return
	}
	var rows []row
	var cur cursor
	for start := 0; start < len(s.rows); {
		end := start
		for end < len(s.rows)-1 && s.rows[end].wrapped {
			end++
		}
		var cells []cell
		offset := -1
		for i := start; i <= end; i++ {
			if i == s.row {
				offset = len(cells) + s.col
				if s.pendingWrap {
					offset++
				}
			}
			r := s.rows[i]
			if r.padded {
				r.cells = r.cells[:len(r.cells)-1]
			}
			cells = append(cells, r.cells...)
		}
		lineRows := split(cells, width)
		if offset >= 0 {
			cur = place(lineRows, min(offset, len(cells)), width)
			cur.row += len(rows)
		}
		rows = append(rows, lineRows...)
		start = end + 1
	}
	s.rows, s.width = rows, width
	s.row, s.col, s.pendingWrap = cur.row, cur.col, cur.pendingWrap
	s.down(0)
}

// split cuts a line of cells into rows width columns wide.
func split(cells []cell, width int) []row {
	rows := []row{{}}
	for i := 0; i < len(cells); i++ {
		w := 1
		if cells[i].wide {
			w = 2
		}
		r := &rows[len(rows)-1]
		if len(r.cells)+w > width {
			r.wrapped, r.padded = true, len(r.cells) < width
			if r.padded {
				r.cells = append(r.cells, cell{})
			}
			rows = append(rows, row{})
			r = &rows[len(rows)-1]
		}
		r.cells = append(r.cells, cells[i:i+w]...)
		i += w - 1
	}
	return rows
}

// place finds where the cursor goes after a reflow: on the character at
// offset of the line cut into rows, or, past its end, at the end of the
// text (tmux does so); a line that fills its last row leaves the cursor
// waiting to wrap.
func place(rows []row, offset, width int) cursor {
	for i, r := range rows {
		n := len(r.cells)
		if r.padded {
			n--
		}
		if offset < n {
			return cursor{i, offset, false}
		}
		if i == len(rows)-1 {
			if n == width {
				return cursor{i, width - 1, true}
			}
			return cursor{i, n, false}
		}
		offset -= n
	}
	return cursor{}
}

// Width is the screen's width in columns.
func (s *Screen) Width() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.width
}

// Cursor returns the cursor's row (0 at the top) and column.
func (s *Screen) Cursor() (row, col int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.row, s.col
}

// BracketedPaste reports whether bracketed paste mode is on.
func (s *Screen) BracketedPaste() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paste
}

// Lines returns the screen's lines, trailing spaces trimmed, without the
// empty lines at the bottom.
func (s *Screen) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.rows))
	for i, r := range s.rows {
		var b strings.Builder
		for _, c := range r.cells {
			switch {
			case c.cont:
			case c.s == "":
				b.WriteByte(' ')
			default:
				b.WriteString(c.s)
			}
		}
		out[i] = strings.TrimRight(b.String(), " ")
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// LastLine returns the bottom line that is not empty.
func (s *Screen) LastLine() string {
	lines := s.Lines()
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

// String is the screen as text, one line a line.
func (s *Screen) String() string { return strings.Join(s.Lines(), "\n") }
