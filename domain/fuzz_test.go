package domain_test

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"pcx/domain"
)

func FuzzParseNickname(f *testing.F) {
	for _, s := range []string{"Ivan", "Ｓｅｒｖｅｒ", "ЅЕRVЕR", "𝐒𝐄𝐑𝐕𝐄𝐑", "Ιvan", "SERVER\u2800", "Iv an", `a"b`, "a\\b", "Iv\u200ban", "😀", "\xff", strings.Repeat("я", 33)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := domain.ParseNickname(s)
		if err != nil {
			if !n.IsZero() {
				t.Fatalf("%q: refused but not zero", s)
			}
			return
		}
		if n.String() != s || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 32 {
			t.Fatalf("%q accepted against the length or UTF-8 rules", s)
		}
		if strings.ContainsAny(s, "\\\"") || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
			t.Fatalf("%q accepted with a forbidden character", s)
		}
		if strings.IndexFunc(s, domain.IsInvisible) >= 0 {
			t.Fatalf("%q accepted with an invisible character", s)
		}
		// The key is a fixed point: the key of a key is itself. (A key
		// may break a rule the name kept: folding ß to ss, or m to rn,
		// can make it too long.)
		if domain.LookalikeKey(n.Shape()) != n.Shape() || !utf8.ValidString(n.Shape()) {
			t.Fatalf("%q: shape %q is not its own key", s, n.Shape())
		}
		again, err := domain.ParseNickname(n.Key())
		if err == nil && again.Key() != n.Key() {
			t.Fatalf("%q: key %q folds again to %q", s, n.Key(), again.Key())
		}
	})
}

func FuzzValidateAttachmentName(f *testing.F) {
	for _, s := range []string{"1.jpg", ".", "..", "../../x", "a/b", `a\b`, "a\x00b", "...", strings.Repeat("a", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if domain.ValidateAttachmentName(name) != nil {
			return
		}
		// What the rules are for: a valid name is a single element that
		// stays inside the folder it is saved in.
		const dir = "/downloads"
		joined := filepath.Join(dir, name)
		if filepath.Dir(joined) != dir || filepath.Base(joined) != name {
			t.Fatalf("%q escapes or changes: %q", name, joined)
		}
		if len(name) > 255 || !utf8.ValidString(name) {
			t.Fatalf("%q accepted against the length or UTF-8 rules", name)
		}
	})
}
