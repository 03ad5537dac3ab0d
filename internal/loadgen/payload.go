package loadgen

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
)

// patternLen is the period of the block a payload is cut from.
const patternLen = 64 << 10

// pattern is the pseudo-random block every payload is made of, the same in
// every run, so that any two runs send the same bytes.
var pattern = func() *[patternLen]byte {
	var b [patternLen]byte
	src := rand.NewChaCha8([32]byte{'p', 'c', 'x', '-', 'l', 'o', 'a', 'd'})
	_, _ = src.Read(b[:]) // ChaCha8.Read never fails
	return &b
}()

// payloadReader yields a deterministic pseudo-random stream of a given
// length without holding it: the pattern over and over, each repetition's
// first 8 bytes mixed with its index, so that no two 64 KiB blocks of a
// stream are alike and a block delivered twice or out of place changes the
// hash. It costs a copy per byte, far less than the SHA-256 that checks it.
type payloadReader struct {
	off, n int64 // bytes yielded so far, and in all
}

// newPayload returns the stream of n bytes.
func newPayload(n int64) *payloadReader { return &payloadReader{n: n} }

// Read implements io.Reader.
func (p *payloadReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	done := 0
	for done < len(b) {
		block, within := p.off/patternLen, int(p.off%patternLen)
		k := copy(b[done:], pattern[within:])
		if within < 8 {
			var mix [8]byte
			binary.LittleEndian.PutUint64(mix[:], binary.LittleEndian.Uint64(pattern[:8])^uint64(block))
			copy(b[done:done+k], mix[within:])
		}
		done += k
		p.off += int64(k)
	}
	return done, nil
}

// payloadSum returns the SHA-256 of the stream of n bytes.
func payloadSum(n int64) []byte {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	_, _ = io.CopyBuffer(h, newPayload(n), buf) // neither side fails
	return h.Sum(nil)
}
