// Package conformance_test is a black-box conformance suite for the pcx
// server: it builds ./cmd/server, runs it as a process on loopback and
// speaks PROTOCOL.md to it with hand-written bytes. Of pcx it imports
// only the test helpers that build the binary and start nats-servers
// (internal/testbin, internal/natstest): nothing of the protocol, on
// purpose, so that the framing and the dict format are checked by a
// second, independent reading of the contract.
package conformance_test

import (
	"flag"
	"os"
	"strconv"
	"testing"

	"pcx/internal/testbin"
)

// parallel is how many tests run at once unless -test.parallel says: each
// test has its own server process and spends most of its time waiting on
// loopback, so more of them than there are cores keep the cores busy.
const parallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", strconv.Itoa(parallel)); err != nil {
			panic(err)
		}
	}
	os.Exit(testbin.Main(m, serverBin))
}
