package dictcodec

import (
	"slices"
	"strings"

	"pcx/domain"
)

// MaxDepth is the deepest nesting Decode accepts. The top-level object is
// depth 1 and every nested object or list adds one.
const MaxDepth = 32

// linearKeys is how many keys an object may have before duplicates are
// looked up in a map rather than by comparing with every earlier key, which
// would make a large hostile record quadratic.
const linearKeys = 16

// Decode parses src, which must hold exactly one record (PROTOCOL.md
// section 2), surrounded by nothing but optional whitespace. Every error is
// a *SyntaxError naming the byte offset where src went wrong, and matches
// ErrSyntax.
//
// The record does not alias src: Decode copies src into one string once and
// the record's strings are substrings of that copy, except strings with
// escapes, which get their own. So a record keeps the whole copy alive while
// any of its strings is referenced.
//
// Decode does not recurse and never panics. Whatever the bytes, it takes
// time linear in len(src) and allocates at most about 100 bytes per input
// byte; that worst case is a record made of nothing but a long list of
// empty values, where every 3-byte item becomes a 56-byte domain.Value.
// A relayed chat message costs two allocations: the copy and its fields.
func Decode(src []byte) (domain.Record, error) {
	if len(src) == 0 {
		return domain.Record{}, &SyntaxError{Offset: 0, Msg: "empty input"}
	}
	d := decoder{s: string(src)}
	return d.record()
}

// frame is one open object or list.
type frame struct {
	// list is true for a list, false for an object.
	list bool
	// indexed is true once the object's keys are in decoder.keys; until then
	// duplicates are found by a linear scan.
	indexed bool
	// start is where the container's items begin in decoder.fields (object)
	// or decoder.values (list).
	start int
	// id tells this object's keys apart from other objects' in decoder.keys.
	id int
}

// objectKey is a key of one particular object, for duplicate detection.
type objectKey struct {
	id  int
	key string
}

// decoder holds the state of one Decode call. It parses with an explicit
// stack of frames rather than by recursion; items of open containers wait
// on two shared scratch stacks and are copied into exactly sized slices
// when their container closes.
type decoder struct {
	// s is the private copy of the input; pos is the next byte to read.
	s   string
	pos int
	// frames[:depth] are the open containers, outermost first.
	frames [MaxDepth]frame
	depth  int
	// fields holds the pairs of open objects, values the items of open
	// lists. The last field of an object whose value is being parsed has
	// the key and a zero Value until the value is complete.
	fields []domain.Field
	values []domain.Value
	// keys indexes the keys of objects that reached linearKeys keys;
	// nil until one is seen.
	keys map[objectKey]struct{}
	// objects counts objects opened so far and gives the next object's id.
	objects int
}

// state is where the parser is inside the innermost open container.
type state uint8

const (
	afterOpen  state = iota // just after '{' or '[': an item or the closing bracket
	afterComma              // just after ',': an item must follow
	afterItem               // just after an item: ',' or the closing bracket
)

// record parses the whole input into the top-level record.
func (d *decoder) record() (domain.Record, error) {
	d.skipSpace()
	if d.peek() != '{' {
		return domain.Record{}, d.unexpected("expected '{' at top level")
	}
	// Most records on the wire have up to four keys: the relayed message.
	d.fields = make([]domain.Field, 0, 4)
	if err := d.parse(); err != nil {
		return domain.Record{}, err
	}
	d.skipSpace()
	if d.pos < len(d.s) {
		return domain.Record{}, d.unexpected("expected end of input after the top-level object")
	}
	return *domain.NewRecord(d.topFields()...), nil
}

// topFields returns the top-level object's fields, which are all that is
// left on the scratch stack (closed children cleared their slots), without
// keeping much unused capacity alive.
func (d *decoder) topFields() []domain.Field {
	fs := d.fields
	if cap(fs)-len(fs) > 8 {
		fs = append([]domain.Field(nil), fs...)
	}
	return fs[:len(fs):len(fs)]
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
	d.fields = append(grow(d.fields), domain.Field{Key: key})
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

// push opens the object or list whose bracket is at pos.
func (d *decoder) push(list bool) error {
	if d.depth == MaxDepth {
		return d.fail(d.pos, "nesting deeper than 32")
	}
	f := frame{list: list, start: len(d.fields), id: d.objects}
	if list {
		f.start = len(d.values)
	} else {
		d.objects++
	}
	d.frames[d.depth] = f
	d.depth++
	d.pos++
	return nil
}

// close closes the innermost container, whose closing bracket is at pos,
// and hands it to its parent.
func (d *decoder) close() error {
	top := d.frames[d.depth-1]
	var v domain.Value
	switch {
	case top.list:
		v = domain.ListOf(d.takeValues(top.start)...)
	case d.depth == 1:
		if len(d.fields) == 0 {
			return d.fail(d.pos, "empty top-level object")
		}
	default:
		v = domain.Rec(domain.NewRecord(d.takeFields(top.start)...))
	}
	d.pos++
	d.depth--
	if d.depth > 0 {
		d.emit(v)
	}
	return nil
}

// takeFields moves fields[start:] into a slice of their own.
func (d *decoder) takeFields(start int) []domain.Field {
	var fs []domain.Field
	if n := len(d.fields) - start; n > 0 {
		fs = make([]domain.Field, n)
		copy(fs, d.fields[start:])
	}
	clear(d.fields[start:])
	d.fields = d.fields[:start]
	return fs
}

// takeValues moves values[start:] into a slice of their own.
func (d *decoder) takeValues(start int) []domain.Value {
	var vs []domain.Value
	if n := len(d.values) - start; n > 0 {
		vs = make([]domain.Value, n)
		copy(vs, d.values[start:])
	}
	clear(d.values[start:])
	d.values = d.values[:start]
	return vs
}

// emit hands a complete value to the innermost open container.
func (d *decoder) emit(v domain.Value) {
	if d.frames[d.depth-1].list {
		d.values = append(grow(d.values), v)
		return
	}
	d.fields[len(d.fields)-1].Value = v
}

// checkKey fails if the object top already has key; at is where key starts.
func (d *decoder) checkKey(top *frame, key string, at int) error {
	earlier := d.fields[top.start:]
	if len(earlier) < linearKeys {
		for i := range earlier {
			if earlier[i].Key == key {
				return d.fail(at, "duplicate key "+quoteKey(key))
			}
		}
		return nil
	}
	if d.keys == nil {
		d.keys = make(map[objectKey]struct{})
	}
	if !top.indexed {
		for i := range earlier {
			d.keys[objectKey{top.id, earlier[i].Key}] = struct{}{}
		}
		top.indexed = true
	}
	k := objectKey{top.id, key}
	if _, dup := d.keys[k]; dup {
		return d.fail(at, "duplicate key "+quoteKey(key))
	}
	d.keys[k] = struct{}{}
	return nil
}

// str reads the string whose opening quote is at pos. A string without
// escapes is a substring of the input copy and costs no allocation.
func (d *decoder) str() (string, error) {
	open := d.pos
	body := d.s[open+1:]
	end := strings.IndexByte(body, '"')
	if end < 0 {
		return "", d.fail(open, "unterminated string")
	}
	if strings.IndexByte(body[:end], '\\') < 0 {
		d.pos = open + 1 + end + 1
		return body[:end], nil
	}
	return d.escapedStr(open)
}

// escapedStr reads a string that has a backslash before its first '"': the
// closing quote is the first one not escaped, so it must be found again.
func (d *decoder) escapedStr(open int) (string, error) {
	end := open + 1
	for ; end < len(d.s) && d.s[end] != '"'; end++ {
		if d.isEscape(end) {
			end++
		}
	}
	if end >= len(d.s) {
		return "", d.fail(open, "unterminated string")
	}
	var b strings.Builder
	b.Grow(end - open - 1)
	for i := open + 1; i < end; i++ {
		if d.isEscape(i) {
			i++
		}
		b.WriteByte(d.s[i])
	}
	d.pos = end + 1
	return b.String(), nil
}

// isEscape reports whether the byte at i starts `\"` or `\\`. A backslash
// before anything else stands for itself.
func (d *decoder) isEscape(i int) bool {
	if d.s[i] != '\\' || i+1 >= len(d.s) {
		return false
	}
	next := d.s[i+1]
	return next == '"' || next == '\\'
}

// grow makes room for one more item on a scratch stack by doubling it.
// append alone grows large slices by a quarter at a time, which leaves
// behind garbage of four times the final size; doubling leaves at most
// twice, and hostile records are made of nothing but such growth.
func grow[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	return slices.Grow(s, max(cap(s), 4))
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

func (d *decoder) skipSpace() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\r', '\n':
			d.pos++
		default:
			return
		}
	}
}

// unexpected reports the byte at pos, which is not what the grammar wants.
func (d *decoder) unexpected(expected string) error {
	return d.fail(d.pos, expected+", found "+describeByte(d.s, d.pos))
}

func (d *decoder) fail(at int, msg string) error {
	return &SyntaxError{Offset: at, Msg: msg}
}
