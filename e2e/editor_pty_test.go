package e2e_test

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"pcx/adapters/terminal/terminaltest"
)

// TestInteractiveEditorWideTextPasteAndResize types wide characters,
// pastes a text of two lines and narrows the window, in the real client
// behind a pseudo-terminal: what Olga receives is what Ivan saw.
func TestInteractiveEditorWideTextPasteAndResize(t *testing.T) {
	addr, _ := startServer(t)
	olga := join(t, addr, "Olga")
	master, slave := openPTY(t, 60)
	defer master.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientBinary(t), "--server", addr, "--dir", t.TempDir(), "Ivan")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = []string{"TERM=xterm", "PATH=/usr/bin:/bin", "NO_COLOR=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	require.NoError(t, cmd.Start())
	slave.Close()
	user := &ptyUser{t: t, keys: master, screen: terminaltest.NewScreen(60)}
	drawn := make(chan struct{})
	go func() {
		defer close(drawn)
		io.Copy(user, master)
	}()
	const attachPrompt = "attach a file (path, or Enter for none):"

	user.waitLastLine(">")
	olga.stdout.waitFor(t, `User "Ivan" connected`)
	assert.True(t, user.screen.BracketedPaste(), "bracketed paste is on")

	user.typeKeys("ok 👍\x7f!")
	user.waitLastLine("> ok !")
	user.typeKeys("\r")
	user.waitLastLine(attachPrompt)
	user.typeKeys("\r")
	olga.stdout.waitFor(t, "ok !")

	user.typeKeys("\x1b[200~first 日本\rsecond e\u0301\x1b[201~")
	user.waitLastLine("> first 日本⏎second e\u0301")
	user.typeKeys("\r")
	user.waitLastLine(attachPrompt)
	user.typeKeys("\r")
	olga.stdout.waitFor(t, "second e\u0301")
	assert.Contains(t, olga.stdout.String(), "first 日本", "one message, with its line break")

	text := "a long line of 日本語 and 👨\u200d👩\u200d👧 that fills the row"
	user.typeKeys(text + "\x01")
	user.waitLastLine("> " + text)
	user.screen.Resize(30, true) // the terminal reflows, then tells the client
	require.NoError(t, unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 30}))
	user.waitLastLine("> a long line of 日本語 and …")
	for _, line := range user.screen.Lines()[:len(user.screen.Lines())-1] {
		assert.NotContains(t, line, "fills", "a stale copy of the line:\n%s", user.screen)
	}
	user.typeKeys("\x05\r")
	user.waitLastLine("…(path, or Enter for none):") // the prompt is cut to leave room to type
	user.typeKeys("\r")
	olga.stdout.waitFor(t, text)

	t.Logf("the screen:\n%s", user.screen)
	user.typeKeys("\\q\r")
	require.NoError(t, cmd.Wait(), "\\q exits 0")
	<-drawn
	user.mu.Lock()
	defer user.mu.Unlock()
	assert.True(t, strings.HasSuffix(user.raw.String(), "\x1b[?2004l"), "bracketed paste is off at exit: %q", user.raw.String()[max(0, user.raw.Len()-40):])
}
