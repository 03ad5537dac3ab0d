package loadgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/internal/loadgen"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every run against the test relay.
const testTimeout = 20 * time.Second

func runAgainst(t *testing.T, cfg loadgen.Config) loadgen.Summary {
	t.Helper()
	if cfg.Duration == 0 {
		cfg.Duration = testTimeout
	}
	sum, err := loadgen.Run(context.Background(), cfg)
	require.NoError(t, err)
	return sum
}

func get(t *testing.T, s loadgen.Summary, key string) any {
	t.Helper()
	v, ok := s.Get(key)
	require.True(t, ok, "summary has no %s: %s", key, s)
	return v
}

func TestFanoutCleanRunIsValid(t *testing.T) {
	tests := []struct {
		name string
		rate float64
	}{
		{name: "unpaced", rate: 0},
		{name: "paced", rate: 4000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			relay := startRelay(t)
			sum := runAgainst(t, loadgen.Config{
				Server: relay.addr(), Scenario: loadgen.ScenarioFanout,
				Clients: 5, Senders: 2, Messages: 300, Size: 100, Rate: tt.rate,
			})
			assert.Equal(t, true, get(t, sum, "valid"), sum.String())
			assert.Equal(t, uint64(2*300*4), get(t, sum, "delivered"))
			for _, k := range []string{"lost", "dup", "reorder", "garbled", "foreign"} {
				assert.Equal(t, uint64(0), get(t, sum, k), k)
			}
			// Each of the 5 clients hears of those who logged in after it.
			assert.Equal(t, uint64(4+3+2+1), get(t, sum, "notices"))
			assert.Equal(t, 100, get(t, sum, "size"))
		})
	}
}

// fault is one way the test relay breaks a stream: deliver makes the
// relay's deliver hook, and key names the summary's count of it.
type fault struct {
	name    string
	deliver func() func(to string, n int, body []byte) [][]byte
	key     string
}

// faults are the ways of breaking the stream to the receivers isVictim
// picks, at message target: dropped, sent twice, swapped with the next,
// garbled.
func faults(isVictim func(nick string) bool, target int) []fault {
	return []fault{
		{name: "a message dropped is lost", key: "lost", deliver: func() func(string, int, []byte) [][]byte {
			return func(to string, n int, body []byte) [][]byte {
				if isVictim(to) && n == target {
					return nil
				}
				return [][]byte{body}
			}
		}},
		{name: "a message sent twice is a duplicate", key: "dup", deliver: func() func(string, int, []byte) [][]byte {
			return func(to string, n int, body []byte) [][]byte {
				if isVictim(to) && n == target {
					return [][]byte{body, body}
				}
				return [][]byte{body}
			}
		}},
		{name: "two messages swapped are out of order", key: "reorder", deliver: func() func(string, int, []byte) [][]byte {
			var held []byte
			return func(to string, n int, body []byte) [][]byte {
				switch {
				case !isVictim(to):
					return [][]byte{body}
				case n == target:
					held = body
					return nil
				case held != nil:
					out := [][]byte{body, held}
					held = nil
					return out
				}
				return [][]byte{body}
			}
		}},
		{name: "a byte flipped in the text is garbled", key: "garbled", deliver: func() func(string, int, []byte) [][]byte {
			return func(to string, n int, body []byte) [][]byte {
				if isVictim(to) && n == target {
					bad := bytes.Clone(body)
					bad[len(bad)-5] ^= 1 // inside the padding
					return [][]byte{bad}
				}
				return [][]byte{body}
			}
		}},
	}
}

// expectFault requires a run declared invalid that counted one fault of
// kind key and none of the others.
func expectFault(t *testing.T, sum loadgen.Summary, key string) {
	t.Helper()
	assert.Equal(t, false, get(t, sum, "valid"), sum.String())
	for _, k := range []string{"lost", "dup", "reorder", "garbled"} {
		want := uint64(0)
		if k == key || (key == "garbled" && k == "lost") {
			want = 1 // a garbled message also never arrives whole
		}
		assert.Equal(t, want, get(t, sum, k), "%s in %s", k, sum)
	}
}

// The relay's deliver hook breaks the stream to receiver 3 in one way each;
// the run must see exactly that fault and be declared invalid.
func TestFanoutDetectsFaults(t *testing.T) {
	// The receiver hurt (client 3 of the run; client 0 is the sender) and
	// the message hurt.
	const target = 50
	isVictim := func(nick string) bool { return strings.HasSuffix(nick, "-3") }
	for _, tt := range faults(isVictim, target) {
		t.Run(tt.name, func(t *testing.T) {
			relay := startRelay(t)
			relay.breakWith(tt.deliver(), nil)
			sum := runAgainst(t, loadgen.Config{
				Server: relay.addr(), Scenario: loadgen.ScenarioFanout,
				Clients: 5, Senders: 1, Messages: 100, Size: 64, Drain: 300 * time.Millisecond,
			})
			expectFault(t, sum, tt.key)
		})
	}
}

// A run cut short by its duration cap is reported, not failed: the
// summary says it is not valid and why.
func TestFanoutCutShortIsNotValid(t *testing.T) {
	relay := startRelay(t)
	sum, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: relay.addr(), Scenario: loadgen.ScenarioFanout,
		Clients: 3, Senders: 1, Messages: 1000, Rate: 50, Duration: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.Equal(t, false, get(t, sum, "valid"), sum.String())
	assert.Contains(t, get(t, sum, "reason"), "context deadline exceeded")
	assert.Greater(t, get(t, sum, "lost"), uint64(0))
}

func TestLoginRefusalIsAnError(t *testing.T) {
	relay := startRelay(t)
	relay.refuseLogins()
	_, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: relay.addr(), Scenario: loadgen.ScenarioFanout,
		Clients: 3, Senders: 1, Messages: 10, Duration: testTimeout,
	})
	require.ErrorIs(t, err, loadgen.ErrLoginRefused)
}

func TestFilesDeliversIntactCopies(t *testing.T) {
	for _, verify := range []string{loadgen.VerifySHA256, loadgen.VerifyCompare, loadgen.VerifyNone} {
		t.Run(verify, func(t *testing.T) {
			relay := startRelay(t)
			sum := runAgainst(t, loadgen.Config{
				Server: relay.addr(), Scenario: loadgen.ScenarioFiles,
				Receivers: 3, Bytes: 1<<20 + 12345, Verify: verify,
			})
			assert.Equal(t, true, get(t, sum, "valid"), sum.String())
			assert.Equal(t, 3, get(t, sum, "intact"))
		})
	}
}

func TestFilesDetectsCorruption(t *testing.T) {
	for _, verify := range []string{loadgen.VerifySHA256, loadgen.VerifyCompare} {
		t.Run(verify, func(t *testing.T) {
			relay := startRelay(t)
			relay.breakWith(nil, func(to string, payload []byte) []byte {
				if !strings.HasSuffix(to, "-2") {
					return payload
				}
				bad := bytes.Clone(payload)
				bad[len(bad)/2] ^= 0x80
				return bad
			})
			sum := runAgainst(t, loadgen.Config{
				Server: relay.addr(), Scenario: loadgen.ScenarioFiles,
				Receivers: 3, Bytes: 300000, Verify: verify,
			})
			assert.Equal(t, false, get(t, sum, "valid"), sum.String())
			assert.Equal(t, 2, get(t, sum, "intact"))
		})
	}
}

func TestConnsBroadcastReachesEveryone(t *testing.T) {
	relay := startRelay(t)
	sum := runAgainst(t, loadgen.Config{
		Server: relay.addr(), Scenario: loadgen.ScenarioConns,
		Clients: 30, Messages: 3,
	})
	assert.Equal(t, true, get(t, sum, "valid"), sum.String())
	assert.Equal(t, int64(30*29/2), get(t, sum, "join_notices"))
	assert.Equal(t, 3, get(t, sum, "broadcasts"))
}

func TestRunRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  loadgen.Config
	}{
		{name: "unknown scenario", cfg: loadgen.Config{Server: "x:1", Scenario: "storm"}},
		{name: "more senders than clients", cfg: loadgen.Config{Server: "x:1", Scenario: loadgen.ScenarioFanout, Clients: 2, Senders: 3, Messages: 1}},
		{name: "fanout without messages", cfg: loadgen.Config{Server: "x:1", Scenario: loadgen.ScenarioFanout, Clients: 2, Senders: 1}},
		{name: "files without receivers", cfg: loadgen.Config{Server: "x:1", Scenario: loadgen.ScenarioFiles, Bytes: 10}},
		{name: "unknown verify mode", cfg: loadgen.Config{Server: "x:1", Scenario: loadgen.ScenarioFiles, Receivers: 1, Bytes: 10, Verify: "md5"}},
		{name: "no server", cfg: loadgen.Config{Scenario: loadgen.ScenarioConns, Clients: 2, Messages: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadgen.Run(context.Background(), tt.cfg)
			require.ErrorIs(t, err, loadgen.ErrConfig)
		})
	}
}

func TestSummaryFormats(t *testing.T) {
	var s loadgen.Summary
	s.Add("scenario", "fanout")
	s.Add("valid", true)
	s.Add("p99_us", 12.5)
	s.Add("delivered", uint64(7))
	s.Add("reason", "no delivery for 5s")
	assert.Equal(t, `scenario=fanout valid=true p99_us=12.500 delivered=7 reason="no delivery for 5s"`, s.String())
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Equal(t, `{"scenario":"fanout","valid":true,"p99_us":12.500,"delivered":7,"reason":"no delivery for 5s"}`, string(b))
}
