package terminal

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/rivo/uniseg"
	"github.com/stretchr/testify/require"

	"pcx/adapters/terminal/terminaltest"
)

// typeInto applies keys to e one by one, as readLine would, and calls
// check after each; a line ended by Enter starts another.
func typeInto(e *editor, keys string, check func()) {
	in := bufio.NewReader(strings.NewReader(keys))
	for {
		k, err := readKey(in)
		if err == io.EOF {
			return
		}
		e.mu.Lock()
		if !e.editing {
			e.mu.Unlock()
			e.start("> ", lineOptions{history: true})
			e.mu.Lock()
		}
		e.apply(k)
		e.mu.Unlock()
		check()
	}
}

// theRowFits checks that the prompt and the line take one row, without its
// last column, on the screen and as the editor counts it.
func theRowFits(t *testing.T, e *editor, screen *terminaltest.Screen) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.editing {
		return
	}
	width := screen.Width()
	require.LessOrEqual(t, sum(e.drawn), max(width-1, 1), "drawn %v", e.drawn)
	require.Less(t, e.drawnCursor, len(e.drawn)+1)
	lines := screen.Lines()
	row, _ := screen.Cursor()
	require.GreaterOrEqual(t, row, len(lines)-1, "nothing drawn below the cursor:\n%s", screen)
	if row < len(lines) {
		require.LessOrEqual(t, uniseg.StringWidth(lines[row]), max(width-1, 1), "%q", lines[row])
	}
}

func TestEveryRowFitsTheWidth(t *testing.T) {
	keys := "a日b" + "👨\u200d👩\u200d👧" + "c🇫🇷de\u0301f\x1b[D\x1b[D\x01\x1b[C語\x05\x1b[200~x\ny\x1b[201~" + strings.Repeat("\x1b[D", 5) + "\x7f\x0b"
	for width := 2; width <= 30; width++ {
		screen := terminaltest.NewScreen(width)
		e := newEditor(struct {
			io.Reader
			io.Writer
		}{nil, screen}, width)
		e.setStatus("[↓ big.iso 42% |████ |] ")
		typeInto(e, keys, func() { theRowFits(t, e, screen) })
	}
}

func FuzzEditor(f *testing.F) {
	f.Add("ok 👍\x7f!\r", 20)
	f.Add("日本 X \x15Z語abc\x1b[H\x1b[F\x1b[1~\x1b[4~", 10)
	f.Add("\x1b[200~a\r\nb\x1b[201~\x1b[A\x1b[B", 7)
	f.Add("e\u0301\u0301\u200d🇫🇷🇩\x17\x1bb\x1bf", 5)
	f.Fuzz(func(t *testing.T, keys string, width int) {
		if len(keys) > 256 {
			t.Skip("each key redraws the line: long inputs only make the fuzzer slow")
		}
		width = 2 + int(uint(width)%60)
		screen := terminaltest.NewScreen(width)
		e := newEditor(struct {
			io.Reader
			io.Writer
		}{nil, screen}, width)
		typeInto(e, keys, func() {
			theRowFits(t, e, screen)
			e.mu.Lock()
			text := e.line.String()
			e.mu.Unlock()
			require.Equal(t, keepable(text), text, "only what may be kept is typed")
		})
	})
}

func TestPrintTakesAnOptionalLineBreakAndABell(t *testing.T) {
	for _, text := range []string{"one\ntwo", "one\ntwo\n", "one\ntwo\n\a"} {
		var out strings.Builder
		e := newEditor(struct {
			io.Reader
			io.Writer
		}{nil, &out}, 20)
		e.start("> ", lineOptions{})
		out.Reset()
		e.print(text)
		want := "\r\x1b[Kone\r\ntwo\r\n"
		if strings.HasSuffix(text, "\a") {
			want += "\a"
		}
		require.True(t, strings.HasPrefix(out.String(), want+"\r> "), "%q: %q", text, out.String())
	}
}
