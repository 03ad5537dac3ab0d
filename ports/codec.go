package ports

import "pcx/domain"

//go:generate go tool mockgen -typed -destination=mocks/codec.go -package=mocks pcx/ports ServerCodec,ClientCodec

// ServerCodec maps the records a server reads and writes (PROTOCOL.md
// sections 2, 3 and 7) to the domain's types and back, at the edge: a
// decoder checks the whole record and hands over only the keys the rules
// read, as domain.Raw values for the domain to judge. Decode errors say at
// which byte offset the input went wrong; decoded values never alias src.
// Encoders write the canonical form, appending to dst; they do not
// allocate when dst has room.
type ServerCodec interface {
	DecodeLogin(src []byte) (domain.LoginRecord, error)
	DecodeInbound(src []byte) (domain.InboundRecord, error)
	// AppendStatus writes the reply to a login: success when refusal is
	// nil, else refusal's sentence.
	AppendStatus(dst []byte, refusal error) []byte
	// AppendRelay writes a relayed message, a notice or the answer to
	// "who".
	AppendRelay(dst []byte, r *domain.Relay) []byte
}

// ClientCodec is ServerCodec's counterpart on the other end of the
// connection, with the same promises.
type ClientCodec interface {
	AppendLogin(dst []byte, nick string) []byte
	AppendRequest(dst []byte, r *domain.Request) []byte
	DecodeStatus(src []byte) (domain.StatusRecord, error)
	DecodeRelay(src []byte) (domain.RelayRecord, error)
}
