package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"pcx/adapters/terminal/terminaltest"
)

// openPTY opens a pseudo-terminal pair, columns wide.
func openPTY(t *testing.T, columns uint16) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(master.Fd())
	require.NoError(t, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)) // unlockpt
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	require.NoError(t, err)
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: columns}))
	return master, slave
}

// ptyUser is a person at the client's terminal: keys go in through the
// master side, and what the client draws lands on an emulated screen.
type ptyUser struct {
	t      *testing.T
	keys   io.Writer
	screen *terminaltest.Screen

	mu  sync.Mutex
	raw bytes.Buffer // every byte drawn, colours included
}

func (u *ptyUser) Write(p []byte) (int, error) {
	u.mu.Lock()
	u.raw.Write(p)
	u.mu.Unlock()
	return u.screen.Write(p)
}

func (u *ptyUser) typeKeys(s string) {
	u.t.Helper()
	_, err := io.WriteString(u.keys, s)
	require.NoError(u.t, err)
}

func (u *ptyUser) waitScreen(what string, ok func(lines []string) bool) {
	u.t.Helper()
	require.Eventually(u.t, func() bool { return ok(u.screen.Lines()) }, wait, 5*time.Millisecond,
		"the screen never showed %s:\n%s", what, u.screen)
}

func (u *ptyUser) waitLastLine(want string) {
	u.t.Helper()
	u.waitScreen(fmt.Sprintf("%q at the bottom", want), func(lines []string) bool {
		return len(lines) > 0 && lines[len(lines)-1] == want
	})
}

func TestInteractiveArrivingMessageLeavesTheHalfTypedLineIntact(t *testing.T) {
	addr, _ := startServer(t)
	olga := join(t, addr, "Olga")
	master, slave := openPTY(t, 100)
	defer master.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientBinary(t), "--server", addr, "--dir", t.TempDir(), "Ivan")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = []string{"TERM=xterm", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	require.NoError(t, cmd.Start())
	slave.Close()
	user := &ptyUser{t: t, keys: master, screen: terminaltest.NewScreen(100)}
	drawn := make(chan struct{})
	go func() {
		defer close(drawn)
		io.Copy(user, master) // ends with EIO when the client exits
	}()

	user.waitLastLine(">")
	olga.stdout.waitFor(t, `User "Ivan" connected`)
	user.typeKeys("hel")
	user.waitLastLine("> hel")

	olga.say(t, "Hi Ivan", "")

	// Above the input line; the answer to the client's who question at
	// login may come in late and stand between them.
	user.waitScreen("Olga's message", func(lines []string) bool {
		return len(lines) >= 2 && slices.ContainsFunc(lines[:len(lines)-1], func(l string) bool {
			return strings.HasSuffix(l, "Olga: Hi Ivan")
		})
	})
	assert.Equal(t, "> hel", user.screen.LastLine(), "the half-typed line is redrawn below the message")
	user.typeKeys("lo\r")
	user.waitLastLine("attach a file (path, or Enter for none):")
	user.typeKeys("\r")
	olga.stdout.waitFor(t, "Ivan: hello")

	require.NoError(t, olga.leave(t))
	user.waitScreen("the notice", func(lines []string) bool {
		return len(lines) >= 2 && strings.HasSuffix(lines[len(lines)-2], `SERVER: User "Olga" disconnected`)
	})
	user.mu.Lock()
	assert.Contains(t, user.raw.String(), "\x1b[1;36m", "SERVER notices are coloured")
	user.mu.Unlock()

	t.Logf("the screen:\n%s", user.screen)
	user.typeKeys("\\q\r")
	require.NoError(t, cmd.Wait(), "\\q exits 0")
	<-drawn
}
