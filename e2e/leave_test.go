package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLeavingRightAfterAFileDeliversIt ends the sender's input straight
// after a large file while others keep talking to it: leaving must not
// reset the connection and lose the end of the file.
func TestLeavingRightAfterAFileDeliversIt(t *testing.T) {
	addr, _ := startServer(t)
	olga := join(t, addr, "Olga")
	petr := join(t, addr, "Petr")
	olga.stdout.waitFor(t, `User "Petr" connected`)
	content := randomBytes(t, 5<<20)
	path := filepath.Join(t.TempDir(), "last.bin")
	require.NoError(t, os.WriteFile(path, content, 0o644))
	// The built client: its TCP connections can half-close.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ivan := exec.CommandContext(ctx, clientBinary(t), "--server", addr, "Ivan")
	stdin, err := ivan.StdinPipe()
	require.NoError(t, err)
	ivanErr := newOutput()
	ivan.Stderr = ivanErr
	require.NoError(t, ivan.Start())
	ivanErr.waitFor(t, "logged in as Ivan")
	olga.stdout.waitFor(t, `User "Ivan" connected`)
	petr.stdout.waitFor(t, `User "Ivan" connected`)

	for i := range 200 {
		petr.say(t, fmt.Sprint("chatter ", i), "")
	}
	_, err = io.WriteString(stdin, "the last word\n"+path+"\n")
	require.NoError(t, err)
	stdin.Close()
	require.NoError(t, ivan.Wait(), "end of input exits 0")

	olga.stdout.waitFor(t, "Ivan: the last word")
	olga.stdout.waitFor(t, `saved as "last.bin"`)
	got, err := os.ReadFile(filepath.Join(olga.dir, "last.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(content, got))
	require.NoError(t, olga.leave(t))
	require.NoError(t, petr.leave(t))
}
