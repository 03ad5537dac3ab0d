package dictcodec

import (
	"bytes"
	"strings"

	"pcx/domain"
)

// The keys each kind of record is read for, in the order of the fields of
// the domain type it becomes.
var (
	loginKeys   = []string{domain.KeyNickname, domain.KeyAttachment}
	inboundKeys = []string{domain.KeyText, domain.KeyAttachment, domain.KeyCommand}
	statusKeys  = []string{domain.KeyStatus, domain.KeyAttachment}
	relayKeys   = []string{domain.KeyTime, domain.KeyNickname, domain.KeyText, domain.KeyAttachment, domain.KeyUsers}
)

// relayUsers is the index of "users" in relayKeys.
const relayUsers = 4

// DecodeLogin reads a login record (PROTOCOL.md section 3, step 1).
func DecodeLogin(src []byte) (domain.LoginRecord, error) {
	var raw [2]domain.Raw
	if _, _, err := decode(src, loginKeys, raw[:], -1); err != nil {
		return domain.LoginRecord{}, err
	}
	return domain.LoginRecord{Nickname: raw[0], Attachment: raw[1]}, nil
}

// DecodeInbound reads a record a logged-in client sent (sections 3 and 7).
func DecodeInbound(src []byte) (domain.InboundRecord, error) {
	var raw [3]domain.Raw
	if _, _, err := decode(src, inboundKeys, raw[:], -1); err != nil {
		return domain.InboundRecord{}, err
	}
	return domain.InboundRecord{Text: raw[0], Attachment: raw[1], Command: raw[2]}, nil
}

// DecodeStatus reads the server's reply to a login (section 3, step 2).
func DecodeStatus(src []byte) (domain.StatusRecord, error) {
	var raw [2]domain.Raw
	if _, _, err := decode(src, statusKeys, raw[:], -1); err != nil {
		return domain.StatusRecord{}, err
	}
	return domain.StatusRecord{Status: raw[0], Attachment: raw[1]}, nil
}

// DecodeRelay reads a record a server sends after login: a relayed
// message, a notice, or the answer to "who" with its "users" list
// (sections 3, 5 and 7).
func DecodeRelay(src []byte) (domain.RelayRecord, error) {
	var raw [5]domain.Raw
	users, hasUsers, err := decode(src, relayKeys, raw[:], relayUsers)
	if err != nil {
		return domain.RelayRecord{}, err
	}
	return domain.RelayRecord{
		Time: raw[0], Nickname: raw[1], Text: raw[2], Attachment: raw[3],
		Users: users, HasUsers: hasUsers,
	}, nil
}

// decode checks that src holds exactly one record (PROTOCOL.md section
// 2), surrounded by nothing but optional whitespace, and fills out with
// what it holds under the wanted top-level keys; everything else it checks
// and skips. When list is an index in wanted and the value there is a list
// of strings, it returns them as users. Every error is a *SyntaxError
// naming the byte offset where src went wrong, and matches ErrSyntax.
//
// The values do not alias src: the strings are copied, unescaped, into one
// allocation. Whatever the bytes, decode never recurses or panics, takes
// time O(n log n) in len(src) (sorting the keys of large objects), and
// allocates at most 2 bytes per input byte: the strings it keeps (at most
// one byte each), and, once the open objects hold more than 32 keys, a
// stack of their offsets allocated once at a size bounded by the rest of
// the input (at most 0.8 bytes per input byte; see keysLeft). The one
// exception is users, a client's concern: 16 bytes more per name, for the
// slice.
func decode(src []byte, wanted []string, out []domain.Raw, list int) (users []string, ok bool, err error) {
	var sc scanner
	if err := sc.scan(src, wanted); err != nil {
		return nil, false, err
	}
	var b strings.Builder
	b.Grow(sc.keptBytes(list))
	for i := range wanted {
		f := &sc.found[i]
		switch {
		case f.kind == domain.RawString:
			out[i] = domain.RawOf(appendBody(&b, src[f.start:f.end], f.escaped))
		case f.kind == domain.RawNested:
			out[i] = domain.RawList
			if i == list && f.strs {
				users, ok = stringList(&b, src[f.start:f.end]), true
			}
		}
	}
	return users, ok, nil
}

// keptBytes is how much room the kept strings need at most: those of the
// wanted keys, and those of the list at index list if it holds only
// strings. Other lists and objects are not kept.
func (sc *scanner) keptBytes(list int) int {
	n := 0
	for i := range sc.wanted {
		f := &sc.found[i]
		if f.kind == domain.RawString || (i == list && f.strs) {
			n += f.end - f.start
		}
	}
	return n
}

// appendBody writes a string's body to b, unescaped, and returns it as a
// string. b has room: the string shares b's storage, which never moves.
func appendBody(b *strings.Builder, body []byte, escaped bool) string {
	from := b.Len()
	if !escaped {
		b.Write(body)
	} else {
		for i := 0; i < len(body); i++ {
			if isEscapeAt(body, i) {
				i++
			}
			b.WriteByte(body[i])
		}
	}
	return b.String()[from:]
}

// stringList returns the strings of a list the scanner found to hold only
// strings, from its '[' to its ']'.
func stringList(b *strings.Builder, list []byte) []string {
	n := 0
	for i := 1; i < len(list); i++ {
		if list[i] == '"' {
			n++
			i = skipEscaped(list, i)
		}
	}
	items := make([]string, 0, n)
	for i := 1; i < len(list); i++ {
		if list[i] != '"' {
			continue
		}
		end := skipEscaped(list, i)
		body := list[i+1 : end]
		items = append(items, appendBody(b, body, bytes.IndexByte(body, '\\') >= 0))
		i = end
	}
	return items
}
