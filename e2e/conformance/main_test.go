// Package conformance_test is a black-box conformance suite for the pcx
// server: it builds ./cmd/server, runs it as a process on loopback and
// speaks PROTOCOL.md to it with hand-written bytes. It imports nothing of
// pcx on purpose, so that the framing and the dict format are checked by a
// second, independent reading of the contract.
package conformance_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := buildServer(); err == nil {
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
