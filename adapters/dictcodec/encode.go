package dictcodec

import (
	"strings"

	"pcx/domain"
)

// AppendStatus appends the reply to a login: success when refusal is nil,
// else "error: " and refusal's sentence (PROTOCOL.md section 3, step 2).
func AppendStatus(dst []byte, refusal error) []byte {
	dst = append(dst, "{"+statusKey...)
	if refusal == nil {
		dst = appendString(dst, domain.StatusSuccess)
	} else {
		// domain.StatusText(refusal), without building the string.
		dst = appendEscaped(append(dst, '"'), domain.ErrorPrefix)
		dst = append(appendEscaped(dst, refusal.Error()), '"')
	}
	return append(dst, '}')
}

// AppendRelay appends a record a server sends after login, keys in the
// order time, nickname, text, attachment, users (sections 3 and 7).
func AppendRelay(dst []byte, r *domain.Relay) []byte {
	dst = append(dst, "{"+timeKey+`"`...)
	dst = append(domain.AppendTime(dst, r.Time), `",`+nicknameKey...)
	dst = appendString(dst, r.Nickname)
	dst = append(dst, ","+textKey...)
	dst = appendString(dst, r.Text)
	if r.HasAttachment {
		dst = append(dst, ","+attachmentKey...)
		dst = appendString(dst, r.Attachment)
	}
	if r.HasUsers {
		dst = append(dst, ","+usersKey+"["...)
		for i, u := range r.Users {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, u)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// AppendLogin appends a client's login record (section 3, step 1).
func AppendLogin(dst []byte, nick string) []byte {
	dst = append(dst, "{"+nicknameKey...)
	dst = appendString(dst, nick)
	return append(dst, '}')
}

// AppendRequest appends what a logged-in client sends: a message, keys in
// the order text, attachment, or a command (sections 3 and 7).
func AppendRequest(dst []byte, r *domain.Request) []byte {
	dst = append(dst, '{')
	if r.Command == domain.Who {
		dst = append(dst, commandKey...)
		dst = appendString(dst, domain.CommandWho)
		return append(dst, '}')
	}
	dst = append(dst, textKey...)
	dst = appendString(dst, r.Message.Text)
	if r.Message.HasAttachment {
		dst = append(dst, ","+attachmentKey...)
		dst = appendString(dst, r.Message.Attachment)
	}
	return append(dst, '}')
}

// appendString writes s quoted. Most strings have nothing to escape and are
// copied whole after two vectorised scans; the rest are copied in runs
// between escapes.
func appendString(dst []byte, s string) []byte {
	return append(appendEscaped(append(dst, '"'), s), '"')
}

// appendEscaped writes s escaped, without quotes.
func appendEscaped(dst []byte, s string) []byte {
	if strings.IndexByte(s, '"') < 0 && strings.IndexByte(s, '\\') < 0 {
		return append(dst, s...)
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

// The keys as written: quoted and followed by ':'. No key has anything to
// escape, so they are constants.
const (
	statusKey     = `"` + domain.KeyStatus + `":`
	timeKey       = `"` + domain.KeyTime + `":`
	nicknameKey   = `"` + domain.KeyNickname + `":`
	textKey       = `"` + domain.KeyText + `":`
	attachmentKey = `"` + domain.KeyAttachment + `":`
	usersKey      = `"` + domain.KeyUsers + `":`
	commandKey    = `"` + domain.KeyCommand + `":`
)
