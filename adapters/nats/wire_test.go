package nats

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/ports"
)

func TestEventRoundTrip(t *testing.T) {
	for _, ev := range []wireEvent{
		{BusEvent: ports.BusEvent{Kind: ports.BusJoin, Node: "a", Seq: 1, Order: 1 << 50, Nickname: "Ivan", Record: []byte("joined")}, epoch: 7},
		{BusEvent: ports.BusEvent{Kind: ports.BusMessage, Node: "node-2", Seq: 1 << 40, Nickname: "Мария", Record: []byte{0, 1, 2},
			Attachment: &ports.BusAttachment{ID: "42", Size: 1 << 33}}, epoch: 1<<64 - 1},
		{BusEvent: ports.BusEvent{Kind: ports.BusShutdown, Node: "a", Seq: 3, Record: []byte{}}},
	} {
		b, err := encodeEvent(ev)
		require.NoError(t, err)
		got, err := decodeEvent(b)
		require.NoError(t, err)
		assert.Equal(t, ev, got)
	}
}

func TestDecodeRefusesMalformedEvents(t *testing.T) {
	good, err := encodeEvent(wireEvent{BusEvent: ports.BusEvent{Kind: ports.BusMessage, Node: "a", Seq: 1, Nickname: "Ivan",
		Attachment: &ports.BusAttachment{ID: "x", Size: 1}}})
	require.NoError(t, err)
	for i := range len(good) {
		_, err := decodeEvent(good[:i])
		assert.ErrorIs(t, err, errMalformed, "cut at %d", i)
	}
	for name, mutate := range map[string]func(b []byte){
		"version 1":       func(b []byte) { b[0] = 1 },
		"version 3":       func(b []byte) { b[0] = 3 },
		"kind 0":          func(b []byte) { b[1] = 0 },
		"kind 9":          func(b []byte) { b[1] = 9 },
		"sequence 0":      func(b []byte) { copy(b[10:18], make([]byte, 8)) },
		"attachment flag": func(b []byte) { b[26+2+1+4] = 2 },
		"negative size":   func(b []byte) { b[len(b)-8] = 0x80 },
		"empty node":      func(b []byte) { b[26] = 0 },
	} {
		b := bytes.Clone(good)
		mutate(b)
		_, err := decodeEvent(b)
		assert.ErrorIs(t, err, errMalformed, name)
	}
}

// FuzzDecodeEvent: whatever is published on the subject, decoding does not
// panic, and what it accepts encodes back to the same bytes.
func FuzzDecodeEvent(f *testing.F) {
	seed, _ := encodeEvent(wireEvent{BusEvent: ports.BusEvent{Kind: ports.BusMessage, Node: "a", Seq: 1, Nickname: "Ivan",
		Record: []byte("hi"), Attachment: &ports.BusAttachment{ID: "x", Size: 1}}, epoch: 3})
	f.Add(seed)
	join, _ := encodeEvent(wireEvent{BusEvent: ports.BusEvent{Kind: ports.BusJoin, Node: "a", Seq: 2, Order: 12345, Nickname: "Ivan",
		Record: []byte("joined")}, epoch: 3})
	f.Add(join)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvent(b)
		if err != nil {
			return
		}
		again, err := encodeEvent(ev)
		require.NoError(t, err)
		require.Equal(t, b, again)
	})
}

// EncodeForTest lets the black-box tests forge events on the subject.
func EncodeForTest(ev ports.BusEvent, epoch uint64) []byte {
	b, err := encodeEvent(wireEvent{BusEvent: ev, epoch: epoch})
	if err != nil {
		panic(err)
	}
	return b
}
