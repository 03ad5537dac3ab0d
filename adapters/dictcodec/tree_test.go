package dictcodec_test

// The tests' own model of a record: an ordered tree of strings, objects
// and lists, which the codec never builds. The reference reader produces
// it, the random generators build it, and appendTree writes it
// canonically, so that the typed decoders can be checked against the
// whole grammar.

type tRecord struct {
	fields []tField
}

// Field is one key and its value.
type tField struct {
	Key   string
	Value tValue
}

// Kind says which of the three shapes a Value has.
type tKind uint8

const (
	kindString tKind = iota
	kindRecord
	kindList
)

// Value is a string, a nested record or a list of values. It is a small
// struct rather than an interface so that decoding does not allocate one
// box per value, and it is as small as the three shapes allow (32 bytes),
// because a hostile record of empty values is made of little else: the
// string is held inline and the rest behind ref, whose dynamic type tells
// the shapes apart.
type tValue struct {
	str string
	// ref is nil for a string. For a record it is a *tRecord (nil only if
	// Rec was given nil). For a list it is (*[]tValue)(nil) when the list is
	// empty, a *[1]tValue into the items when it has one item, so that a
	// chain of one-item lists costs no slice header per level, and a
	// *[]tValue otherwise.
	ref any
}

// Str returns a string value.
func tStr(s string) tValue { return tValue{str: s} }

// Rec returns a nested-record value.
func tRec(r *tRecord) tValue { return tValue{ref: r} }

// ListOf returns a list value. The list shares items' storage.
func tList(items ...tValue) tValue {
	switch len(items) {
	case 0:
		return tValue{ref: (*[]tValue)(nil)}
	case 1:
		return tValue{ref: (*[1]tValue)(items)}
	}
	// A copy, so that only lists that need a slice header pay for one:
	// were &items taken, every call would move items to the heap.
	header := items
	return tValue{ref: &header}
}

// Kind reports the value's shape.
func (v tValue) Kind() tKind {
	switch v.ref.(type) {
	case nil:
		return kindString
	case *tRecord:
		return kindRecord
	}
	return kindList
}

// String returns the value's string and whether the value is a string.
func (v tValue) String() (string, bool) { return v.str, v.ref == nil }

// Record returns the nested record and whether the value is one.
func (v tValue) Record() (*tRecord, bool) {
	r, ok := v.ref.(*tRecord)
	return r, ok
}

// List returns the list's items and whether the value is a list.
func (v tValue) List() ([]tValue, bool) {
	switch items := v.ref.(type) {
	case *[1]tValue:
		return items[:], true
	case *[]tValue:
		if items == nil {
			return nil, true
		}
		return *items, true
	}
	return nil, false
}

// NewRecord returns a record holding fields in the given order.
func newTRecord(fields ...tField) *tRecord {
	return &tRecord{fields: fields}
}

// Len returns the number of fields.
func (r *tRecord) Len() int { return len(r.fields) }

// Fields returns the fields in order. The slice is the record's own: do not
// modify it.
func (r *tRecord) Fields() []tField { return r.fields }

// Get returns the value under key.
func (r *tRecord) Get(key string) (tValue, bool) {
	for _, f := range r.fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return tValue{}, false
}

// Has reports whether the record has key, whatever its value.
func (r *tRecord) Has(key string) bool {
	_, ok := r.Get(key)
	return ok
}

// GetString returns the value under key if it is present and a string.
func (r *tRecord) GetString(key string) (string, bool) {
	v, ok := r.Get(key)
	if !ok {
		return "", false
	}
	return v.String()
}

// Set puts value under key: in place if the key is present, else at the end.
func (r *tRecord) Set(key string, value tValue) {
	for i := range r.fields {
		if r.fields[i].Key == key {
			r.fields[i].Value = value
			return
		}
	}
	r.fields = append(r.fields, tField{Key: key, Value: value})
}

// Append adds a field at the end without looking for an existing key. It is
// for builders that already know the key is new (a decoder that checked for
// duplicates, an encoder of a fixed layout); Set is the safe form.
func (r *tRecord) Append(key string, value tValue) {
	r.fields = append(r.fields, tField{Key: key, Value: value})
}

// Reset empties the record, keeping its storage for reuse.
func (r *tRecord) Reset() {
	clear(r.fields)
	r.fields = r.fields[:0]
}

// appendTree writes r canonically, by the rules of PROTOCOL.md section 2
// and independently of the encoders under test. A nil record is `{}`.
func appendTree(dst []byte, r *tRecord) []byte {
	dst = append(dst, '{')
	if r != nil {
		for i, f := range r.Fields() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(dst, quote(f.Key)...), ':')
			dst = appendTreeValue(dst, f.Value)
		}
	}
	return append(dst, '}')
}

func appendTreeValue(dst []byte, v tValue) []byte {
	switch v.Kind() {
	case kindRecord:
		r, _ := v.Record()
		return appendTree(dst, r)
	case kindList:
		items, _ := v.List()
		dst = append(dst, '[')
		for i, item := range items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendTreeValue(dst, item)
		}
		return append(dst, ']')
	default:
		s, _ := v.String()
		return append(dst, quote(s)...)
	}
}
