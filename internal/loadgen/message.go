package loadgen

import (
	"errors"
	"fmt"
	"hash/crc32"
)

// A load message's text carries who sent it, its place in the sender's
// sequence and when it was sent, so that every receiver can check delivery
// on its own, with no shared state:
//
//	lg0003.0000002a.00000001f3a4.9c1e22d7.klmnopqrstuv…
//	  |    |        |            |        padding up to the wanted size
//	  |    |        |            CRC-32C of everything but this field
//	  |    |        send time: ns since the run's start, 12 hex digits
//	  |    sequence number, 8 hex digits
//	  sender index, 4 hex digits
//
// Fixed-width lowercase hex keeps the text pure ASCII (so a server has
// nothing to escape or normalize) and lets a receiver parse it at fixed
// offsets, without a record decoder.
const (
	stampMagic = "lg"
	senderOff  = len(stampMagic)
	senderLen  = 4
	seqOff     = senderOff + senderLen + 1
	seqLen     = 8
	sentOff    = seqOff + seqLen + 1
	sentLen    = 12
	crcOff     = sentOff + sentLen + 1
	crcLen     = 8
	// StampLen is the length of a load text without padding: the smallest
	// text a fan-out run sends.
	StampLen = crcOff + crcLen + 1
)

// Limits of the fields of a Stamp.
const (
	MaxSenders = 1 << (4 * senderLen)
	MaxSeq     = 1 << (4 * seqLen)
	maxSent    = 1 << (4 * sentLen) // about 78 hours of nanoseconds
)

// Errors of ParseStamp.
var (
	// ErrNotStamp means the text does not start like a load message: it is
	// someone else's text, not a garbled one of ours.
	ErrNotStamp = errors.New("loadgen: text is not a load message")
	// ErrGarbled means the text starts like a load message but a field or
	// its checksum is wrong.
	ErrGarbled = errors.New("loadgen: garbled load message")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Stamp is what a load message's text carries.
type Stamp struct {
	Sender int    // index of the sending client, < MaxSenders
	Seq    uint64 // 0, 1, 2… per sender, < MaxSeq
	SentNS int64  // send time, nanoseconds since the run's start
}

// AppendStamp appends the text of s, padded to size bytes (StampLen when
// size is smaller), to dst.
func AppendStamp(dst []byte, s Stamp, size int) []byte {
	start := len(dst)
	dst = append(dst, stampMagic...)
	dst = appendHex(dst, uint64(s.Sender), senderLen)
	dst = append(dst, '.')
	dst = appendHex(dst, s.Seq, seqLen)
	dst = append(dst, '.')
	dst = appendHex(dst, uint64(s.SentNS), sentLen)
	dst = append(dst, '.')
	dst = append(dst, "00000000."...) // the checksum's place
	for i := StampLen; i < size; i++ {
		dst = append(dst, padByte(s.Seq, i))
	}
	text := dst[start:]
	putHex(text[crcOff:crcOff+crcLen], uint64(stampCRC(text)))
	return dst
}

// padByte is the padding at offset i of the text of message seq: letters
// that shift with seq, so that a message padded with another's bytes fails
// its checksum like any other corruption.
func padByte(seq uint64, i int) byte {
	return 'a' + byte((seq+uint64(i))%26)
}

// stampCRC is the checksum of a text, over every byte but its own field.
func stampCRC(text []byte) uint32 {
	c := crc32.Update(0, castagnoli, text[:crcOff])
	return crc32.Update(c, castagnoli, text[crcOff+crcLen:])
}

// ParseStamp reads the stamp of a load text. It returns ErrNotStamp for a
// text that does not start with the magic, and an error wrapping ErrGarbled
// for one that does but is malformed or fails its checksum.
func ParseStamp(text []byte) (Stamp, error) {
	if len(text) < len(stampMagic) || string(text[:len(stampMagic)]) != stampMagic {
		return Stamp{}, ErrNotStamp
	}
	if len(text) < StampLen {
		return Stamp{}, fmt.Errorf("%w: %d bytes is shorter than a stamp", ErrGarbled, len(text))
	}
	if text[seqOff-1] != '.' || text[sentOff-1] != '.' || text[crcOff-1] != '.' || text[StampLen-1] != '.' {
		return Stamp{}, fmt.Errorf("%w: separators out of place", ErrGarbled)
	}
	sender, ok1 := parseHex(text[senderOff : senderOff+senderLen])
	seq, ok2 := parseHex(text[seqOff : seqOff+seqLen])
	sent, ok3 := parseHex(text[sentOff : sentOff+sentLen])
	sum, ok4 := parseHex(text[crcOff : crcOff+crcLen])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return Stamp{}, fmt.Errorf("%w: a field is not lowercase hex", ErrGarbled)
	}
	if uint32(sum) != stampCRC(text) {
		return Stamp{}, fmt.Errorf("%w: checksum mismatch", ErrGarbled)
	}
	return Stamp{Sender: int(sender), Seq: seq, SentNS: int64(sent)}, nil
}

const hexDigits = "0123456789abcdef"

// appendHex appends v as exactly width lowercase hex digits (the low
// 4·width bits of v).
func appendHex(dst []byte, v uint64, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(4*i))&0xf])
	}
	return dst
}

// putHex writes v as len(dst) lowercase hex digits into dst.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// hexValue maps a lowercase hex digit to its value, any other byte to
// notHex: one load per digit, no branches, on the receivers' hot path.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = notHex
	}
	for i, c := range []byte(hexDigits) {
		t[c] = byte(i)
	}
	return t
}()

const notHex = 0xff

// parseHex reads lowercase hex digits; ok is false on any other byte.
func parseHex(b []byte) (v uint64, ok bool) {
	var bad byte
	for _, c := range b {
		d := hexValue[c]
		bad |= d & 0xf0
		v = v<<4 | uint64(d&0xf)
	}
	return v, bad == 0
}
