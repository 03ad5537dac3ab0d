package dictcodec

import (
	"bytes"
	"math"
	"slices"

	"pcx/domain"
)

// MaxDepth is the deepest nesting a record may have. The top-level object
// is depth 1 and every nested object or list adds one.
const MaxDepth = 32

// linearKeys is how many keys an object may have before its duplicates are
// found by sorting its keys when it closes rather than by comparing each
// new key with every earlier one, which would make a large hostile object
// quadratic.
const linearKeys = 16

// maxWanted is the most top-level keys a kind of record is read for.
const maxWanted = 5

// found is where the scanner found the value of a wanted top-level key.
type found struct {
	kind domain.RawKind
	// For a string, s[start:end] is its body between the quotes, and
	// escaped says that it has a backslash. For a list or an object, start
	// is its opening bracket and end is just past its closing one.
	start, end int
	escaped    bool
	// strs says the value is a list of nothing but strings, the one
	// nested value a record is ever read for (the "users" of section 7).
	strs bool
}

// container is an open object or list.
type container struct {
	list bool
	// keys is where the object's keys begin in the scanner's key stack.
	keys int
}

// scanner checks the whole grammar of PROTOCOL.md section 2 in one pass
// over the bytes, without recursion and without building anything: it
// notes only where the values of the wanted top-level keys are. What it
// holds besides is the offsets of the keys of the objects still open, to
// find duplicates: four bytes per key, where a key and its value take at
// least five bytes of input.
type scanner struct {
	s         []byte
	pos       int
	backslash bool // s has a backslash somewhere; most records have none

	wanted []string
	found  [maxWanted]found
	slot   int // index in wanted of the top-level key being read, or -1

	open  [MaxDepth]container // open[:depth], outermost first
	depth int

	// The key stack: the offsets of the opening quotes of the keys of
	// every open object, each object's above its parent's. It starts in
	// keyBuf and moves to keyHeap when that is full.
	keyBuf  [32]int32
	nKeys   int
	keyHeap []int32
}

// state is where the scanner is inside the innermost open container.
type state uint8

const (
	afterOpen  state = iota // just after '{' or '[': an item or the closing bracket
	afterComma              // just after ',': an item must follow
	afterItem               // just after an item: ',' or the closing bracket
)

// scan checks that src holds exactly one record, surrounded by nothing but
// whitespace, and notes where the values of the wanted top-level keys are.
// Every error is a *SyntaxError naming the offset where src went wrong, the
// first such offset in src.
func (sc *scanner) scan(src []byte, wanted []string) error {
	sc.s, sc.wanted, sc.slot = src, wanted, -1
	if len(src) == 0 {
		return &SyntaxError{Offset: 0, Msg: "empty input"}
	}
	if len(src) > math.MaxInt32 {
		return &SyntaxError{Offset: math.MaxInt32, Msg: "input longer than 2 GiB"}
	}
	sc.backslash = bytes.IndexByte(src, '\\') >= 0
	sc.skipSpace()
	if sc.peek() != '{' {
		return sc.unexpected("expected '{' at top level")
	}
	if err := sc.walk(); err != nil {
		return sc.earlierDuplicate(err)
	}
	sc.skipSpace()
	if sc.pos < len(sc.s) {
		return sc.unexpected("expected end of input after the top-level object")
	}
	return nil
}

// walk reads from the top-level '{' to its matching '}'.
func (sc *scanner) walk() error {
	if err := sc.push(); err != nil {
		return err
	}
	st := afterOpen
	for sc.depth > 0 {
		sc.skipSpace()
		var err error
		switch {
		case st == afterOpen && sc.peek() == sc.closer():
			st, err = afterItem, sc.close()
		case st == afterOpen, st == afterComma:
			st, err = sc.item()
		default:
			st, err = sc.separator()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// item reads one list item or one object pair.
func (sc *scanner) item() (state, error) {
	if !sc.open[sc.depth-1].list {
		if err := sc.key(); err != nil {
			return 0, err
		}
	}
	return sc.value()
}

// key reads an object key and its ':'.
func (sc *scanner) key() error {
	if sc.peek() != '"' {
		return sc.unexpected("expected string key")
	}
	at := sc.pos
	end, escaped, err := sc.str()
	if err != nil {
		return err
	}
	if err := sc.addKey(at); err != nil {
		return err
	}
	if sc.depth == 1 {
		sc.slot = sc.wantedSlot(sc.s[at+1:end], escaped)
	}
	sc.skipSpace()
	if sc.peek() != ':' {
		return sc.unexpected("missing ':' after key")
	}
	sc.pos++
	sc.skipSpace()
	return nil
}

// value reads a string, or opens a nested object or list.
func (sc *scanner) value() (state, error) {
	switch sc.peek() {
	case '"':
		open := sc.pos
		end, escaped, err := sc.str()
		if err != nil {
			return 0, err
		}
		if sc.depth == 1 && sc.slot >= 0 {
			sc.found[sc.slot] = found{kind: domain.RawString, start: open + 1, end: end, escaped: escaped}
		}
		return afterItem, nil
	case '{', '[':
		return afterOpen, sc.push()
	}
	return 0, sc.unexpected("expected value")
}

// separator reads the ',' or closing bracket after an item.
func (sc *scanner) separator() (state, error) {
	switch sc.peek() {
	case ',':
		sc.pos++
		return afterComma, nil
	case sc.closer():
		return afterItem, sc.close()
	}
	if sc.open[sc.depth-1].list {
		return 0, sc.unexpected("missing ',' or ']' after list item")
	}
	return 0, sc.unexpected("missing ',' or '}' after value")
}

// push opens the object or list whose bracket is at pos.
func (sc *scanner) push() error {
	if sc.depth == MaxDepth {
		return sc.fail(sc.pos, "nesting deeper than 32")
	}
	list := sc.peek() == '['
	switch {
	case sc.depth == 1 && sc.slot >= 0:
		sc.found[sc.slot] = found{kind: domain.RawNested, start: sc.pos, strs: list}
	case sc.depth == 2 && sc.slot >= 0:
		sc.found[sc.slot].strs = false
	}
	sc.open[sc.depth] = container{list: list, keys: sc.nKeys}
	sc.depth++
	sc.pos++
	return nil
}

// close closes the innermost container, whose closing bracket is at pos.
func (sc *scanner) close() error {
	top := sc.open[sc.depth-1]
	if !top.list {
		n := sc.nKeys - top.keys
		if sc.depth == 1 && n == 0 {
			return sc.fail(sc.pos, "empty top-level object")
		}
		if n > linearKeys {
			if at := sc.firstDuplicate(top.keys, sc.nKeys); at >= 0 {
				return sc.duplicate(at)
			}
		}
		sc.nKeys = top.keys
	}
	sc.pos++
	sc.depth--
	if sc.depth == 1 && sc.slot >= 0 {
		sc.found[sc.slot].end = sc.pos
	}
	return nil
}

// wantedSlot returns the index in wanted of the key whose raw body is raw,
// or -1. A key with a backslash is never wanted: no wanted key has one.
func (sc *scanner) wantedSlot(raw []byte, escaped bool) int {
	if escaped {
		return -1
	}
	for i, w := range sc.wanted {
		if string(raw) == w {
			return i
		}
	}
	return -1
}

// str reads the string whose opening quote is at pos and returns the
// offset of its closing quote and whether it has a backslash.
func (sc *scanner) str() (end int, escaped bool, err error) {
	open := sc.pos
	body := sc.s[open+1:]
	n := bytes.IndexByte(body, '"')
	if n < 0 {
		return 0, false, sc.fail(open, "unterminated string")
	}
	if !sc.backslash || bytes.IndexByte(body[:n], '\\') < 0 {
		sc.pos = open + 1 + n + 1
		return open + 1 + n, false, nil
	}
	end = skipEscaped(sc.s, open)
	if end < 0 {
		return 0, false, sc.fail(open, "unterminated string")
	}
	sc.pos = end + 1
	return end, true, nil
}

// closer is the byte that closes the innermost open container.
func (sc *scanner) closer() byte {
	if sc.open[sc.depth-1].list {
		return ']'
	}
	return '}'
}

// peek returns the byte at pos, or 0 at the end of the input. A NUL byte is
// never a valid token, so the two need no telling apart here.
func (sc *scanner) peek() byte {
	if sc.pos < len(sc.s) {
		return sc.s[sc.pos]
	}
	return 0
}

func (sc *scanner) skipSpace() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\r', '\n':
			sc.pos++
		default:
			return
		}
	}
}

// unexpected reports the byte at pos, which is not what the grammar wants.
func (sc *scanner) unexpected(expected string) error {
	return sc.fail(sc.pos, expected+", found "+describeByte(sc.s, sc.pos))
}

func (sc *scanner) fail(at int, msg string) error {
	return &SyntaxError{Offset: at, Msg: msg}
}

// skipEscaped returns the offset of the first quote after open that no
// backslash escapes, or -1 if there is none.
func skipEscaped(s []byte, open int) int {
	for i := open + 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return i
		case '\\':
			if isEscapeAt(s, i) {
				i++
			}
		}
	}
	return -1
}

// isEscapeAt reports whether the byte of s at i starts `\"` or `\\`. A
// backslash before anything else stands for itself.
func isEscapeAt(s []byte, i int) bool {
	if s[i] != '\\' || i+1 >= len(s) {
		return false
	}
	next := s[i+1]
	return next == '"' || next == '\\'
}

// The key stack and duplicate keys.

func (sc *scanner) keys() []int32 {
	if sc.keyHeap != nil {
		return sc.keyHeap[:sc.nKeys]
	}
	return sc.keyBuf[:sc.nKeys]
}

func (sc *scanner) pushKey(at int) {
	if sc.keyHeap == nil && sc.nKeys < len(sc.keyBuf) {
		sc.keyBuf[sc.nKeys] = int32(at)
		sc.nKeys++
		return
	}
	if sc.keyHeap == nil {
		sc.keyHeap = make([]int32, sc.nKeys, sc.nKeys+sc.keysLeft(at))
		copy(sc.keyHeap, sc.keyBuf[:])
	}
	// append never grows it, see keysLeft.
	sc.keyHeap = append(sc.keyHeap[:sc.nKeys], int32(at))
	sc.nKeys++
}

// keysLeft bounds the number of keys from offset at to the end of the
// input, so that the key stack is allocated once, at its final size: each
// key is followed by a ':' and, with its value, takes at least five bytes
// (`"":""`, or `"":{` and its `}`). Four bytes per key make this at most
// 0.8 bytes per input byte, however the keys nest.
func (sc *scanner) keysLeft(at int) int {
	rest := sc.s[at:]
	return min(bytes.Count(rest, []byte{':'}), len(rest)/5+1)
}

// addKey pushes the key whose opening quote is at at onto the innermost
// object's keys. While the object has few keys it fails at once if one of
// them is the same; an object with more is checked when it closes, or when
// the input fails inside it (earlierDuplicate), so that the error is always
// the first in the input.
func (sc *scanner) addKey(at int) error {
	earlier := sc.keys()[sc.open[sc.depth-1].keys:]
	if len(earlier) < linearKeys {
		for _, k := range earlier {
			// Keys that differ in their first byte, as most do, differ.
			if sc.s[k+1] == sc.s[at+1] && sc.compareKeys(int(k), at) == 0 {
				return sc.duplicate(at)
			}
		}
	}
	sc.pushKey(at)
	return nil
}

// firstDuplicate returns the offset of the first key, in input order, of
// the keys keys()[from:to] that repeats one before it, or -1. It sorts
// them by content and then offset, so that in each run of equal keys the
// second is the first repeat: O(n log n) time and no memory.
func (sc *scanner) firstDuplicate(from, to int) int {
	keys := sc.keys()[from:to]
	slices.SortFunc(keys, func(a, b int32) int {
		if c := sc.compareKeys(int(a), int(b)); c != 0 {
			return c
		}
		return int(a - b)
	})
	first := -1
	for i := 1; i < len(keys); i++ {
		if sc.compareKeys(int(keys[i-1]), int(keys[i])) != 0 {
			continue
		}
		if first < 0 || int(keys[i]) < first {
			first = int(keys[i])
		}
		for i+1 < len(keys) && sc.compareKeys(int(keys[i]), int(keys[i+1])) == 0 {
			i++
		}
	}
	return first
}

// earlierDuplicate returns err, unless an open object that has too many
// keys to be checked as they come has a duplicate key, which is then
// earlier in the input than err's offset: then it returns that.
func (sc *scanner) earlierDuplicate(err error) error {
	first := -1
	for level := 0; level < sc.depth; level++ {
		if sc.open[level].list {
			continue
		}
		from, to := sc.open[level].keys, sc.nKeys
		for above := level + 1; above < sc.depth; above++ {
			if !sc.open[above].list {
				to = sc.open[above].keys
				break
			}
		}
		if to-from <= linearKeys {
			continue
		}
		if at := sc.firstDuplicate(from, to); at >= 0 && (first < 0 || at < first) {
			first = at
		}
	}
	if first < 0 {
		return err
	}
	return sc.duplicate(first)
}

func (sc *scanner) duplicate(at int) error {
	key := unescape(sc.s[at+1 : sc.keyEnd(at)])
	return sc.fail(at, "duplicate key "+quoteKey(key))
}

// keyEnd returns the offset of the closing quote of the key at at, which
// the scanner has read whole already.
func (sc *scanner) keyEnd(at int) int {
	if !sc.backslash {
		return at + 1 + bytes.IndexByte(sc.s[at+1:], '"')
	}
	return skipEscaped(sc.s, at)
}

// compareKeys compares, unescaped, the keys whose opening quotes are at a
// and b.
func (sc *scanner) compareKeys(a, b int) int {
	if !sc.backslash {
		return bytes.Compare(sc.s[a+1:sc.keyEnd(a)], sc.s[b+1:sc.keyEnd(b)])
	}
	i, j := a+1, b+1
	for {
		ca, okA := unescapedAt(sc.s, &i)
		cb, okB := unescapedAt(sc.s, &j)
		switch {
		case !okA && !okB:
			return 0
		case !okA:
			return -1
		case !okB:
			return 1
		case ca != cb:
			return int(ca) - int(cb)
		}
	}
}

// unescapedAt returns the byte of a string body at *i, unescaped, and
// moves *i past it; ok is false at the closing quote.
func unescapedAt(s []byte, i *int) (c byte, ok bool) {
	switch {
	case s[*i] == '"':
		return 0, false
	case isEscapeAt(s, *i):
		*i += 2
		return s[*i-1], true
	}
	*i++
	return s[*i-1], true
}

// unescape returns a string body without its escapes.
func unescape(body []byte) string {
	var b []byte
	for i := 0; i < len(body); i++ {
		if isEscapeAt(body, i) {
			i++
		}
		b = append(b, body[i])
	}
	return string(b)
}
