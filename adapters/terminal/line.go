package terminal

import (
	"strings"
	"unicode"

	"github.com/rivo/uniseg"
)

// line is the text being edited, cut into grapheme clusters (what a reader
// sees as one character: a letter with its combining marks, an emoji ZWJ
// sequence, a flag), so that the cursor moves and Backspace erases by
// what is seen, never through the middle of a character.
type line struct {
	clusters []string
	widths   []int // the columns each cluster takes as shown (see shown)
	pos      int   // the cursor is before clusters[pos]; len(clusters) at the end
}

func (l *line) String() string { return strings.Join(l.clusters, "") }

func (l *line) len() int { return len(l.clusters) }

// set replaces the text and puts the cursor at byte offset cursor, or on
// the next cluster boundary when cursor falls inside a cluster (a mark
// inserted before a letter may merge into it).
func (l *line) set(text string, cursor int) {
	l.clusters, l.widths, l.pos = l.clusters[:0], l.widths[:0], 0
	state, at := -1, 0
	for text != "" {
		var c string
		c, text, _, state = uniseg.FirstGraphemeClusterInString(text, state)
		if at < cursor {
			l.pos++
		}
		at += len(c)
		_, w := shown(c)
		l.clusters = append(l.clusters, c)
		l.widths = append(l.widths, w)
	}
}

// offset is the byte offset in the text of cluster i.
func (l *line) offset(i int) int {
	n := 0
	for _, c := range l.clusters[:i] {
		n += len(c)
	}
	return n
}

// insert puts s at the cursor and the cursor after it.
func (l *line) insert(s string) {
	text, at := l.String(), l.offset(l.pos)
	l.set(text[:at]+s+text[at:], at+len(s))
}

// erase removes clusters from to to (exclusive) and puts the cursor where
// they were.
func (l *line) erase(from, to int) {
	if from >= to {
		return
	}
	text, a, b := l.String(), l.offset(from), l.offset(to)
	l.set(text[:a]+text[b:], a)
}

func (l *line) space(i int) bool {
	return unicode.IsSpace([]rune(l.clusters[i])[0])
}

// wordLeft is where the word before the cursor starts.
func (l *line) wordLeft() int {
	i := l.pos
	for i > 0 && l.space(i-1) {
		i--
	}
	for i > 0 && !l.space(i-1) {
		i--
	}
	return i
}

// wordRight is where the word after the cursor ends.
func (l *line) wordRight() int {
	i := l.pos
	for i < l.len() && l.space(i) {
		i++
	}
	for i < l.len() && !l.space(i) {
		i++
	}
	return i
}

// shown is how a cluster of the line is drawn, and its width in columns:
// itself, except that a line break shows as ⏎ and a tab as ⇥ (the edit
// line is one row), and a cluster that takes no column (a combining mark
// or a format character with nothing before it to join) shows on a dotted
// circle, so that all that is sent is seen.
func shown(c string) (string, int) {
	switch c {
	case "\n":
		return "⏎", 1
	case "\t":
		return "⇥", 1
	}
	w := uniseg.StringWidth(c)
	if w == 0 {
		return "◌" + c, 1
	}
	return c, w
}
