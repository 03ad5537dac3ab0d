package terminal

import (
	"bufio"
	"bytes"
	"strings"
	"unicode"

	"pcx/internal/ansi"
)

// keyCode names what a key (or a paste) asks the line editor to do.
type keyCode uint8

const (
	keyNone          keyCode = iota // a key the editor does not use
	keyText                         // characters to insert
	keyPaste                        // a bracketed paste, to insert as it is
	keyEnter                        // Enter: the line is done
	keyNewline                      // Alt-Enter: a line break in the text
	keyBackspace                    // Backspace, Ctrl-H
	keyDelete                       // Delete
	keyLeft                         // Left, Ctrl-B
	keyRight                        // Right, Ctrl-F
	keyWordLeft                     // Ctrl-Left, Alt-B
	keyWordRight                    // Ctrl-Right, Alt-F
	keyHome                         // Home, Ctrl-A
	keyEnd                          // End, Ctrl-E
	keyUp                           // Up, Ctrl-P: the previous message
	keyDown                         // Down, Ctrl-N: the next message
	keyKillLeft                     // Ctrl-U: erase before the cursor
	keyKillRight                    // Ctrl-K: erase from the cursor on
	keyKillWordLeft                 // Ctrl-W, Alt-Backspace
	keyKillWordRight                // Alt-D
	keyTab                          // Tab: complete
	keyInterrupt                    // Ctrl-C
	keyEOF                          // Ctrl-D
	keyRedraw                       // Ctrl-L
)

// key is one key press, or one paste, read from the terminal.
type key struct {
	code keyCode
	text string // for keyText and keyPaste, made safe to keep (see editable)
}

// controlKeys are the keys that send a C0 control character.
var controlKeys = map[byte]keyCode{
	0x01: keyHome, 0x02: keyLeft, 0x03: keyInterrupt, 0x04: keyEOF,
	0x05: keyEnd, 0x06: keyRight, 0x08: keyBackspace, 0x09: keyTab,
	0x0a: keyEnter, 0x0b: keyKillRight, 0x0c: keyRedraw, 0x0d: keyEnter,
	0x0e: keyDown, 0x10: keyUp, 0x15: keyKillLeft, 0x17: keyKillWordLeft,
	0x7f: keyBackspace,
}

// maxSequence bounds a control sequence's parameters; what goes beyond is
// not a key any terminal sends, and is read as text instead.
const maxSequence = 16

// pasteEnd ends a bracketed paste; pasteStart is "200~" after ESC [.
const pasteEnd = "\x1b[201~"

// readKey reads the next key from a terminal in raw mode: a control
// character, an escape sequence (xterm's and tmux's, in both their CSI
// and SS3 forms), a bracketed paste, or the printable text that is
// already waiting, as one key so that it is drawn once.
func readKey(r *bufio.Reader) (key, error) {
	b, err := r.ReadByte()
	if err != nil {
		return key{}, err
	}
	if b == 0x1b {
		return readEscape(r)
	}
	if b < 0x20 || b == 0x7f {
		return key{code: controlKeys[b]}, nil
	}
	r.UnreadByte()
	var text strings.Builder
	for {
		c, _, err := r.ReadRune()
		if err != nil {
			break // the text so far is a key; the error comes back next time
		}
		if c < 0x20 || c == 0x7f {
			r.UnreadRune()
			break
		}
		text.WriteRune(c) // invalid UTF-8 comes as U+FFFD
		if r.Buffered() == 0 {
			break
		}
	}
	return key{code: keyText, text: keepable(text.String())}, nil
}

// readEscape reads what follows an ESC. A lone Escape followed by another
// key is dropped, and the key counts on its own.
func readEscape(r *bufio.Reader) (key, error) {
	b, err := r.ReadByte()
	if err != nil {
		return key{}, err
	}
	switch b {
	case '[':
		return readCSI(r)
	case 'O':
		b, err := r.ReadByte()
		if err != nil {
			return key{}, err
		}
		return key{code: ss3Keys[b]}, nil
	case 0x7f, 0x08:
		return key{code: keyKillWordLeft}, nil
	case '\r':
		return key{code: keyNewline}, nil
	case 'b', 'B':
		return key{code: keyWordLeft}, nil
	case 'f', 'F':
		return key{code: keyWordRight}, nil
	case 'd', 'D':
		return key{code: keyKillWordRight}, nil
	}
	r.UnreadByte()
	return key{code: keyNone}, nil
}

// ss3Keys are the keys sent as ESC O and a letter (application cursor
// mode, and Home and End in xterm).
var ss3Keys = map[byte]keyCode{
	'A': keyUp, 'B': keyDown, 'C': keyRight, 'D': keyLeft, 'H': keyHome, 'F': keyEnd,
}

// csiKeys are the keys sent as ESC [, parameters, and a final letter.
var csiKeys = map[string]keyCode{
	"A": keyUp, "B": keyDown, "C": keyRight, "D": keyLeft, "H": keyHome, "F": keyEnd,
	"1;5C": keyWordRight, "1;5D": keyWordLeft, "1;3C": keyWordRight, "1;3D": keyWordLeft,
	"1;5H": keyHome, "1;5F": keyEnd,
	"1~": keyHome, "7~": keyHome, "4~": keyEnd, "8~": keyEnd, "3~": keyDelete,
}

// readCSI reads a control sequence after ESC [: parameter bytes up to a
// final byte.
func readCSI(r *bufio.Reader) (key, error) {
	var seq []byte
	for len(seq) <= maxSequence {
		b, err := r.ReadByte()
		if err != nil {
			return key{}, err
		}
		seq = append(seq, b)
		if b >= 0x40 && b <= 0x7e {
			if string(seq) == "200~" {
				return readPaste(r)
			}
			return key{code: csiKeys[string(seq)]}, nil
		}
		if b < 0x20 || b > 0x3f {
			r.UnreadByte() // not a control sequence after all: b is a key
			break
		}
	}
	return key{code: keyNone}, nil
}

// readPaste reads a bracketed paste up to its end: one key, line breaks
// and all, so that a pasted text with several lines is one message.
func readPaste(r *bufio.Reader) (key, error) {
	var pasted []byte
	for !bytes.HasSuffix(pasted, []byte(pasteEnd)) {
		chunk, err := r.ReadSlice('~')
		pasted = append(pasted, chunk...)
		if err != nil && err != bufio.ErrBufferFull {
			return key{}, err
		}
	}
	text := string(pasted[:len(pasted)-len(pasteEnd)])
	// Terminals send a pasted line break as CR, some as CR LF.
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	return key{code: keyPaste, text: keepable(ansi.Strip(text))}, nil
}

// keepable returns s with what must not go into a line removed: control
// characters other than line breaks and tabs (escape sequences among
// them), and the bidirectional controls that would make what is shown
// differ from what is sent. Invalid UTF-8 becomes U+FFFD.
func keepable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) && !isBidiControl(r) {
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
