// Package conformance_test is a black-box conformance suite for the pcx
// server: it builds ./cmd/server, runs it as a process on loopback and
// speaks PROTOCOL.md to it with hand-written bytes. It imports nothing of
// pcx on purpose, so that the framing and the dict format are checked by a
// second, independent reading of the contract.
package conformance_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"go.uber.org/goleak"
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
	// Built before any test's clock starts; a failed build is reported by
	// the first test that needs the binary.
	_, _ = buildServer()
	code := m.Run()
	if bin, err := buildServer(); err == nil && os.Getenv(serverEnv) == "" {
		os.RemoveAll(filepath.Dir(bin))
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
