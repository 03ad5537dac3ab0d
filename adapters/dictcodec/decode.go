package dictcodec

import (
	"bytes"
	"hash/maphash"
	"strings"

	"pcx/domain"
)

// Decode parses src, which must hold exactly one record (PROTOCOL.md
// section 2), surrounded by nothing but optional whitespace. Every error is
// a *SyntaxError naming the byte offset where src went wrong, and matches
// ErrSyntax.
//
// The record does not alias src: Decode copies src into one string once and
// the record's strings are substrings of that copy, except strings with
// escapes, which are substrings of a second buffer holding all of them. So
// a record keeps both alive while any of its strings is referenced.
//
// Decode does not recurse and never panics. Whatever the bytes, it takes
// time linear in len(src) and allocates at most 23 bytes per input byte,
// everything counted. It reads src twice: a first pass only counts the
// items of every list and object, so that the second, which checks
// everything, puts each item straight into storage of the exact size, with
// no scratch stacks and no slack. The worst cases are records of nothing
// but tiny items: `"",` (3 bytes) becomes a 32-byte domain.Value, `{},` a
// Value and a 24-byte domain.Record, and `[{},{}],` (8 bytes) three Values,
// a slice header and two Records.
// A relayed chat message costs two allocations: the copy and its fields.
func Decode(src []byte) (domain.Record, error) {
	if len(src) == 0 {
		return domain.Record{}, &SyntaxError{Offset: 0, Msg: "empty input"}
	}
	d := decoder{s: string(src), backslash: bytes.IndexByte(src, '\\') >= 0}
	d.count()
	return d.record()
}

// frame is one open object or list of the second pass. (The first pass
// keeps its own open containers in the same array; see count.)
type frame struct {
	// list is true for a list, false for an object.
	list bool
	// The container's items are d.items[start:next] (list) or
	// d.fields[start:next] (object) so far; end is the end of the range the
	// first pass reserved for it, so next <= end.
	start, next, end int
	// index finds the object's keys once it has linearKeys of them: an
	// open-addressing hash table of positions in d.fields, plus one, with 0
	// for a free slot. nil before. (A pointer keeps frames small: Decode
	// zeroes MaxDepth of them every call.)
	index *[]int32
}

// decoder holds the state of one Decode call. It parses with an explicit
// stack of frames rather than by recursion.
type decoder struct {
	// s is the private copy of the input; pos is the next byte to read.
	s   string
	pos int
	// backslash says whether s has a backslash anywhere. Most records have
	// none, and then no string needs searching for escapes.
	backslash bool
	// frames[:depth] are the open containers, outermost first.
	frames [MaxDepth]frame
	depth  int

	// The first pass's results (see count): the number of items of each
	// of the first nCounts containers to open, in that order, capped at
	// bigCount, in countBuf or, if more than fit there, in counts; and in
	// big the counts of those with more, in the same order. opened is how
	// many containers the second pass has opened.
	countBuf [32]byte
	counts   []byte
	nCounts  int
	big      []int
	opened   int
	// ends has the offsets of the closing quotes of the first nEnds strings
	// of the input, or 0 for those with escapes, so that the second pass
	// need not search for them again; strs counts the strings it has read.
	// Both passes meet strings in the same order on every prefix the second
	// accepts.
	ends  [16]int
	nEnds int
	strs  int
	// items holds the items of every list and fields the pairs of every
	// object, each container in a range reserved when it opens; records
	// holds the nested records. The *Used counters say how much is taken.
	items      []domain.Value
	fields     []domain.Field
	records    []domain.Record
	itemsUsed  int
	fieldsUsed int
	recsUsed   int
	// escaped holds the strings that had escapes, unescaped, one after the
	// other; its size is known from the first pass, so it never moves.
	escaped strings.Builder
}

// record parses the whole input into the top-level record.
func (d *decoder) record() (domain.Record, error) {
	d.skipSpace()
	if d.peek() != '{' {
		return domain.Record{}, d.unexpected("expected '{' at top level")
	}
	if err := d.parse(); err != nil {
		return domain.Record{}, err
	}
	d.skipSpace()
	if d.pos < len(d.s) {
		return domain.Record{}, d.unexpected("expected end of input after the top-level object")
	}
	top := d.frames[0]
	return *domain.NewRecord(d.fields[top.start:top.next:top.next]...), nil
}

// parse reads from the top-level '{' to its matching '}'.
func (d *decoder) parse() error {
	if err := d.push(false); err != nil {
		return err
	}
	st := afterOpen
	for d.depth > 0 {
		d.skipSpace()
		var err error
		switch {
		case st == afterOpen && d.peek() == d.closer():
			st, err = afterItem, d.close()
		case st == afterOpen, st == afterComma:
			st, err = d.item()
		default:
			st, err = d.separator()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// item reads one list item or one object pair.
func (d *decoder) item() (state, error) {
	top := &d.frames[d.depth-1]
	if c := d.peek(); top.next == top.end && (c == '"' || c == '{' || c == '[') {
		// The first pass counted every item that began up to here, so
		// this is a bug, reported rather than a panic.
		return 0, d.fail(d.pos, "more items than counted (decoder bug)")
	}
	if !top.list {
		if err := d.key(top); err != nil {
			return 0, err
		}
	}
	return d.value()
}

// key reads an object key and its ':', and opens its field.
func (d *decoder) key(top *frame) error {
	if d.peek() != '"' {
		return d.unexpected("expected string key")
	}
	at := d.pos
	key, err := d.str()
	if err != nil {
		return err
	}
	if err := d.checkKey(top, key, at); err != nil {
		return err
	}
	d.skipSpace()
	if d.peek() != ':' {
		return d.unexpected("missing ':' after key")
	}
	d.pos++
	d.skipSpace()
	d.fields[top.next].Key = key
	top.next++
	return nil
}

// value reads a string, or opens a nested object or list.
func (d *decoder) value() (state, error) {
	switch d.peek() {
	case '"':
		s, err := d.str()
		if err != nil {
			return 0, err
		}
		d.emit(domain.Str(s))
		return afterItem, nil
	case '{':
		return afterOpen, d.push(false)
	case '[':
		return afterOpen, d.push(true)
	}
	return 0, d.unexpected("expected value")
}

// separator reads the ',' or closing bracket after an item.
func (d *decoder) separator() (state, error) {
	switch d.peek() {
	case ',':
		d.pos++
		return afterComma, nil
	case d.closer():
		return afterItem, d.close()
	}
	if d.frames[d.depth-1].list {
		return 0, d.unexpected("missing ',' or ']' after list item")
	}
	return 0, d.unexpected("missing ',' or '}' after value")
}

// push opens the object or list whose bracket is at pos: it reserves the
// room the first pass counted for its items and hands the parent its value
// now, since the value only refers to that room, which fills in later.
func (d *decoder) push(list bool) error {
	if d.depth == MaxDepth {
		return d.fail(d.pos, "nesting deeper than 32")
	}
	n := d.nextCount()
	var f frame
	var v domain.Value
	if list {
		f = frame{list: true, start: d.itemsUsed, end: d.itemsUsed + n}
		v = domain.ListOf(d.items[f.start:f.end:f.end]...)
		d.itemsUsed = f.end
	} else {
		f = frame{start: d.fieldsUsed, end: d.fieldsUsed + n}
		d.fieldsUsed = f.end
		if d.depth > 0 {
			v = domain.Rec(d.nestedRecord(d.fields[f.start:f.end:f.end]))
		}
	}
	f.next = f.start
	if d.depth > 0 {
		d.emit(v)
	}
	d.frames[d.depth] = f
	d.depth++
	d.pos++
	return nil
}

// nestedRecord returns the next of the nested records, holding fields.
func (d *decoder) nestedRecord(fields []domain.Field) *domain.Record {
	r := &d.records[d.recsUsed]
	d.recsUsed++
	if len(fields) > 0 {
		// An empty record keeps nil fields, as domain.NewRecord() does.
		*r = *domain.NewRecord(fields...)
	}
	return r
}

// close closes the innermost container, whose closing bracket is at pos.
// Its items are where they belong already.
func (d *decoder) close() error {
	if d.depth == 1 && d.frames[0].next == d.frames[0].start {
		return d.fail(d.pos, "empty top-level object")
	}
	d.pos++
	d.depth--
	return nil
}

// emit hands a complete value to the innermost open container: the next
// item of a list, or the value of an object's last key.
func (d *decoder) emit(v domain.Value) {
	top := &d.frames[d.depth-1]
	if top.list {
		d.items[top.next] = v
		top.next++
		return
	}
	d.fields[top.next-1].Value = v
}

// nextCount returns the item count the first pass found for the next
// container to open.
func (d *decoder) nextCount() int {
	n := int(*d.countAt(d.opened))
	d.opened++
	if n == bigCount {
		n, d.big = d.big[0], d.big[1:]
	}
	return n
}

// checkKey fails if the object top already has key; at is where key starts.
func (d *decoder) checkKey(top *frame, key string, at int) error {
	earlier := d.fields[top.start:top.next]
	if len(earlier) < linearKeys {
		for i := range earlier {
			if earlier[i].Key == key {
				return d.fail(at, "duplicate key "+quoteKey(key))
			}
		}
		return nil
	}
	if top.index == nil {
		d.indexKeys(top)
	}
	if !d.addKey(top, key, top.next) {
		return d.fail(at, "duplicate key "+quoteKey(key))
	}
	return nil
}

// indexKeys gives top a hash index of its keys so far, sized for all the
// keys the first pass counted: at most half full, so probes are short.
func (d *decoder) indexKeys(top *frame) {
	size := 1
	for size < 2*(top.end-top.start) {
		size <<= 1
	}
	index := make([]int32, size)
	top.index = &index
	for i := top.start; i < top.next; i++ {
		d.addKey(top, d.fields[i].Key, i)
	}
}

// addKey records that the field at i has key, unless an earlier field of
// top has it already, and reports whether it added it.
func (d *decoder) addKey(top *frame, key string, i int) bool {
	index := *top.index
	mask := uint64(len(index) - 1)
	for h := maphash.String(keySeed, key) & mask; ; h = (h + 1) & mask {
		j := index[h]
		if j == 0 {
			index[h] = int32(i + 1)
			return true
		}
		if d.fields[j-1].Key == key {
			return false
		}
	}
}

// keySeed seeds the hash of object keys; one for the process is enough,
// as an index lives no longer than one Decode call.
var keySeed = maphash.MakeSeed()

// str reads the string whose opening quote is at pos. A string without
// escapes is a substring of the input copy and costs no allocation.
func (d *decoder) str() (string, error) {
	open := d.pos
	d.strs++
	if d.strs <= d.nEnds && d.ends[d.strs-1] > 0 {
		end := d.ends[d.strs-1]
		d.pos = end + 1
		return d.s[open+1 : end], nil
	}
	body := d.s[open+1:]
	end := strings.IndexByte(body, '"')
	if end < 0 {
		return "", d.fail(open, "unterminated string")
	}
	if !d.backslash || strings.IndexByte(body[:end], '\\') < 0 {
		d.pos = open + 1 + end + 1
		return body[:end], nil
	}
	return d.escapedStr(open)
}

// escapedStr reads a string that has a backslash before its first '"': the
// closing quote is the first one not escaped, so it must be found again.
// The string is unescaped into d.escaped, which the first pass sized for
// all such strings, so that they share one allocation.
func (d *decoder) escapedStr(open int) (string, error) {
	end := skipEscapedString(d.s, open)
	if end < 0 {
		return "", d.fail(open, "unterminated string")
	}
	from := d.escaped.Len()
	for i := open + 1; i < end; i++ {
		if isEscape(d.s, i) {
			i++
		}
		d.escaped.WriteByte(d.s[i])
	}
	d.pos = end + 1
	return d.escaped.String()[from:], nil
}

// isEscape reports whether the byte of s at i starts `\"` or `\\`. A
// backslash before anything else stands for itself.
func isEscape(s string, i int) bool {
	if s[i] != '\\' || i+1 >= len(s) {
		return false
	}
	next := s[i+1]
	return next == '"' || next == '\\'
}

// closer is the byte that closes the innermost open container.
func (d *decoder) closer() byte {
	if d.frames[d.depth-1].list {
		return ']'
	}
	return '}'
}

// peek returns the byte at pos, or 0 at the end of the input. A NUL byte is
// never a valid token, so the two need no telling apart here.
func (d *decoder) peek() byte {
	if d.pos < len(d.s) {
		return d.s[d.pos]
	}
	return 0
}

func (d *decoder) skipSpace() { d.pos = skipSpaceAt(d.s, d.pos) }

// unexpected reports the byte at pos, which is not what the grammar wants.
func (d *decoder) unexpected(expected string) error {
	return d.fail(d.pos, expected+", found "+describeByte(d.s, d.pos))
}

func (d *decoder) fail(at int, msg string) error {
	return &SyntaxError{Offset: at, Msg: msg}
}
