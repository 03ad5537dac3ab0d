package nats

import (
	"encoding/binary"
	"errors"
	"fmt"

	"pcx/ports"
)

// An event on the bus is one NATS message:
//
//	version  1 byte   wireVersion
//	kind     1 byte   ports.BusEventKind
//	epoch    8 bytes  the publishing node's run (random at start), big endian
//	seq      8 bytes  the event's number in that run, from 1
//	order    8 bytes  a join's claim order (ports.BusEvent.Order), else 0
//	node     1 byte length + bytes
//	nickname 1 byte length + bytes
//	attach   1 byte: 0, or 1 followed by a 1 byte length + id and 8 bytes size
//	record   the rest: the encoded record, relayed as it is
//
// The receiving node does not decode the record: it writes the bytes to its
// users as the origin encoded them.
const wireVersion = 2 // 2: the order field

// headerLen is the fixed part: version, kind, epoch, seq and order.
const headerLen = 2 + 3*8

var errMalformed = errors.New("nats: malformed bus event")

// wireEvent is a bus event with the run it belongs to.
type wireEvent struct {
	ports.BusEvent
	epoch uint64
}

func encodeEvent(ev wireEvent) ([]byte, error) {
	if len(ev.Node) > 255 || len(ev.Nickname) > 255 {
		return nil, fmt.Errorf("nats: encode event: node or nickname over 255 bytes")
	}
	size := headerLen + 1 + len(ev.Node) + 1 + len(ev.Nickname) + 1 + len(ev.Record)
	if a := ev.Attachment; a != nil {
		if len(a.ID) > 255 {
			return nil, fmt.Errorf("nats: encode event: attachment id over 255 bytes")
		}
		size += 1 + len(a.ID) + 8
	}
	b := make([]byte, 0, size)
	b = append(b, wireVersion, byte(ev.Kind))
	b = binary.BigEndian.AppendUint64(b, ev.epoch)
	b = binary.BigEndian.AppendUint64(b, ev.Seq)
	b = binary.BigEndian.AppendUint64(b, ev.Order)
	b = append(b, byte(len(ev.Node)))
	b = append(b, ev.Node...)
	b = append(b, byte(len(ev.Nickname)))
	b = append(b, ev.Nickname...)
	if a := ev.Attachment; a != nil {
		b = append(b, 1, byte(len(a.ID)))
		b = append(b, a.ID...)
		b = binary.BigEndian.AppendUint64(b, uint64(a.Size))
	} else {
		b = append(b, 0)
	}
	return append(b, ev.Record...), nil
}

// decodeEvent reads what anyone may have published on the subject: it
// checks every length against what is there. The event's Record aliases b.
func decodeEvent(b []byte) (wireEvent, error) {
	var ev wireEvent
	if len(b) < headerLen || b[0] != wireVersion {
		return ev, errMalformed
	}
	ev.Kind = ports.BusEventKind(b[1])
	if ev.Kind < ports.BusJoin || ev.Kind > ports.BusShutdown {
		return ev, fmt.Errorf("%w: kind %d", errMalformed, b[1])
	}
	ev.epoch = binary.BigEndian.Uint64(b[2:])
	ev.Seq = binary.BigEndian.Uint64(b[10:])
	ev.Order = binary.BigEndian.Uint64(b[18:])
	rest := b[headerLen:]
	var ok bool
	if ev.Node, rest, ok = shortString(rest); !ok || ev.Node == "" {
		return ev, errMalformed
	}
	if ev.Nickname, rest, ok = shortString(rest); !ok || len(rest) < 1 {
		return ev, errMalformed
	}
	hasAttachment := rest[0]
	rest = rest[1:]
	switch hasAttachment {
	case 0:
	case 1:
		var id string
		if id, rest, ok = shortString(rest); !ok || len(rest) < 8 {
			return ev, errMalformed
		}
		size := int64(binary.BigEndian.Uint64(rest))
		if size < 0 {
			return ev, errMalformed
		}
		ev.Attachment = &ports.BusAttachment{ID: id, Size: size}
		rest = rest[8:]
	default:
		return ev, errMalformed
	}
	if ev.Seq == 0 {
		return ev, fmt.Errorf("%w: sequence number 0", errMalformed)
	}
	ev.Record = rest
	return ev, nil
}

func shortString(b []byte) (string, []byte, bool) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return "", nil, false
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], true
}
