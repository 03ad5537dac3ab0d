package ports

import "pcx/domain"

//go:generate go tool mockgen -typed -destination=mocks/codec.go -package=mocks pcx/ports Codec

// Codec turns records into bytes and back (PROTOCOL.md section 2).
type Codec interface {
	// AppendRecord appends the canonical encoding of r to dst and returns
	// the extended buffer. It does not allocate when dst has room.
	AppendRecord(dst []byte, r *domain.Record) []byte
	// DecodeRecord parses one whole record. Its errors say at which byte
	// offset the input went wrong. The record does not alias src.
	DecodeRecord(src []byte) (domain.Record, error)
}
