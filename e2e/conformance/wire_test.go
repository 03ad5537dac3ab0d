package conformance_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// frame prefixes body with its 4-byte big-endian length (PROTOCOL.md §1).
func frame(body []byte) []byte {
	out := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(out, uint32(len(body)))
	return append(out, body...)
}

// header is only the length prefix of a frame of n bytes.
func header(n uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, n)
}

// readFrameFrom reads one frame; limit guards the test against a garbled
// length.
func readFrameFrom(r io.Reader, limit uint32) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > limit {
		return nil, fmt.Errorf("wire: frame of %d bytes, over the test's limit %d", n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("wire: frame of %d bytes cut short: %w", n, err)
	}
	return body, nil
}

// esc writes s as a canonical dict-format string: only " and \ escaped.
func esc(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// dict writes a flat canonical record from key, value pairs, in order.
func dict(kv ...string) []byte {
	if len(kv)%2 != 0 {
		panic("dict: odd number of arguments")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(esc(kv[i]))
		b.WriteByte(':')
		b.WriteString(esc(kv[i+1]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// timeLayout is the stamp format of PROTOCOL.md §3.
const timeLayout = "2006-01-02 15:04:05.000000+00:00"

var stampPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}\+00:00$`)

// message is a server record of PROTOCOL.md §3.4/§3.5, decoded.
type message struct {
	raw           []byte
	time          time.Time
	stamp         string
	nickname      string
	text          string
	attachment    string
	hasAttachment bool
}

// parseMessage reads a relayed record strictly in canonical form: keys
// time, nickname, text[, attachment] in that order, no whitespace, only \"
// and \\ escapes. Anything else is an error that says where.
func parseMessage(raw []byte) (message, error) {
	pairs, err := parseCanonical(raw)
	if err != nil {
		return message{}, err
	}
	m := message{raw: raw}
	keys := make([]string, len(pairs))
	for i, p := range pairs {
		keys[i] = p[0]
	}
	switch strings.Join(keys, ",") {
	case "time,nickname,text":
	case "time,nickname,text,attachment":
		m.attachment, m.hasAttachment = pairs[3][1], true
	default:
		return message{}, fmt.Errorf("keys %q, want time,nickname,text[,attachment] in %q", keys, raw)
	}
	m.stamp, m.nickname, m.text = pairs[0][1], pairs[1][1], pairs[2][1]
	if !stampPattern.MatchString(m.stamp) {
		return message{}, fmt.Errorf("time %q is not YYYY-MM-DD HH:MM:SS.ffffff+00:00", m.stamp)
	}
	m.time, err = time.Parse(timeLayout, m.stamp)
	if err != nil {
		return message{}, fmt.Errorf("time %q: %w", m.stamp, err)
	}
	return m, nil
}

// parseCanonical reads a flat object of strings in canonical form.
func parseCanonical(raw []byte) ([][2]string, error) {
	p := &canonicalParser{in: raw}
	if !p.eat('{') {
		return nil, p.fail("want {")
	}
	var pairs [][2]string
	for {
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		if !p.eat(':') {
			return nil, p.fail("want :")
		}
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, [2]string{k, v})
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return nil, p.fail("want , or }")
		}
	}
	if p.pos != len(p.in) {
		return nil, p.fail("bytes after }")
	}
	return pairs, nil
}

type canonicalParser struct {
	in  []byte
	pos int
}

func (p *canonicalParser) eat(c byte) bool {
	if p.pos < len(p.in) && p.in[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *canonicalParser) fail(what string) error {
	return fmt.Errorf("not canonical at byte %d of %q: %s", p.pos, p.in, what)
}

var errUnterminated = errors.New("unterminated string")

func (p *canonicalParser) str() (string, error) {
	if !p.eat('"') {
		return "", p.fail("want \"")
	}
	var b strings.Builder
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.pos >= len(p.in) || (p.in[p.pos] != '"' && p.in[p.pos] != '\\') {
				return "", p.fail("a \\ that is neither \\\" nor \\\\")
			}
			b.WriteByte(p.in[p.pos])
			p.pos++
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("%w in %q", errUnterminated, p.in)
}

// nested builds a record whose top-level object (depth 1) holds, under an
// unknown key, depth-1 more levels of objects (list false) or lists, then
// a text.
func nested(depth int, list bool) []byte {
	open, closing := `{"k":`, "}"
	if list {
		open, closing = "[", "]"
	}
	inner := strings.Repeat(open, depth-1) + `"v"` + strings.Repeat(closing, depth-1)
	return []byte(`{"deep":` + inner + `,"text":"deep"}`)
}
