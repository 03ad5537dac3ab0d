package conformance_test

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// §2: strings are byte strings to the codec; only nickname, text and file
// name must be UTF-8, so invalid UTF-8 in unknown keys and their values is
// accepted.
func TestInvalidUTF8OutsideTheCheckedFieldsIsAccepted(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	for _, rec := range []string{
		"{\"x\":\"\xff\xfe\",\"text\":\"hi\"}",
		"{\"\xff\":\"v\",\"text\":\"hi\"}",
		"{\"l\":[\"\xc0\xaf\",{\"\xed\xa0\x80\":\"\"}],\"text\":\"hi\"}",
	} {
		ivan.send([]byte(rec))
		olga.expectText("Ivan", "hi")
	}
	barrier(olga, ivan, "no notice")
}

// §2: whitespace is space, tab, CR and LF; other bytes between tokens are
// malformed.
func TestOtherWhitespaceBetweenTokensIsMalformed(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	for name, rec := range map[string]string{
		"a vertical tab":   "{\v\"text\":\"hi\"}",
		"a form feed":      "{\"text\":\f\"hi\"}",
		"a no-break space": "{\"text\":\u00a0\"hi\"}",
		"a NUL":            "{\"text\":\"hi\"}\x00",
		"a BOM":            "\ufeff{\"text\":\"hi\"}",
	} {
		t.Run(name, func(t *testing.T) {
			ivan.t, olga.t = t, t
			ivan.send([]byte(rec))
			require.Equal(t, reasonMalformed, refusedOnce(t, ivan, olga))
		})
	}
}

// §4: PRECIS UsernameCaseMapped normalises to NFC, so a composed and a
// decomposed é are one nickname; the relay shows each as typed.
func TestNicknamesCompareAfterNormalisation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cs := s.room("José", "Olga")
	olga := cs[1]
	c := s.dial()
	c.send(dict("nickname", "Jose\u0301"))
	c.expectStatus("error: " + reasonTaken)
	c.send(dict("nickname", "JOSÉ"))
	c.expectStatus("error: " + reasonTaken)
	c.login("Rene\u0301")
	olga.expectNotice("User \"Rene\u0301\" connected")
	barrier(c, olga, "decomposed")
}

// §5 with the default --max-record replaced: the limit is the flag's.
func TestRecordLimitFollowsTheFlag(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--max-record", "1KiB")
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	text := strings.Repeat("x", 1024-len(`{"text":""}`))
	ivan.say(text)
	olga.expectText("Ivan", text)
	ivan.say(text + "x")
	t.Logf("error: %s", refusedOnce(t, ivan, olga))
	// Between the flag and the 1 MiB cap the connection stays.
	ivan.say(strings.Repeat("y", 1<<20-len(`{"text":""}`)))
	refusedOnce(t, ivan, olga)
}

// Issue 3 (--max-spool): an attachment that would take the spool over its
// limit is refused with an error notice and its payload dropped.
func TestSpoolLimitRefusesAttachments(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--max-spool", "2MiB")
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	ivan.sendFile("too big for the spool", "big.bin", append(payloadFor("Ivan", 1, 3<<20), smuggled...))
	t.Logf("error: %s", refusedOnce(t, ivan, olga))
	small := payloadFor("Ivan", 2, 1<<20)
	ivan.sendFile("fits", "fits.bin", small)
	olga.expectFile("Ivan", "fits", "fits.bin", small)
}

// §5: the write timeout also cuts off a receiver that stalls in the middle
// of a payload held on disk; the others get every file and see it leave.
func TestReceiverStalledInALargeFileIsCutOff(t *testing.T) {
	// Not parallel: a one-second write timeout must not meet a busy machine.
	s := startServer(t, "--write-timeout", "1s")
	cs := s.room("Ivan", "Stalled", "Olga")
	ivan, stalled, olga := cs[0], cs[1], cs[2]
	stalled.deaf = true
	var files [][]byte
	for i := 0; i < 3; i++ {
		big := payloadFor("Ivan", i, 6<<20)
		files = append(files, big)
		ivan.sendFile(strconv.Itoa(i), "f.bin", big)
	}
	left := false
	for i := 0; i < 3; {
		m := olga.nextMessage()
		if m.nickname == "SERVER" {
			require.Equal(t, `User "Stalled" disconnected`, m.text)
			left = true
			continue
		}
		require.Equal(t, strconv.Itoa(i), m.text)
		require.True(t, bytes.Equal(files[i], olga.next()))
		i++
	}
	if !left {
		olga.expectNotice(`User "Stalled" disconnected`)
	}
	ivan.expectNotice(`User "Stalled" disconnected`)
	stalled.gone = true
	s.expectSpoolEmpty()
}

// Issue 3: a port already in use is a one-line error and exit 1.
func TestPortInUseExitsOne(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	bin, err := serverBin.Path()
	require.NoError(t, err)
	cmd := exec.Command(bin, "--listen", s.addr, "--tls-listen", "", "--spool-dir", t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(wait):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		t.Fatal("a second server on a busy port kept running")
	}
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 1, exit.ExitCode())
	require.Equal(t, 1, strings.Count(strings.TrimSpace(out.String()), "\n")+1, "output: %q", out.String())
}
