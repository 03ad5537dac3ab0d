package framing_test

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pcx/adapters/framing"
)

// batch is 64 records of about 100 bytes: what a busy chat connection's
// write loop might flush at once.
func batch() [][]byte {
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = bytes.Repeat([]byte{'r'}, 100)
	}
	return bodies
}

func batchBytes(bodies [][]byte) int64 {
	var n int64
	for _, b := range bodies {
		n += int64(4 + len(b))
	}
	return n
}

func BenchmarkWriteFrames(b *testing.B) {
	bodies := batch()
	b.Run("to io.Discard", func(b *testing.B) {
		w := framing.NewWriter(io.Discard)
		b.SetBytes(batchBytes(bodies))
		b.ReportAllocs()
		for b.Loop() {
			if err := w.WriteFrames(bodies); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, timeout := range []time.Duration{0, 30 * time.Second} {
		b.Run("over loopback TCP/write timeout "+timeout.String(), func(b *testing.B) {
			client, server := tcpPairB(b)
			drained := drain(server)
			c := framing.NewConn(client, framing.Options{WriteTimeout: timeout})
			b.SetBytes(batchBytes(bodies))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Writer().WriteFrames(bodies); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			_ = c.Close()
			<-drained
		})
	}
}

func BenchmarkReadRecord(b *testing.B) {
	stream := wire(string(bytes.Repeat([]byte{'r'}, 100)))
	b.Run("from memory", func(b *testing.B) {
		r := framing.NewReader(&cycle{data: bytes.Repeat(stream, 1000)})
		buf := make([]byte, 0, 1024)
		b.SetBytes(int64(len(stream)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.ReadRecord(buf, 1024); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("over loopback TCP", func(b *testing.B) {
		client, server := tcpPairB(b)
		fed := make(chan struct{})
		go func() { // feed until the reader closes
			defer close(fed)
			chunk := bytes.Repeat(stream, 1000)
			for {
				if _, err := client.Write(chunk); err != nil {
					_ = client.Close()
					return
				}
			}
		}()
		c := framing.NewConn(server, framing.Options{})
		buf := make([]byte, 0, 1024)
		b.SetBytes(int64(len(stream)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Reader().ReadRecord(buf, 1024); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		_ = c.Close()
		<-fed
	})
}

// BenchmarkWritePayloadFile sends an 8 MiB file over loopback TCP, which
// goes by sendfile.
func BenchmarkWritePayloadFile(b *testing.B) {
	const size = 8 << 20
	path := filepath.Join(b.TempDir(), "payload")
	if err := os.WriteFile(path, bytes.Repeat([]byte{'f'}, size), 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	client, server := tcpPairB(b)
	drained := drain(server)
	c := framing.NewConn(client, framing.Options{WriteTimeout: 30 * time.Second})
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		if err := c.Writer().WritePayload(size, f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = c.Close()
	<-drained
}

// drain reads c until it fails, then closes it; the channel closes after.
func drain(c net.Conn) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close()
		close(done)
	}()
	return done
}

// cycle is an endless reader that repeats data.
type cycle struct {
	data []byte
	off  int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}

func tcpPairB(b *testing.B) (client, server net.Conn) {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return client, <-accepted
}
