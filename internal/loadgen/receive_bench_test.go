package loadgen

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"pcx/adapters/dictcodec"
	"pcx/adapters/framing"
	"pcx/domain"
)

// BenchmarkReceive measures what a fan-out receiver spends per delivered
// message (frame read from a buffered stream, fast-path parse, checks,
// latency record): the tool's share of every delivery.
func BenchmarkReceive(b *testing.B) {
	const frames = 1 << 16
	f := newFanout(Config{Clients: 2, Senders: 1, Messages: frames, Size: 64})
	var stream bytes.Buffer
	at := time.Now()
	for seq := range frames {
		text := AppendStamp(nil, Stamp{Sender: 0, Seq: uint64(seq), SentNS: 1}, 64)
		rel := domain.Relayed(at, string(f.nicks[0]), domain.ChatMessage{Text: string(text)})
		body := dictcodec.AppendRelay(nil, &rel)
		stream.Write(binary.BigEndian.AppendUint32(nil, uint32(len(body))))
		stream.Write(body)
	}
	b.SetBytes(int64(stream.Len()))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := &fanReceiver{run: f, checker: NewChecker(1, frames, 1), progress: f.recv[1].progress}
		fr := framing.NewReader(bytes.NewReader(stream.Bytes()))
		buf := make([]byte, 0, 4096)
		b.StartTimer()
		for range frames {
			body, err := fr.ReadRecord(buf, maxRecord)
			if err != nil {
				b.Fatal(err)
			}
			r.handle(body, int64(time.Since(f.start)))
		}
		if lost, _, _, _ := r.checker.Counts(); lost != 0 {
			b.Fatalf("%d lost", lost)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/msg")
}
