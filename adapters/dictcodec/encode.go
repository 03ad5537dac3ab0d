package dictcodec

import (
	"strings"

	"pcx/domain"
)

// Append appends the canonical encoding of r to dst and returns the extended
// buffer: no whitespace, keys in record order, and inside strings only `"`
// and `\` escaped. It allocates only when dst runs out of room.
//
// A nil record is written as `{}`. Append does not check what Decode
// enforces (an empty top-level record, duplicate keys, nesting depth): the
// records it is given are built by the program, not read from the wire.
func Append(dst []byte, r *domain.Record) []byte {
	dst = append(dst, '{')
	if r != nil {
		for i, f := range r.Fields() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, f.Key)
			dst = append(dst, ':')
			dst = appendValue(dst, f.Value)
		}
	}
	return append(dst, '}')
}

func appendValue(dst []byte, v domain.Value) []byte {
	switch v.Kind() {
	case domain.KindRecord:
		r, _ := v.Record()
		return Append(dst, r)
	case domain.KindList:
		items, _ := v.List()
		dst = append(dst, '[')
		for i, item := range items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, item)
		}
		return append(dst, ']')
	default:
		s, _ := v.String()
		return appendString(dst, s)
	}
}

// appendString writes s quoted. Most strings have nothing to escape and are
// copied whole after two vectorised scans; the rest are copied in runs
// between escapes.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	if strings.IndexByte(s, '"') < 0 && strings.IndexByte(s, '\\') < 0 {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
