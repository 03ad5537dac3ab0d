package loadgen_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/internal/loadgen"
)

// clientIndex is the index of a run's client from its nickname lg-ID-i.
func clientIndex(t *testing.T, nick string) int {
	t.Helper()
	i, err := strconv.Atoi(nick[strings.LastIndexByte(nick, '-')+1:])
	require.NoError(t, err, nick)
	return i
}

// Client i of a run goes to server i mod n, senders and receivers alike,
// and the summary says how many each server had.
func TestClientsAreSpreadOverServersRoundRobin(t *testing.T) {
	relay := startRelays(t, 3)
	sum := runAgainst(t, loadgen.Config{
		Server: relay.addrs(), Scenario: loadgen.ScenarioFanout,
		Clients: 7, Senders: 2, Messages: 200, Size: 64,
	})
	assert.Equal(t, true, get(t, sum, "valid"), sum.String())
	assert.Equal(t, 3, get(t, sum, "servers"))
	assert.Equal(t, "3,2,2", get(t, sum, "clients_per_server"))
	assert.Equal(t, uint64(2*200*6), get(t, sum, "delivered"))
	assert.Len(t, strings.Split(get(t, sum, "p99_us_each").(string), ","), 3, "latency by the receiver's server")
	logins := relay.logins()
	require.Len(t, logins, 3)
	seen := 0
	for port, nicks := range logins {
		for _, n := range nicks {
			assert.Equal(t, port, clientIndex(t, n)%3, "%s logged in through port %d", n, port)
			seen++
		}
	}
	assert.Equal(t, 7, seen)
}

// One address is a list of one: everything on it, as before.
func TestOneServerTakesEveryClient(t *testing.T) {
	relay := startRelay(t)
	sum := runAgainst(t, loadgen.Config{
		Server: relay.addr(), Scenario: loadgen.ScenarioFanout,
		Clients: 4, Senders: 1, Messages: 50,
	})
	assert.Equal(t, true, get(t, sum, "valid"), sum.String())
	assert.Equal(t, 1, get(t, sum, "servers"))
	assert.Equal(t, "4", get(t, sum, "clients_per_server"))
}

// The checks hold across servers: a receiver on the second server, whose
// sender is on the first, sees exactly the fault done to its stream.
func TestFanoutAcrossServersDetectsFaults(t *testing.T) {
	const target = 40
	isVictim := func(nick string) bool { return strings.HasSuffix(nick, "-3") } // 3 mod 2: the second server
	for _, tt := range faults(isVictim, target) {
		if tt.key == "garbled" {
			continue // garbling is checked on one server, by TestFanoutDetectsFaults
		}
		t.Run(tt.name, func(t *testing.T) {
			relay := startRelays(t, 2)
			relay.breakWith(tt.deliver(), nil)
			sum := runAgainst(t, loadgen.Config{
				Server: relay.addrs(), Scenario: loadgen.ScenarioFanout,
				Clients: 5, Senders: 1, Messages: 100, Size: 64, Drain: 300 * time.Millisecond,
			})
			expectFault(t, sum, tt.key)
			var victimPort = -1
			for port, nicks := range relay.logins() {
				for _, n := range nicks {
					if isVictim(n) {
						victimPort = port
					}
				}
			}
			assert.Equal(t, 1, victimPort, "the receiver hurt is on the second server")
		})
	}
}

// A file goes from the sender on the first server to receivers on every
// server, each copy checked.
func TestFilesCrossServers(t *testing.T) {
	relay := startRelays(t, 2)
	sum := runAgainst(t, loadgen.Config{
		Server: relay.addrs(), Scenario: loadgen.ScenarioFiles,
		Receivers: 3, Bytes: 1<<20 + 7, Verify: loadgen.VerifyCompare,
	})
	assert.Equal(t, true, get(t, sum, "valid"), sum.String())
	assert.Equal(t, 3, get(t, sum, "intact"))
	assert.Equal(t, "2,2", get(t, sum, "clients_per_server"))
	logins := relay.logins()
	require.Len(t, logins[0], 2)
	assert.Equal(t, 0, clientIndex(t, logins[0][0])*clientIndex(t, logins[0][1]), "the sender, client 0, is on the first server")
}

func TestConnsAcrossServers(t *testing.T) {
	relay := startRelays(t, 2)
	sum := runAgainst(t, loadgen.Config{
		Server: relay.addrs(), Scenario: loadgen.ScenarioConns,
		Clients: 11, Messages: 2,
	})
	assert.Equal(t, true, get(t, sum, "valid"), sum.String())
	assert.Equal(t, "6,5", get(t, sum, "clients_per_server"))
	assert.Equal(t, 2, get(t, sum, "broadcasts"))
}

// --tls and --ws apply to every server of a list.
func TestSchemeGoesBeforeEveryServer(t *testing.T) {
	assert.Equal(t, "tls://a:1", loadgen.WithScheme("a:1", loadgen.TLSScheme))
	assert.Equal(t, "tls://a:1,tls://b:2", loadgen.WithScheme("a:1,tls://b:2", loadgen.TLSScheme))
	assert.Equal(t, "ws://a:1,ws://b:2,ws://c:3", loadgen.WithScheme("a:1, b:2,c:3", loadgen.WSScheme))
}

func TestServerListsAreSplitOnCommas(t *testing.T) {
	assert.Equal(t, []string{"a:1"}, loadgen.SplitServers("a:1"))
	assert.Equal(t, []string{"a:1", "tls://b:2", "c:3"}, loadgen.SplitServers("a:1, tls://b:2,c:3"))
	_, err := loadgen.Run(t.Context(), loadgen.Config{Server: "a:1,,b:2", Scenario: loadgen.ScenarioConns, Clients: 2, Messages: 1})
	require.ErrorIs(t, err, loadgen.ErrConfig)
	_, err = loadgen.Run(t.Context(), loadgen.Config{Server: "a:1", ServerPIDs: []int{0}, Scenario: loadgen.ScenarioConns, Clients: 2, Messages: 1})
	require.ErrorIs(t, err, loadgen.ErrConfig)
}
