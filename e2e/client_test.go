// Package e2e_test runs the client against the real server over loopback:
// several scripted clients in this process, the built binary for exit
// codes, and the binary in a pseudo-terminal for the interactive mode.
package e2e_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/app/client"
	"pcx/internal/testbin"
)

func TestMain(m *testing.M) { os.Exit(testbin.Main(m, clientBin, serverBin)) }

func TestMessagesReachEveryoneButTheSender(t *testing.T) {
	addr, _ := startServer(t)
	ivan := join(t, addr, "Ivan")
	olga := join(t, addr, "Olga")
	ivan.stdout.waitFor(t, `SERVER: User "Olga" connected`)
	petr := join(t, addr, "Petr")
	olga.stdout.waitFor(t, `SERVER: User "Petr" connected`)

	ivan.say(t, "Hello", "")
	ivan.say(t, "Привет, \"все\" \\ \x1b[31m", "")

	for _, c := range []*scripted{olga, petr} {
		assert.Regexp(t, `^<\d\d:\d\d> Ivan: Hello$`, c.stdout.waitFor(t, "Ivan: Hello"))
		assert.Regexp(t, `^<\d\d:\d\d> Ivan: Привет, "все" \\ $`, c.stdout.waitFor(t, "Ivan: Привет"),
			"the escape sequence a peer sent is not printed")
	}
	require.NoError(t, ivan.leave(t))
	petr.stdout.waitFor(t, `SERVER: User "Ivan" disconnected`)
	assert.NotContains(t, ivan.stdout.String(), "Ivan:", "no echo of one's own messages")
	require.NoError(t, olga.leave(t))
	require.NoError(t, petr.leave(t))
}

func TestFilesOfEverySizeArriveWhole(t *testing.T) {
	addr, _ := startServer(t)
	ivan := join(t, addr, "Ivan")
	olga := join(t, addr, "Olga")
	ivan.stdout.waitFor(t, `User "Olga" connected`)
	src := t.TempDir()
	files := map[string][]byte{"one.bin": {0x42}, "big.bin": randomBytes(t, 5<<20)}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(src, name), content, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(src, "empty.txt"), nil, 0o644))

	ivan.say(t, "empty", filepath.Join(src, "empty.txt"))
	ivan.say(t, "one byte", filepath.Join(src, "one.bin"))
	ivan.say(t, "five MiB", filepath.Join(src, "big.bin"))
	ivan.say(t, "after", "")

	assert.Contains(t, ivan.stderr.waitFor(t, "empty.txt"), "the file is empty")
	olga.stdout.waitFor(t, "Ivan: empty")
	olga.stdout.waitFor(t, "Ivan: one byte")
	olga.stdout.waitFor(t, `saved as "one.bin"`)
	olga.stdout.waitFor(t, "Ivan: five MiB")
	olga.stdout.waitFor(t, `saved as "big.bin"`)
	olga.stdout.waitFor(t, "Ivan: after")
	for name, content := range files {
		got, err := os.ReadFile(filepath.Join(olga.dir, name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(content, got), "%s arrived whole", name)
	}
	assert.NoFileExists(t, filepath.Join(olga.dir, "empty.txt"))
	require.NoError(t, ivan.leave(t))
	require.NoError(t, olga.leave(t))
}

func TestFilesWithTheSameNameNeverOverwrite(t *testing.T) {
	addr, _ := startServer(t)
	ivan := join(t, addr, "Ivan")
	olga := join(t, addr, "Olga")
	ivan.stdout.waitFor(t, `User "Olga" connected`)
	require.NoError(t, os.WriteFile(filepath.Join(olga.dir, "photo.jpg"), []byte("Olga's own"), 0o644))
	photo := filepath.Join(t.TempDir(), "photo.jpg")

	for i, version := range []string{"first", "second"} {
		require.NoError(t, os.WriteFile(photo, []byte(version), 0o644))
		ivan.say(t, version, photo)
		ivan.stderr.waitCount(t, `sent "photo.jpg"`, i+1) // read whole before it changes
	}

	olga.stdout.waitFor(t, "Ivan: first")
	olga.stdout.waitFor(t, `saved as "photo (1).jpg"`)
	olga.stdout.waitFor(t, "Ivan: second")
	olga.stdout.waitFor(t, `saved as "photo (2).jpg"`)
	assert.Equal(t, map[string]string{
		"photo.jpg": "Olga's own", "photo (1).jpg": "first", "photo (2).jpg": "second",
	}, folder(t, olga.dir))
	require.NoError(t, ivan.leave(t))
	require.NoError(t, olga.leave(t))
}

func TestATakenNicknameEndsAScriptedClient(t *testing.T) {
	addr, _ := startServer(t)
	ivan := join(t, addr, "Ivan")

	err := startClient(t, addr, "iVAN").result(t)

	require.ErrorIs(t, err, client.ErrNicknameRefused)
	assert.Contains(t, err.Error(), "this nickname is already taken")
	require.NoError(t, ivan.leave(t))
}

func TestALostServerEndsTheClientWithAnError(t *testing.T) {
	addr, stop := startServer(t)
	ivan := join(t, addr, "Ivan")

	stop()

	require.ErrorIs(t, ivan.result(t), client.ErrConnectionLost)
	ivan.stdout.waitFor(t, "SERVER: Server is shutting down")
}

func folder(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}
