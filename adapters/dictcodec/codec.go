// Package dictcodec reads and writes records in the "dict format" of
// PROTOCOL.md section 2: a JSON look-alike with only strings, objects and
// lists, where inside strings only `"` and `\` are escaped.
//
// It maps bytes to the domain's typed records and back, at the edge
// (ARCHITECTURE.md): a decoder checks the whole grammar in one pass over
// the bytes (scan.go), keeps the strings of the few top-level keys a kind
// of record is read for and skips the rest without building it, so that a
// hostile record costs at most twice its size (records.go). Writing always
// produces the canonical form: no whitespace, keys in protocol order
// (encode.go). Reading is strict about structure but lenient where the
// reference implementation is: whitespace between tokens, and a `\` before
// any byte other than `"` or `\` stands for itself.
package dictcodec

import (
	"pcx/domain"
	"pcx/ports"
)

// Codec is the dict-format adapter of ports.ServerCodec and
// ports.ClientCodec. It has no state, so one value may be shared by any
// number of goroutines.
type Codec struct{}

// New returns the dict-format codec.
func New() *Codec { return &Codec{} }

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
