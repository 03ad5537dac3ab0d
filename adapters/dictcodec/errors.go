package dictcodec

import (
	"errors"
	"strconv"
)

// ErrSyntax is matched by every decoding error, so that callers can tell a
// malformed record from other failures with errors.Is.
var ErrSyntax = errors.New("dictcodec: syntax error")

// SyntaxError says where and why an input is not a valid record.
type SyntaxError struct {
	// Offset is the byte offset in the input at which the input went wrong:
	// the offending byte, or len(input) when the input ended too early.
	Offset int
	// Msg says what was wrong, without package name or offset.
	Msg string
}

// Error reads like `dictcodec: duplicate key "text" at byte 17`.
func (e *SyntaxError) Error() string {
	return "dictcodec: " + e.Msg + " at byte " + strconv.Itoa(e.Offset)
}

// Is reports whether target is ErrSyntax.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// describeByte names the byte at offset at of s for an error message:
// printable ASCII as a quoted character, anything else by its hex value,
// and "end of input" past the end.
func describeByte[T string | []byte](s T, at int) string {
	if at >= len(s) {
		return "end of input"
	}
	c := s[at]
	if c > ' ' && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return "byte 0x" + strconv.FormatUint(uint64(c)|0x100, 16)[1:]
}

// quoteKey quotes a key for an error message, cut short so that a hostile
// 64 KiB key does not become a 64 KiB log line.
func quoteKey(key string) string {
	const maxShown = 40
	if len(key) > maxShown {
		return strconv.Quote(key[:maxShown]) + "..."
	}
	return strconv.Quote(key)
}
