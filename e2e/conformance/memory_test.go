package conformance_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// vmHWM is the peak resident memory of the server process, in bytes.
func (s *server) vmHWM(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Skip("no VmHWM in /proc/<pid>/status")
	return 0
}

// §2: decoding never allocates more than a small multiple of the frame's
// size: records of 1 MiB built of the smallest values (empty strings,
// empty lists, tiny keys) must not blow up the server's memory. The
// decoder allocates at most twice the record (adapters/dictcodec); what
// the server's peak grows by besides is the 1 MiB read buffers the
// garbage collector has not yet taken back.
func TestMemoryOfDecodingHostileRecordsStaysSmall(t *testing.T) {
	singleNode(t, "it measures one process's peak memory")
	t.Parallel()
	s := startServer(t, "--max-record", "1MiB")
	cs := s.room("Ivan", "Olga")
	ivan, olga := cs[0], cs[1]
	ivan.say("warm up")
	olga.expectText("Ivan", "warm up")
	before := s.vmHWM(t)
	const size = 1<<20 - 64
	shapes := []struct {
		name  string
		shape func(int) string
	}{
		{"empty strings", func(n int) string { return strings.Repeat(`"",`, n/3) + `""` }},
		{"empty lists", func(n int) string { return strings.Repeat(`[],`, n/3) + `[]` }},
		{"empty objects", func(n int) string { return strings.Repeat(`{},`, n/3) + `{}` }},
		{"an object of many short keys", func(n int) string {
			// Distinct keys of two or three bytes: the decoder keeps an
			// offset for each, to find duplicates.
			var b strings.Builder
			b.WriteByte('{')
			for i := 0; b.Len() < n-16; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"%x":""`, i)
			}
			b.WriteByte('}')
			return b.String()
		}},
		{"depth 31 lists", func(n int) string {
			one := strings.Repeat("[", 30) + strings.Repeat("]", 30)
			return strings.Repeat(one+",", n/(len(one)+1)) + "[]"
		}},
	}
	for _, sh := range shapes {
		rec := `{"l":[` + sh.shape(size-40) + `],"text":"` + sh.name + `"}`
		for i := 0; i < 5; i++ {
			ivan.send([]byte(rec))
			olga.expectText("Ivan", sh.name)
		}
		t.Logf("after 5 records of %s: peak RSS %d MiB", sh.name, s.vmHWM(t)>>20)
	}
	after := s.vmHWM(t)
	t.Logf("peak RSS %d MiB before, %d MiB after 25 hostile 1 MiB records (race detector: %v)", before>>20, after>>20, raceEnabled)
	// "A small multiple" read as at most 16 times the frame; the race
	// detector's shadow memory gets 4 times more.
	limit := int64(16 << 20)
	if raceEnabled {
		limit *= 4
	}
	require.Less(t, after-before, limit, "peak RSS grew %d MiB decoding 1 MiB records", (after-before)>>20)
}
