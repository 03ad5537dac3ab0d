package domain

// Record is an ordered dictionary, the unit every record frame on the wire
// carries (PROTOCOL.md section 2). Keys keep the order they were added in;
// values are strings, nested records or lists. Strings are byte strings:
// whether they must be valid UTF-8 is a rule of the conversation, checked by
// whoever reads the record, not by the record itself.
//
// The zero Record is empty and ready to use.
type Record struct {
	fields []Field
}

// Field is one key and its value.
type Field struct {
	Key   string
	Value Value
}

// Kind says which of the three shapes a Value has.
type Kind uint8

const (
	KindString Kind = iota
	KindRecord
	KindList
)

// Value is a string, a nested record or a list of values. It is a small
// struct rather than an interface so that decoding does not allocate one
// box per value, and it is as small as the three shapes allow (32 bytes),
// because a hostile record of empty values is made of little else: the
// string is held inline and the rest behind ref, whose dynamic type tells
// the shapes apart.
type Value struct {
	str string
	// ref is nil for a string. For a record it is a *Record (nil only if
	// Rec was given nil). For a list it is (*[]Value)(nil) when the list is
	// empty, a *[1]Value into the items when it has one item, so that a
	// chain of one-item lists costs no slice header per level, and a
	// *[]Value otherwise.
	ref any
}

// Str returns a string value.
func Str(s string) Value { return Value{str: s} }

// Rec returns a nested-record value.
func Rec(r *Record) Value { return Value{ref: r} }

// ListOf returns a list value. The list shares items' storage.
func ListOf(items ...Value) Value {
	switch len(items) {
	case 0:
		return Value{ref: (*[]Value)(nil)}
	case 1:
		return Value{ref: (*[1]Value)(items)}
	}
	// A copy, so that only lists that need a slice header pay for one:
	// were &items taken, every call would move items to the heap.
	header := items
	return Value{ref: &header}
}

// Kind reports the value's shape.
func (v Value) Kind() Kind {
	switch v.ref.(type) {
	case nil:
		return KindString
	case *Record:
		return KindRecord
	}
	return KindList
}

// String returns the value's string and whether the value is a string.
func (v Value) String() (string, bool) { return v.str, v.ref == nil }

// Record returns the nested record and whether the value is one.
func (v Value) Record() (*Record, bool) {
	r, ok := v.ref.(*Record)
	return r, ok
}

// List returns the list's items and whether the value is a list.
func (v Value) List() ([]Value, bool) {
	switch items := v.ref.(type) {
	case *[1]Value:
		return items[:], true
	case *[]Value:
		if items == nil {
			return nil, true
		}
		return *items, true
	}
	return nil, false
}

// NewRecord returns a record holding fields in the given order.
func NewRecord(fields ...Field) *Record {
	return &Record{fields: fields}
}

// Len returns the number of fields.
func (r *Record) Len() int { return len(r.fields) }

// Fields returns the fields in order. The slice is the record's own: do not
// modify it.
func (r *Record) Fields() []Field { return r.fields }

// Get returns the value under key.
func (r *Record) Get(key string) (Value, bool) {
	for _, f := range r.fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return Value{}, false
}

// Has reports whether the record has key, whatever its value.
func (r *Record) Has(key string) bool {
	_, ok := r.Get(key)
	return ok
}

// GetString returns the value under key if it is present and a string.
func (r *Record) GetString(key string) (string, bool) {
	v, ok := r.Get(key)
	if !ok {
		return "", false
	}
	return v.String()
}

// Set puts value under key: in place if the key is present, else at the end.
func (r *Record) Set(key string, value Value) {
	for i := range r.fields {
		if r.fields[i].Key == key {
			r.fields[i].Value = value
			return
		}
	}
	r.fields = append(r.fields, Field{Key: key, Value: value})
}

// Append adds a field at the end without looking for an existing key. It is
// for builders that already know the key is new (a decoder that checked for
// duplicates, an encoder of a fixed layout); Set is the safe form.
func (r *Record) Append(key string, value Value) {
	r.fields = append(r.fields, Field{Key: key, Value: value})
}

// Reset empties the record, keeping its storage for reuse.
func (r *Record) Reset() {
	clear(r.fields)
	r.fields = r.fields[:0]
}
