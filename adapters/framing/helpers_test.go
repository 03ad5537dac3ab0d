package framing_test

import (
	"encoding/binary"
	"io"
	"testing/iotest"
)

// wire encodes bodies as frames, the way the protocol puts them on the wire.
func wire(bodies ...string) []byte {
	var out []byte
	for _, b := range bodies {
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out
}

// header encodes a bare frame header announcing n bytes of body.
func header(n uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, n)
}

// readerShapes are the ways a byte stream may hand its bytes over: every
// reading test must pass through each of them.
var readerShapes = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte at a time", iotest.OneByteReader},
	{"half of each read", iotest.HalfReader},
	{"EOF with the last data", iotest.DataErrReader},
}

// script is a reader that plays its steps in order: each step hands over
// some bytes or fails with an error, once; after the last step it says EOF.
type script []step

type step struct {
	data []byte
	err  error
}

func (s *script) Read(p []byte) (int, error) {
	if len(*s) == 0 {
		return 0, io.EOF
	}
	st := &(*s)[0]
	if st.err != nil {
		err := st.err
		*s = (*s)[1:]
		return 0, err
	}
	n := copy(p, st.data)
	st.data = st.data[n:]
	if len(st.data) == 0 {
		*s = (*s)[1:]
	}
	return n, nil
}
