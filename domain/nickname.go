package domain

import (
	"errors"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// ServerName is the nickname the server's notices come from. Every nickname
// with the same key (server, Ｓｅｒｖｅｒ, the look-alikes ЅЕRVЕR and
// 𝐒𝐄𝐑𝐕𝐄𝐑, ...) is reserved for it.
const ServerName = "SERVER"

// MaxNicknameRunes is the longest nickname, in characters.
const MaxNicknameRunes = 32

// Nickname rule errors (PROTOCOL.md section 4).
var (
	ErrNicknameRequired     = newRule(ErrInvalidNickname, "nickname is required")
	ErrNicknameNotString    = newRule(ErrInvalidNickname, "nickname must be a string")
	ErrNicknameTooLong      = newRule(ErrInvalidNickname, "nickname is longer than 32 characters")
	ErrNicknameNotUTF8      = newRule(ErrInvalidNickname, "nickname is not valid UTF-8")
	ErrNicknameWhitespace   = newRule(ErrInvalidNickname, "nickname must not contain whitespace")
	ErrNicknameBackslash    = newRule(ErrInvalidNickname, `nickname must not contain \`)
	ErrNicknameQuote        = newRule(ErrInvalidNickname, `nickname must not contain "`)
	ErrNicknameControl      = newRule(ErrInvalidNickname, "nickname must not contain control characters")
	ErrNicknameInvisible    = newRule(ErrInvalidNickname, "nickname must not contain invisible characters")
	ErrNicknameNotPrintable = newRule(ErrInvalidNickname, "nickname must be printable")
)

// ErrNicknameTaken is returned by Registry.Claim when the nickname's key or
// shape is held by a logged-in user or by the server. It is not a rule of the name
// itself, so it is not in the ErrInvalidNickname family.
var ErrNicknameTaken = errors.New("this nickname is already taken")

// Nickname is a nickname that passed every rule of PROTOCOL.md section 4.
// The zero Nickname is not valid; get one from ParseNickname.
type Nickname struct {
	typed string // as its owner typed it; shown in messages
	key   string // lookalikeKey(typed): its skeleton after folding; compared for uniqueness
	shape string // shapeKey(typed): its skeleton before folding; compared for uniqueness too
}

// ParseNickname checks s against the nickname rules and returns the first
// one it breaks, as one of the ErrNickname... sentinels.
func ParseNickname(s string) (Nickname, error) {
	if err := checkNickname(s); err != nil {
		return Nickname{}, err
	}
	return Nickname{typed: s, key: lookalikeKey(s), shape: shapeKey(s)}, nil
}

// fold is the first step of the key nicknames are compared by: PRECIS
// UsernameCaseMapped (width mapping, case folding, NFC). PRECIS also keeps
// its own repertoire and refuses symbols (☃, 🦊), compatibility characters
// (Ⅻ) and mixed bidi, which section 4 allows as printable; such a name is
// folded by the same mappings without the repertoire check.
func fold(s string) string {
	if key, err := precis.UsernameCaseMapped.String(s); err == nil {
		return key
	}
	return norm.NFC.String(cases.Fold().String(width.Fold.String(s)))
}

func checkNickname(s string) error {
	switch {
	case s == "":
		return ErrNicknameRequired
	case !utf8.ValidString(s):
		return ErrNicknameNotUTF8
	case utf8.RuneCountInString(s) > MaxNicknameRunes:
		return ErrNicknameTooLong
	}
	for _, r := range s {
		if err := checkNicknameRune(r); err != nil {
			return err
		}
	}
	return nil
}

// checkNicknameRune tests the most specific rule first, so that a tab is
// reported as whitespace rather than as a control character, and a
// zero-width space as invisible rather than as not printable.
func checkNicknameRune(r rune) error {
	switch {
	case unicode.IsSpace(r):
		return ErrNicknameWhitespace
	case r == '\\':
		return ErrNicknameBackslash
	case r == '"':
		return ErrNicknameQuote
	case unicode.IsControl(r):
		return ErrNicknameControl
	case isInvisible(r):
		return ErrNicknameInvisible
	case !unicode.IsPrint(r):
		return ErrNicknameNotPrintable
	}
	return nil
}

// String returns the nickname as its owner typed it.
func (n Nickname) String() string { return n.typed }

// Key returns what nicknames are compared by: the confusable skeleton
// (Unicode TR39) of the PRECIS fold, so that nicknames that differ only in
// case, width or look-alike letters share it. Two nicknames with the same
// key cannot be logged in at once. It is valid UTF-8, not meant to be
// shown, and its own key.
func (n Nickname) Key() string { return n.key }

// Shape returns the key of the nickname's look as typed: the skeleton
// taken before case folding, so that capitals that look like Latin ones
// but fold to letters that do not (Greek Ε, Cyrillic В, Cherokee Ꮪ) still
// count. Two nicknames with the same shape cannot be logged in at once
// either. It is valid UTF-8, not meant to be shown, and its own key.
func (n Nickname) Shape() string { return n.shape }

// IsZero reports whether n is the zero Nickname, which ParseNickname never
// returns.
func (n Nickname) IsZero() bool { return n.key == "" }
