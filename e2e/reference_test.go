package e2e_test

import (
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/adapters/framing"
	"pcx/adapters/terminal/terminaltest"
	"pcx/domain"
)

// rawServer accepts one client and hands it to serve, login and all, as
// the reference server (or a hostile one) might speak.
func rawServer(t *testing.T, serve func(p *peer)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		conn := framing.NewConn(nc, framing.Options{WriteTimeout: 10 * time.Second})
		defer conn.Close()
		serve(&peer{t: t, conn: conn})
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}

// startInTerminal runs the built client in a pseudo-terminal; done is
// closed when its output has ended.
func startInTerminal(t *testing.T, args ...string) (user *ptyUser, cmd *exec.Cmd, done <-chan struct{}) {
	t.Helper()
	master, slave := openPTY(t, 100)
	t.Cleanup(func() { master.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	cmd = exec.CommandContext(ctx, clientBinary(t), args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = []string{"TERM=xterm", "PATH=/usr/bin:/bin", "NO_COLOR=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	require.NoError(t, cmd.Start())
	slave.Close()
	user = &ptyUser{t: t, keys: master, screen: terminaltest.NewScreen(100)}
	drawn := make(chan struct{})
	go func() {
		defer close(drawn)
		io.Copy(user, master) // ends with EIO when the client exits
	}()
	return user, cmd, drawn
}

// The reference server relays messages to connections not yet logged in,
// and hangs up after refusing a nickname: the client skips the first and
// reports the second at once, without asking for another nickname.
func TestAReferenceLikeServerThatHangsUpAfterARefusal(t *testing.T) {
	t.Parallel()
	addr := rawServer(t, func(p *peer) {
		p.read() // the login
		p.send(relayed("Olga", "before your login", "early.bin"), []byte("dropped"))
		p.send(dictcodec.AppendStatus(nil, domain.ErrNicknameTaken), nil)
	})
	user, cmd, drawn := startInTerminal(t, "--server", addr, "--dir", t.TempDir(), "Ivan")

	err := cmd.Wait()
	<-drawn
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	screen := user.screen.String()
	t.Logf("the screen:\n%s", screen)
	assert.Contains(t, screen, `the server refused the nickname "Ivan": this nickname is already taken`)
	assert.Contains(t, screen, "pcx-client: the connection to the server at "+addr+" is lost (EOF)")
	assert.NotContains(t, screen, "another nickname", "no question after the server hung up")
	assert.NotContains(t, screen, "before your login")
	assert.False(t, strings.Contains(screen, "cannot be read"), "the early message is skipped quietly")
}

// TestReconnectKeepsTheHalfTypedLineInATerminal stops and restarts the
// server under a person typing: the loss is shown at once, the line stays
// on screen and is sent, whole, once the client is back in.
func TestReconnectKeepsTheHalfTypedLineInATerminal(t *testing.T) {
	addr, stop := startServer(t)
	user, cmd, drawn := startInTerminal(t, "--reconnect", "--server", addr, "--dir", t.TempDir(), "Ivan")
	user.waitLastLine(">")
	user.typeKeys("half")
	user.waitLastLine("> half")

	stop()
	user.waitScreen("the loss", func(lines []string) bool {
		return strings.Contains(strings.Join(lines, "\n"), "the connection to the server is lost")
	})
	assert.Equal(t, "> half", user.screen.LastLine(), "the line being typed stays")

	_, stop2 := startServerAt(t, addr)
	defer stop2()
	user.waitScreen("the second login", func(lines []string) bool {
		return strings.Count(strings.Join(lines, "\n"), "logged in as Ivan") == 2
	})
	olga := join(t, addr, "Olga")
	user.typeKeys(" done\r")
	user.waitLastLine("attach a file (path, or Enter for none):")
	user.typeKeys("\r")
	olga.stdout.waitFor(t, "Ivan: half done")

	user.typeKeys("\\q\r")
	require.NoError(t, cmd.Wait(), "\\q exits 0")
	<-drawn
	require.NoError(t, olga.leave(t))
}
