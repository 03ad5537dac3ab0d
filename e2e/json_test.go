package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonBot is the built client in --json mode, read as a program would.
type jsonBot struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan map[string]any
	stderr *output
}

func startJSONBot(t *testing.T, addr, nick, dir string) *jsonBot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, clientBinary(t), "--json", "--server", addr, "--dir", dir, nick)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	b := &jsonBot{t: t, cmd: cmd, stdin: stdin, events: make(chan map[string]any, 100), stderr: newOutput()}
	cmd.Stderr = b.stderr
	require.NoError(t, cmd.Start())
	go func() {
		defer close(b.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e map[string]any
			if !assert.NoError(t, json.Unmarshal(sc.Bytes(), &e), "not a JSON line: %q", sc.Text()) {
				return
			}
			b.events <- e
		}
	}()
	return b
}

func (b *jsonBot) send(req map[string]any) {
	b.t.Helper()
	line, err := json.Marshal(req)
	require.NoError(b.t, err)
	_, err = b.stdin.Write(append(line, '\n'))
	require.NoError(b.t, err)
}

// next waits for the next event of the given kind, skipping others.
func (b *jsonBot) next(kind string) map[string]any {
	b.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e, ok := <-b.events:
			require.True(b.t, ok, "the bot's output ended before a %q event", kind)
			if e["event"] == kind {
				return e
			}
		case <-deadline:
			b.t.Fatalf("no %q event", kind)
		}
	}
}

// end closes the bot's input and returns its exit code.
func (b *jsonBot) end() int {
	b.t.Helper()
	b.stdin.Close()
	for range b.events {
	}
	err := b.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	require.NoError(b.t, err)
	return 0
}

func TestJSONBotsExchangeAMultiLineTextWithAFile(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t)
	ivan := join(t, addr, "Ivan")
	recvDir := t.TempDir()
	receiver := startJSONBot(t, addr, "Receiver", recvDir)
	who := receiver.next("who")
	assert.Equal(t, []any{"Ivan", "Receiver"}, who["users"], "the list comes once after login")
	sender := startJSONBot(t, addr, "Sender", t.TempDir())
	sender.next("who")
	notice := receiver.next("notice")
	assert.Equal(t, `User "Sender" connected`, notice["text"])

	content := randomBytes(t, 100<<10)
	src := filepath.Join(t.TempDir(), "report.bin")
	require.NoError(t, os.WriteFile(src, content, 0o644))
	sender.send(map[string]any{"text": "line one\nline two\n/not a command", "file": src})
	sender.send(map[string]any{"text": "missing file", "file": filepath.Join(t.TempDir(), "nope")})
	sender.send(map[string]any{"command": "who"})

	msg := receiver.next("message")
	assert.Equal(t, "Sender", msg["nickname"])
	assert.Equal(t, "line one\nline two\n/not a command", msg["text"])
	_, err := time.Parse(time.RFC3339, msg["time"].(string))
	require.NoError(t, err)
	file := msg["file"].(map[string]any)
	assert.Equal(t, "report.bin", file["name"])
	assert.Equal(t, float64(len(content)), file["size"])
	assert.Equal(t, filepath.Join(recvDir, "report.bin"), file["path"])
	got, err := os.ReadFile(file["path"].(string))
	require.NoError(t, err)
	assert.Equal(t, content, got)

	msg = receiver.next("message")
	assert.Equal(t, "missing file", msg["text"], "the text goes without the file")
	assert.NotContains(t, msg, "file")
	errEvent := sender.next("error")
	assert.Contains(t, errEvent["text"], "cannot attach")
	assert.Equal(t, []any{"Ivan", "Receiver", "Sender"}, sender.next("who")["users"])

	ivan.stdout.waitFor(t, "Sender: line one")
	ivan.stdout.waitFor(t, "        │ line two")
	ivan.stdout.waitFor(t, "        │ /not a command")
	ivan.stdout.waitFor(t, `└ file "report.bin" saved as "report.bin"`)

	assert.Equal(t, 1, sender.end(), "a file that could not be sent: non-zero at the end")
	assert.Contains(t, sender.stderr.String(), "some files were not sent")
	assert.Equal(t, 0, receiver.end())
	require.NoError(t, ivan.leave(t))
}

func TestJSONBotSeesALostServer(t *testing.T) {
	t.Parallel()
	addr, stop := startServer(t)
	bot := startJSONBot(t, addr, "Bot", t.TempDir())
	bot.next("who")
	stop()
	assert.Equal(t, "EOF", bot.next("lost")["text"])
	assert.Equal(t, 1, bot.end())
}
