// Package testpeer is a raw protocol peer for tests: it speaks frames and
// dict-format records directly, so a test can send exactly the bytes it
// wants (garbage included) and check exactly what the server sends back.
package testpeer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/domain"
	"pcx/ports"
)

// Timeout bounds every wait of a peer, so a broken server fails a test
// instead of hanging it.
const Timeout = 10 * time.Second

// Peer is one test connection.
type Peer struct {
	t    testing.TB
	Conn ports.Conn
}

// New wraps conn; the peer's connection is closed when the test ends.
func New(t testing.TB, conn ports.Conn) *Peer {
	t.Cleanup(func() { conn.Close() })
	return &Peer{t: t, Conn: conn}
}

// SendRecord encodes r and sends it as one frame.
func (p *Peer) SendRecord(fields ...string) {
	p.t.Helper()
	p.SendRaw(Encode(fields...))
}

// SendRaw sends each body as one frame.
func (p *Peer) SendRaw(bodies ...[]byte) {
	p.t.Helper()
	require.NoError(p.t, p.Conn.Writer().WriteFrames(bodies))
}

// Login sends a login record and requires success.
func (p *Peer) Login(nick string) {
	p.t.Helper()
	p.SendRecord("nickname", nick)
	p.ExpectStatus("success")
}

// ExpectStatus requires the next record to be {"status": want}.
func (p *Peer) ExpectStatus(want string) {
	p.t.Helper()
	rec := p.Next()
	got, ok := rec.GetString("status")
	require.Truef(p.t, ok, "expected a status reply, got %s", rec.Body)
	require.Equal(p.t, want, got)
}

// Record is a record a server sent, read by a client's two decoders: as a
// status reply and as a relayed message.
type Record struct {
	Body string // as it came
	domain.RelayRecord
	Status domain.Raw
}

// GetString returns the string under one of the keys a client reads.
func (r *Record) GetString(key string) (string, bool) {
	raw := map[string]domain.Raw{
		domain.KeyStatus: r.Status, domain.KeyTime: r.Time, domain.KeyNickname: r.Nickname,
		domain.KeyText: r.Text, domain.KeyAttachment: r.Attachment,
	}[key]
	return raw.Str, raw.Kind == domain.RawString
}

func decode(body []byte) (Record, error) {
	rel, err := dictcodec.DecodeRelay(body)
	if err != nil {
		return Record{}, err
	}
	status, err := dictcodec.DecodeStatus(body)
	if err != nil {
		return Record{}, err
	}
	return Record{Body: string(body), RelayRecord: rel, Status: status.Status}, nil
}

// Next reads the next record.
func (p *Peer) Next() Record {
	p.t.Helper()
	require.NoError(p.t, p.Conn.Reader().SetReadDeadline(time.Now().Add(Timeout)))
	body, err := p.Conn.Reader().ReadRecord(nil, domain.HardMaxRecord)
	require.NoError(p.t, err, "reading a record")
	rec, err := decode(body)
	require.NoError(p.t, err, "decoding %q", body)
	return rec
}

// NextMessage reads the next record and returns its nickname and text.
func (p *Peer) NextMessage() (nick, text string) {
	p.t.Helper()
	rec := p.Next()
	require.Equal(p.t, domain.RawString, rec.Time.Kind, "message without time: %s", rec.Body)
	return rec.Nickname.Str, rec.Text.Str
}

// Expect requires the next record to be a message from nick saying text.
func (p *Peer) Expect(nick, text string) Record {
	p.t.Helper()
	rec := p.Next()
	require.Equalf(p.t, [2]string{nick, text}, [2]string{rec.Nickname.Str, rec.Text.Str}, "record %s", rec.Body)
	return rec
}

// NextPayload reads the next frame whole as an attachment payload.
func (p *Peer) NextPayload() []byte {
	p.t.Helper()
	require.NoError(p.t, p.Conn.Reader().SetReadDeadline(time.Now().Add(Timeout)))
	n, r, err := p.Conn.Reader().ReadPayload()
	require.NoError(p.t, err)
	var buf bytes.Buffer
	_, err = io.Copy(&buf, r)
	require.NoError(p.t, err)
	require.EqualValues(p.t, n, buf.Len())
	return append([]byte{}, buf.Bytes()...) // never nil, so an empty payload equals []byte{}
}

// ExpectClosed requires the server to close the connection, possibly after
// some records, which it returns.
func (p *Peer) ExpectClosed() []Record {
	p.t.Helper()
	got, err := p.ReadUntilClosed()
	require.NoError(p.t, err)
	return got
}

// ReadUntilClosed reads records until the server closes the connection
// and returns them; it fails if the connection stays open past Timeout.
// Unlike the Expect methods it may be called from any goroutine.
func (p *Peer) ReadUntilClosed() ([]Record, error) {
	// A pipe whose far end is already closed refuses deadlines; that is fine.
	_ = p.Conn.Reader().SetReadDeadline(time.Now().Add(Timeout))
	var got []Record
	for {
		body, err := p.Conn.Reader().ReadRecord(nil, domain.HardMaxRecord)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return got, fmt.Errorf("the server did not close the connection within %v", Timeout)
		}
		if err != nil {
			return got, nil
		}
		rec, err := decode(body)
		if err != nil {
			return got, err
		}
		got = append(got, rec)
	}
}

// ExpectSilence requires that nothing arrives for a short while.
func (p *Peer) ExpectSilence(d time.Duration) {
	p.t.Helper()
	require.NoError(p.t, p.Conn.Reader().SetReadDeadline(time.Now().Add(d)))
	body, err := p.Conn.Reader().ReadRecord(nil, domain.HardMaxRecord)
	require.Errorf(p.t, err, "expected nothing, got %q", body)
}

// Encode builds a record of string values from key, value pairs and
// encodes it canonically: any keys, in the order given, repeats included.
func Encode(fields ...string) []byte {
	b := []byte{'{'}
	for i := 0; i+1 < len(fields); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(quote(b, fields[i]), ':')
		b = quote(b, fields[i+1])
	}
	return append(b, '}')
}

var escaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func quote(b []byte, s string) []byte {
	return append(append(append(b, '"'), escaper.Replace(s)...), '"')
}
