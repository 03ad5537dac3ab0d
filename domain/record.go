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
// box per value.
type Value struct {
	str  string
	rec  *Record
	list []Value
	kind Kind
}

// Str returns a string value.
func Str(s string) Value { return Value{str: s, kind: KindString} }

// Rec returns a nested-record value.
func Rec(r *Record) Value { return Value{rec: r, kind: KindRecord} }

// ListOf returns a list value.
func ListOf(items ...Value) Value { return Value{list: items, kind: KindList} }

// Kind reports the value's shape.
func (v Value) Kind() Kind { return v.kind }

// String returns the value's string and whether the value is a string.
func (v Value) String() (string, bool) { return v.str, v.kind == KindString }

// Record returns the nested record and whether the value is one.
func (v Value) Record() (*Record, bool) { return v.rec, v.kind == KindRecord }

// List returns the list's items and whether the value is a list.
func (v Value) List() ([]Value, bool) { return v.list, v.kind == KindList }

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
