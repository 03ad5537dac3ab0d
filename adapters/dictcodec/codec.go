// Package dictcodec reads and writes records in the "dict format" of
// PROTOCOL.md section 2: a JSON look-alike with only strings, objects and
// lists, where inside strings only `"` and `\` are escaped.
//
// Writing always produces the canonical form (no whitespace, keys in record
// order). Reading is strict about structure but lenient where the reference
// implementation is: whitespace between tokens, and a `\` before any byte
// other than `"` or `\` stands for itself.
package dictcodec

import (
	"pcx/domain"
	"pcx/ports"
)

// Codec is the dict-format adapter of ports.Codec. It has no state, so one
// value may be shared by any number of goroutines.
type Codec struct{}

var _ ports.Codec = (*Codec)(nil)

// New returns the dict-format codec.
func New() *Codec { return &Codec{} }

// AppendRecord appends the canonical encoding of r to dst; see Append.
func (*Codec) AppendRecord(dst []byte, r *domain.Record) []byte { return Append(dst, r) }

// DecodeRecord parses one whole record; see Decode.
func (*Codec) DecodeRecord(src []byte) (domain.Record, error) { return Decode(src) }
