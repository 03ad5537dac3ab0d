// Package terminaltest emulates as much of a VT100 screen as tests need to
// see what a user of the terminal UI would see: printable text with
// deferred wrapping, CR, LF, backspace, cursor moves (ESC [ n A/B/C/D) and
// line erasure (ESC [ K, ESC [ 2K). Colours and other sequences are
// ignored.
package terminaltest

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Screen is an emulated screen of a fixed width and unbounded height. It
// is safe for concurrent use.
type Screen struct {
	mu          sync.Mutex
	width       int
	lines       [][]rune
	row, col    int
	pendingWrap bool   // the last column was written; the next rune wraps
	partial     []byte // an escape sequence or rune split across writes
}

// NewScreen returns an empty screen width columns wide.
func NewScreen(width int) *Screen {
	return &Screen{width: width, lines: [][]rune{nil}}
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
	if r < 0x20 {
		return n
	}
	s.put(r)
	return n
}

func (s *Screen) escape(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	if b[1] != '[' {
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
		line := s.lines[s.row]
		switch params {
		case "", "0":
			if s.col < len(line) {
				s.lines[s.row] = line[:s.col]
			}
		case "2":
			s.lines[s.row] = nil
		}
	}
}

func (s *Screen) down(n int) {
	s.row += n
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, nil)
	}
}

func (s *Screen) put(r rune) {
	if s.pendingWrap {
		s.col, s.pendingWrap = 0, false
		s.down(1)
	}
	line := s.lines[s.row]
	for len(line) <= s.col {
		line = append(line, ' ')
	}
	line[s.col] = r
	s.lines[s.row] = line
	if s.col == s.width-1 {
		s.pendingWrap = true
	} else {
		s.col++
	}
}

// Lines returns the screen's lines, trailing spaces trimmed, without the
// empty lines at the bottom.
func (s *Screen) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.lines))
	for i, l := range s.lines {
		out[i] = strings.TrimRight(string(l), " ")
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
