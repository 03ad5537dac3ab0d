package terminal_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/terminal"
	"pcx/adapters/terminal/terminaltest"
	"pcx/ports"
)

// newKeyboardOf is newKeyboard on a screen width columns wide.
func newKeyboardOf(t *testing.T, width int) *keyboard {
	in, keys := io.Pipe()
	screen := terminaltest.NewScreen(width)
	ui := terminal.NewInteractive(struct {
		io.Reader
		io.Writer
	}{in, screen}, width, terminal.Options{})
	t.Cleanup(func() { keys.Close() })
	return &keyboard{t: t, ui: ui, screen: screen, keys: keys}
}

// waitCursor waits until the cursor is at column col of the bottom line.
func (k *keyboard) waitCursor(col int) {
	k.t.Helper()
	require.Eventually(k.t, func() bool {
		row, c := k.screen.Cursor()
		return c == col && row == len(k.screen.Lines())-1
	}, 5*time.Second, time.Millisecond, "the cursor never reached column %d:\n%s", col, k.screen)
}

// Keys as terminals send them.
const (
	left      = "\x1b[D"
	right     = "\x1b[C"
	up        = "\x1b[A"
	down      = "\x1b[B"
	backspace = "\x7f"
	deleteKey = "\x1b[3~"
	ctrlA     = "\x01"
	ctrlD     = "\x04"
	ctrlE     = "\x05"
	ctrlK     = "\x0b"
	ctrlU     = "\x15"
	ctrlW     = "\x17"
	enter     = "\r"
	tab       = "\t"
)

const family = "👨\u200d👩\u200d👧" // a ZWJ sequence: one character on screen

func TestEditingWhatIsSeenIsWhatIsSent(t *testing.T) {
	cases := []struct {
		name   string
		keys   string
		screen string // the edit line before Enter
		sent   string
	}{
		{"backspace erases a whole emoji", "ok 👍" + backspace + "!", "> ok !", "ok !"},
		{"Ctrl-U then typing again", "日本 X " + ctrlU + "Z語abc", "> Z語abc", "Z語abc"},
		{"Ctrl-U before the cursor only", "日本 X" + left + ctrlU, "> X", "X"},
		{"left moves over a wide character", "日本語" + left + left + "X", "> 日X本語", "日X本語"},
		{"backspace erases a letter with its accent", "cafe\u0301" + backspace + "é", "> café", "café"},
		{"an accent typed alone joins its letter", "cafe" + "\u0301" + left + "X", "> cafXe\u0301", "cafXe\u0301"},
		{"a ZWJ sequence is one character", "a" + family + "b" + left + backspace, "> ab", "ab"},
		{"cursor over a ZWJ sequence", "a" + family + "b" + left + left + "X", "> aX" + family + "b", "aX" + family + "b"},
		{"a flag is one character", "🇫🇷🇩🇪" + backspace + "!", "> 🇫🇷!", "🇫🇷!"},
		{"delete under the cursor", "日本語" + ctrlA + deleteKey, "> 本語", "本語"},
		{"Ctrl-D under the cursor when there is text", "ab" + left + ctrlD, "> a", "a"},
		{"Ctrl-K erases to the end", "日本語abc" + left + left + left + ctrlK, "> 日本語", "日本語"},
		{"Ctrl-W erases a word", "hello wide 世界" + ctrlW, "> hello wide", "hello wide "},
		{"Alt-Backspace erases a word", "hello wide 世界" + "\x1b\x7f", "> hello wide", "hello wide "},
		{"Alt-D erases the next word", "one two" + ctrlA + "\x1bd", ">  two", " two"},
		{"Ctrl-Left and Ctrl-Right move by words", "one two three" + "\x1b[1;5D\x1b[1;5D" + "X" + "\x1b[1;5C" + "Y", "> one XtwoY three", "one XtwoY three"},
		{"Alt-Enter puts a line break", "a\x1b\rb", "> a⏎b", "a\nb"},
		{"unknown keys type nothing", "a\x1b[15~\x1b[5~\x16\x1b[2~b", "> ab", "ab"},
		{"a lone Escape is dropped", "a\x1bxb", "> axb", "axb"},
		{"bidirectional controls are not typed", "a\u202eb", "> ab", "ab"},
	}
	for _, home := range []string{"\x1b[H", "\x1b[1~", "\x1b[7~", "\x1bOH", ctrlA} {
		for _, end := range []string{"\x1b[F", "\x1b[4~", "\x1b[8~", "\x1bOF", ctrlE} {
			cases = append(cases, struct{ name, keys, screen, sent string }{
				"home " + strings.TrimPrefix(home, "\x1b") + " end " + strings.TrimPrefix(end, "\x1b"),
				"本語" + home + "日" + end + "!", "> 日本語!", "日本語!",
			})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := newKeyboardOf(t, 40)
			got := k.readLine(ports.PromptText)
			k.typeKeys(tc.keys)
			k.waitLastLine(tc.screen)
			k.typeKeys(enter)
			assert.Equal(t, tc.sent, <-got)
		})
	}
}

func TestTheCursorMovesByDisplayWidth(t *testing.T) {
	k := newKeyboardOf(t, 40)
	got := k.readLine(ports.PromptText)
	k.typeKeys("日本" + family + "e\u0301")
	k.waitLastLine("> 日本" + family + "e\u0301")
	k.waitCursor(2 + 4 + 2 + 1)
	k.typeKeys(left)
	k.waitCursor(2 + 4 + 2)
	k.typeKeys(left)
	k.waitCursor(2 + 4)
	k.typeKeys(ctrlA)
	k.waitCursor(2)
	k.typeKeys(right)
	k.waitCursor(4)
	k.typeKeys(enter)
	assert.Equal(t, "日本"+family+"e\u0301", <-got)
}

func TestTypingByteByByteIsTypingAtOnce(t *testing.T) {
	keys := "日本 X " + ctrlU + "Z語" + "\x1b[H" + ">" + "\x1bOF" + "\x1b[200~a\rb\x1b[201~" + left + backspace
	k := newKeyboardOf(t, 40)
	got := k.readLine(ports.PromptText)
	for i := range len(keys) {
		k.typeKeys(keys[i : i+1])
	}
	k.waitLastLine("> >Z語ab")
	k.typeKeys(enter)
	assert.Equal(t, ">Z語ab", <-got)
}

func TestAMessageArrivingWhileTypingWideText(t *testing.T) {
	k := newKeyboardOf(t, 40)
	got := k.readLine(ports.PromptText)
	k.typeKeys("日本👍" + left)
	k.waitLastLine("> 日本👍")

	k.ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "こんにちは"})

	lines := k.screen.Lines()
	require.Len(t, lines, 2)
	assert.True(t, strings.HasSuffix(lines[0], "こんにちは"), "the message above: %q", lines[0])
	assert.Equal(t, "> 日本👍", lines[1], "the line typed below it")
	k.waitCursor(2 + 4)
	k.typeKeys("語" + enter)
	assert.Equal(t, "日本語👍", <-got)
	assert.Equal(t, []string{lines[0], "> 日本語👍"}, k.screen.Lines())
}

func TestALongLineScrollsSideways(t *testing.T) {
	k := newKeyboardOf(t, 20)
	got := k.readLine(ports.PromptText)
	text := "日本語のテキストはとても長いです"
	k.typeKeys(text)

	k.waitLastLine("> …とても長いです")
	assert.Len(t, k.screen.Lines(), 1, "the line takes one row")
	k.typeKeys(ctrlA)
	k.waitLastLine("> 日本語のテキスト…")
	k.waitCursor(2)
	k.typeKeys(ctrlE + left + left)
	k.waitLastLine("> …はとても長いです")
	for range 11 {
		k.typeKeys(left)
	}
	k.waitLastLine("> …語のテキストは…")
	k.waitCursor(2 + 1 + 2)
	k.typeKeys(enter)

	assert.Equal(t, text, <-got)
	assert.Equal(t, []string{"> 日本語のテキストは", "とても長いです"}, k.screen.Lines(),
		"the line sent stays on screen in full")
}

func TestAResizeLeavesNoStaleCopy(t *testing.T) {
	text := "日本語 and " + family + " and 🇫🇷 cafe\u0301 long enough"
	for _, reflow := range []bool{true, false} {
		for _, cursor := range []struct {
			keys   string
			column int // where the keys leave the cursor
		}{{"", 2 + uniseg.StringWidth(text)}, {ctrlA, 2}, {ctrlA + right + right + right, 2 + uniseg.StringWidth("日本語")}} {
			for _, narrow := range []int{12, 25, 37} {
				k := newKeyboardOf(t, 60)
				k.ui.Show(ports.Event{Kind: ports.EventInfo, Text: "above"})
				got := k.readLine(ports.PromptText)
				k.typeKeys(text + cursor.keys)
				k.waitLastLine("> " + text)
				k.waitCursor(cursor.column) // the keys are handled before the resize

				k.screen.Resize(narrow, reflow)
				k.ui.Resize(narrow)

				lines := k.screen.Lines()
				last := lines[len(lines)-1]
				assert.True(t, strings.HasPrefix(last, "> "), "reflow %v, width %d: %q", reflow, narrow, lines)
				assert.LessOrEqual(t, uniseg.StringWidth(last), narrow-1)
				for _, l := range lines[:len(lines)-1] {
					assert.NotContains(t, l, "日本", "reflow %v, width %d: a stale copy:\n%s", reflow, narrow, k.screen)
					assert.NotContains(t, l, "enough", "reflow %v, width %d: a stale copy:\n%s", reflow, narrow, k.screen)
				}
				if reflow {
					assert.Equal(t, "* above", lines[0], "the line printed before is kept")
				}

				k.screen.Resize(60, reflow)
				k.ui.Resize(60)
				k.typeKeys(ctrlE)
				k.waitLastLine("> " + text)
				k.typeKeys(enter)
				assert.Equal(t, text, <-got)
			}
		}
	}
}

func TestAPasteIsOneMessageWithItsLineBreaks(t *testing.T) {
	k := newKeyboardOf(t, 60)
	got := k.readLine(ports.PromptText)
	k.typeKeys("\x1b[200~first line\r\nsecond 日本\rthird\x1b[201~")
	k.waitLastLine("> first line⏎second 日本⏎third")
	k.typeKeys(enter)
	assert.Equal(t, "first line\nsecond 日本\nthird", <-got)

	got = k.readLine(ports.PromptAttachment)
	k.waitLastLine("attach a file (path, or Enter for none):")
	k.typeKeys(enter)
	assert.Equal(t, "", <-got, "no pasted line went to the attachment prompt")
	assert.Equal(t, []string{"> first line", "  second 日本", "  third", "attach a file (path, or Enter for none):"}, k.screen.Lines())
}

func TestAPasteCannotTypeControlsOrEndEarly(t *testing.T) {
	k := newKeyboardOf(t, 60)
	got := k.readLine(ports.PromptText)
	k.typeKeys("\x1b[200~a\x1b[2Jb\x03c\x04d\x1b]0;title\x07e\u202ef\tg\x1b[201~")
	k.waitLastLine("> abcdef⇥g")
	k.typeKeys(enter)
	assert.Equal(t, "abcdef\tg", <-got, "Ctrl-C and Ctrl-D inside a paste are text, and dropped")
}

func TestHistoryHoldsSentMessagesOnly(t *testing.T) {
	k := newKeyboardOf(t, 60)
	answer := func(p ports.Prompt, keys string) string {
		got := k.readLine(p)
		k.typeKeys(keys)
		return <-got
	}
	require.Equal(t, "first", answer(ports.PromptText, "first"+enter))
	require.Equal(t, "photo.jpg", answer(ports.PromptAttachment, "photo.jpg"+enter))
	require.Equal(t, "  ", answer(ports.PromptText, "  "+enter))
	require.Equal(t, "", answer(ports.PromptAttachment, enter))
	require.Equal(t, "two\nlines", answer(ports.PromptText, "\x1b[200~two\nlines\x1b[201~"+enter))
	require.Equal(t, "", answer(ports.PromptAttachment, up+up+enter), "the attachment prompt has no history")

	got := k.readLine(ports.PromptText)
	k.typeKeys("draft")
	k.typeKeys(up)
	k.waitLastLine("> two⏎lines")
	k.typeKeys(up)
	k.waitLastLine("> first")
	k.typeKeys(up)
	k.waitLastLine("> first")
	k.typeKeys(down)
	k.waitLastLine("> two⏎lines")
	k.typeKeys(down)
	k.waitLastLine("> draft")
	k.typeKeys(up + up + "!" + enter)
	assert.Equal(t, "first!", <-got)
}

func TestTabCompletesPathsAtTheAttachmentPrompt(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := filepath.Join(home, "docs")
	for _, name := range []string{"photo-2024.jpg", "photo-2025.jpg", "notes.txt", ".hidden"} {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644))
	}
	k := newKeyboardOf(t, 300)
	prompt := "attach a file (path, or Enter for none): "

	got := k.readLine(ports.PromptAttachment)
	k.typeKeys("~/d" + tab)
	k.waitLastLine(prompt + "~/docs/")
	k.typeKeys("n" + tab)
	k.waitLastLine(prompt + "~/docs/notes.txt")
	k.typeKeys(enter)
	assert.Equal(t, "~/docs/notes.txt", <-got)

	got = k.readLine(ports.PromptAttachment)
	k.typeKeys(dir + "/p" + tab)
	k.waitLastLine(prompt + dir + "/photo-202")
	k.typeKeys(tab)
	k.waitScreen(func(lines []string) bool {
		return len(lines) >= 2 && lines[len(lines)-2] == "photo-2024.jpg  photo-2025.jpg"
	})
	assert.Equal(t, prompt+dir+"/photo-202", k.screen.LastLine(), "the candidates are listed above the prompt")
	k.typeKeys("5" + tab + enter)
	assert.Equal(t, dir+"/photo-2025.jpg", <-got)

	got = k.readLine(ports.PromptText)
	k.typeKeys("~/d" + tab + enter)
	assert.Equal(t, "~/d", <-got, "the text prompt completes nothing")
}

func (k *keyboard) waitScreen(ok func([]string) bool) {
	k.t.Helper()
	require.Eventually(k.t, func() bool { return ok(k.screen.Lines()) }, 5*time.Second, time.Millisecond,
		"the screen never showed what was expected:\n%s", k.screen)
}

func TestCtrlDOnAnEmptyLineEndsInput(t *testing.T) {
	k := newKeyboardOf(t, 40)
	got := k.readLine(ports.PromptText)
	k.typeKeys("ab" + backspace + backspace + ctrlD)
	assert.Equal(t, "error: EOF", <-got)
}
