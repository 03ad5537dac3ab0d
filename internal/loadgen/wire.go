package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"pcx/adapters/dictcodec"
	"pcx/adapters/framing"
	"pcx/adapters/tcp"
	pcxtls "pcx/adapters/tls"
	"pcx/adapters/websocket"
	"pcx/domain"
	"pcx/ports"
)

const (
	// maxRecord is the longest record frame a client accepts; the
	// protocol's hard cap.
	maxRecord = domain.HardMaxRecord
	// writeTimeout bounds a client write that makes no progress.
	writeTimeout = 30 * time.Second
	// loginTimeout bounds the wait for a login's status reply.
	loginTimeout = 30 * time.Second
)

// ErrLoginRefused means the server answered a login with an error status.
var ErrLoginRefused = errors.New("loadgen: login refused")

// client is one logged-in connection of a run. Its conn is read by one
// goroutine and written by at most one other.
type client struct {
	index int
	nick  string
	conn  ports.Conn
}

// dialLogin connects to addr and logs in as nick. It returns once the
// server has said success: from then on the client receives every message.
func dialLogin(ctx context.Context, addr, nick string) (*client, error) {
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	c := &client{nick: nick, conn: conn}
	if err := c.login(ctx); err != nil {
		_ = c.conn.Close()
		return nil, err
	}
	return c, nil
}

// WSScheme before a server address makes the clients dial the server's
// WebSocket (PROTOCOL.md section 8) at that address instead of TCP.
const WSScheme = "ws://"

// TLSScheme before a server address makes the clients dial TLS, accepting
// any key: a benchmark measures the server, it does not guard secrets.
const TLSScheme = "tls://"

// dial connects to addr, over a WebSocket when it starts with WSScheme, in
// TLS when it starts with TLSScheme.
func dial(ctx context.Context, addr string) (ports.Conn, error) {
	if tlsAddr, ok := strings.CutPrefix(addr, TLSScheme); ok {
		d := pcxtls.Dialer{TCP: tcp.Options{WriteTimeout: writeTimeout}, Trust: pcxtls.Trust{SkipVerify: true}}
		c, err := d.Dial(ctx, tlsAddr)
		if err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		return c, nil
	}
	if wsAddr, ok := strings.CutPrefix(addr, WSScheme); ok {
		c, err := websocket.Dialer{WriteTimeout: writeTimeout}.Dial(ctx, wsAddr)
		if err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		return c, nil
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: dial %s: %w", addr, err)
	}
	return framing.NewConn(nc, framing.Options{WriteTimeout: writeTimeout}), nil
}

func (c *client) login(ctx context.Context) error {
	if err := c.conn.Writer().WriteFrames([][]byte{dictcodec.AppendLogin(nil, c.nick)}); err != nil {
		return fmt.Errorf("loadgen: login %s: %w", c.nick, err)
	}
	deadline := time.Now().Add(loginTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.conn.Reader().SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("loadgen: login %s: %w", c.nick, err)
	}
	body, err := c.conn.Reader().ReadRecord(nil, maxRecord)
	if err != nil {
		return fmt.Errorf("loadgen: login %s: status: %w", c.nick, err)
	}
	if err := c.conn.Reader().SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("loadgen: login %s: %w", c.nick, err)
	}
	reply, err := dictcodec.DecodeStatus(body)
	if err != nil {
		return fmt.Errorf("loadgen: login %s: status: %w", c.nick, err)
	}
	ok, reason, err := reply.Result()
	switch {
	case err != nil:
		return fmt.Errorf("loadgen: login %s: status: %w", c.nick, err)
	case !ok:
		return fmt.Errorf("%w: %s: %s", ErrLoginRefused, c.nick, reason)
	}
	return nil
}

// chatHead and chatTail enclose a text in the canonical record
// {"text":TEXT}. A load text holds neither `"` nor `\`, so it needs no
// escaping: a sender writes the codec's output without the codec's cost.
const (
	chatHead = `{"text":"`
	chatTail = `"}`
)

// The canonical relayed record, as a server that writes the protocol's
// canonical form sends it: {"time":"…","nickname":"…","text":"…"}.
const (
	relayHead = `{"time":"`
	relayNick = `","nickname":"`
	relayText = `","text":"`
	relayTail = `"}`
)

// splitRelay finds the nickname and text of a relayed record in canonical
// form without decoding it. ok is false for anything else (extra keys,
// whitespace, an attachment): the caller then decodes the record in full.
// The text is returned as written, escapes included, which is the text
// itself for a load message.
func splitRelay(body []byte) (nick, text []byte, ok bool) {
	if !bytes.HasPrefix(body, []byte(relayHead)) || !bytes.HasSuffix(body, []byte(relayTail)) {
		return nil, nil, false
	}
	rest := body[len(relayHead) : len(body)-len(relayTail)]
	end := bytes.IndexByte(rest, '"') // a time holds no quote
	if end < 0 || !bytes.HasPrefix(rest[end:], []byte(relayNick)) {
		return nil, nil, false
	}
	rest = rest[end+len(relayNick):]
	end = bytes.IndexByte(rest, '"') // nor may a nickname
	if end < 0 || !bytes.HasPrefix(rest[end:], []byte(relayText)) {
		return nil, nil, false
	}
	text = rest[end+len(relayText):]
	if !allQuotesEscaped(text) {
		return nil, nil, false // more keys follow the text
	}
	return rest[:end], text, true
}

// allQuotesEscaped reports whether every `"` in s is escaped: preceded by
// an odd number of backslashes.
func allQuotesEscaped(s []byte) bool {
	for off := 0; ; {
		i := bytes.IndexByte(s[off:], '"')
		if i < 0 {
			return true
		}
		i += off
		slashes := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			slashes++
		}
		if slashes%2 == 0 {
			return false
		}
		off = i + 1
	}
}

// decodeRelay decodes a relayed record with the codec: the slow path, for
// records splitRelay does not take, and for a sample of those it does.
func decodeRelay(body []byte) (domain.Relay, error) {
	rec, err := dictcodec.DecodeRelay(body)
	if err != nil {
		return domain.Relay{}, fmt.Errorf("loadgen: relayed record: %w", err)
	}
	rel, err := rec.Relay()
	if err != nil {
		return domain.Relay{}, fmt.Errorf("loadgen: relayed record: %w", err)
	}
	return rel, nil
}

// checkShape verifies that a record the fast path took is a well-formed
// relayed message: it is exactly what the codec writes for the message it
// decodes to (so its keys are time, nickname and text in that order and
// its time is in the protocol's layout), and its nickname and text are
// what the fast path found.
func checkShape(body, nick, text []byte) error {
	rel, err := decodeRelay(body)
	if err != nil {
		return err
	}
	if canonical := dictcodec.AppendRelay(nil, &rel); !bytes.Equal(canonical, body) {
		return fmt.Errorf("loadgen: relayed record %q is not the canonical %q", body, canonical)
	}
	if rel.Nickname != string(nick) || rel.Text != string(text) {
		return fmt.Errorf("loadgen: relayed record: fast path read %q/%q, codec %q/%q", nick, text, rel.Nickname, rel.Text)
	}
	return nil
}
