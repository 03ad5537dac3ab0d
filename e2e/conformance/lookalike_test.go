package conformance_test

import (
	"testing"
)

// reasonInvisible is the sentence for a nickname with an invisible
// character in it.
const reasonInvisible = "nickname must not contain invisible characters"

// named is a nickname for a test case, and what it is.
type named struct{ name, nick string }

// refuse offers each nickname on one connection that is not logged in and
// requires the reason; the connection then logs in as after, which proves
// it was kept.
func refuse(t *testing.T, s *server, reason, after string, nicks []named) {
	t.Helper()
	probe := s.dial()
	for _, n := range nicks {
		t.Run(n.name, func(t *testing.T) {
			probe.t = t
			probe.send(dict("nickname", n.nick))
			probe.expectStatus("error: " + reason)
		})
	}
	probe.t = t
	probe.login(after)
}

// §4: every look-alike of SERVER is the server's (issue 8, finding 6).
func TestLookalikesOfServerAreTaken(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	refuse(t, s, reasonTaken, "Petr", []named{
		{"Cyrillic Dze and Ie", "ЅЕRVЕR"},
		{"mathematical bold", "𝐒𝐄𝐑𝐕𝐄𝐑"},
		{"mathematical italic", "𝘚𝘌𝘙𝘝𝘌𝘙"},
		{"one Cyrillic Ie", "SERVЕR"},
		{"Lisu letters", "ꓢꓰꓣꓦꓰꓣ"},
		{"full width", "ＳＥＲＶＥＲ"},
		{"Greek capital Epsilon", "SΕRVΕR"},
		{"Cherokee letters", "ᏚᎬᎡᏙᎬᎡ"},
		{"Armenian Seh", "ՏERVER"},
	})
}

// §4: two nicknames with the same skeleton cannot both be logged in,
// whichever logged in first; the holder keeps the name and the look-alike
// may have it once the holder is gone. Skeletons are taken of the folded
// name and of the name as shown (Greek and Cyrillic capitals).
func TestLookalikesOfAHolderAreTaken(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Ιgor", "Emma", "BOB") // Ιgor with a Greek capital Iota
	ivan, igor, emma, bob := c[0], c[1], c[2], c[3]
	refuse(t, s, reasonTaken, "Petr", []named{
		{"Greek capital Iota for Latin I", "Ιvan"},
		{"Latin I for Greek capital Iota", "Igor"},
		{"Roman numeral one for I", "Ⅰvan"},
		{"r and n for m, as TR39 says", "Ernrna"},
		{"Greek capitals", "ΙVΑΝ"},
		{"Cyrillic capitals", "ВОВ"},
		{"small l for capital I", "lvan"},
	})
	for _, m := range []*client{ivan, igor, emma, bob} {
		m.expectNotice(`User "Petr" connected`)
	}

	ivan.close()
	for _, m := range []*client{igor, emma, bob} {
		m.expectNotice(`User "Ivan" disconnected`)
	}
	lookalike := s.join("Ιvan")
	for _, m := range []*client{igor, emma, bob} {
		m.expectNotice(`User "Ιvan" connected`)
	}
	barrier(lookalike, emma, "shown as typed")
	igor.expectText("Ιvan", "shown as typed")
	bob.expectText("Ιvan", "shown as typed")
}

// §4: Default_Ignorable code points and the braille blank are refused
// anywhere in a nickname, with a reason of their own (issue 8, finding 6).
func TestLookalikeInvisibleCharactersAreRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	refuse(t, s, reasonInvisible, "SERVER_fan", []named{
		{"SERVER and combining grapheme joiner U+034F", "SERVER\u034f"},
		{"SERVER and variation selector 16 U+FE0F", "SERVER\ufe0f"},
		{"SERVER and Mongolian selector U+180B", "SERVER\u180b"},
		{"SERVER and Khmer inherent vowel U+17B4", "SERVER\u17b4"},
		{"SERVER and Hangul filler U+3164", "SERVER\u3164"},
		{"SERVER and braille blank U+2800", "SERVER\u2800"},
		{"zero-width space inside U+200B", "SER\u200bVER"},
		{"zero-width joiner U+200D", "Iv\u200dan"},
		{"word joiner U+2060", "Iv\u2060an"},
		{"byte order mark first U+FEFF", "\ufeffIvan"},
		{"soft hyphen U+00AD", "Iv\u00adan"},
		{"right-to-left override U+202E", "Iv\u202ean"},
		{"halfwidth Hangul filler U+FFA0", "\uffa0"},
		{"only a braille blank", "\u2800"},
		{"tag letter U+E0041", "Ivan\U000e0041"},
	})
}

// §4: everyday names in any script, with digits, still log in side by
// side, and show as typed.
func TestLookalikeFreeNamesLogInTogether(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.room("Ivan", "Иван", "Мария", "Maria", "李雷", "user42", "user43", "Ivanka")
	barrier(c[2], c[4], "Привет")
	for _, m := range []*client{c[0], c[1], c[3], c[5], c[6], c[7]} {
		m.expectText("Мария", "Привет")
	}
}
