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

var (
	_ ports.ServerCodec = (*Codec)(nil)
	_ ports.ClientCodec = (*Codec)(nil)
)

// DecodeLogin reads a login record; see the package function.
func (*Codec) DecodeLogin(src []byte) (domain.LoginRecord, error) { return DecodeLogin(src) }

// DecodeInbound reads a record a logged-in client sent; see the package
// function.
func (*Codec) DecodeInbound(src []byte) (domain.InboundRecord, error) { return DecodeInbound(src) }

// DecodeStatus reads a reply to a login; see the package function.
func (*Codec) DecodeStatus(src []byte) (domain.StatusRecord, error) { return DecodeStatus(src) }

// DecodeRelay reads a record a server sent after login; see the package
// function.
func (*Codec) DecodeRelay(src []byte) (domain.RelayRecord, error) { return DecodeRelay(src) }

// AppendStatus writes a reply to a login; see the package function.
func (*Codec) AppendStatus(dst []byte, refusal error) []byte { return AppendStatus(dst, refusal) }

// AppendRelay writes a record a server sends after login; see the package
// function.
func (*Codec) AppendRelay(dst []byte, r *domain.Relay) []byte { return AppendRelay(dst, r) }

// AppendLogin writes a login record; see the package function.
func (*Codec) AppendLogin(dst []byte, nick string) []byte { return AppendLogin(dst, nick) }

// AppendRequest writes a message or a command; see the package function.
func (*Codec) AppendRequest(dst []byte, r *domain.Request) []byte { return AppendRequest(dst, r) }
