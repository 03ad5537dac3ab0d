// Package testbin builds the module's commands for the end-to-end tests
// that run them as processes: once per test run, before any test's clock
// starts, removed at the end. Only test files import it.
package testbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// Binary is a command of the module, built on first use.
type Binary struct {
	Pkg  string // the command's import path, such as "pcx/cmd/server"
	Race bool   // built with the race detector (Race: as this test binary is)
	// Env, when set, names an environment variable that may give the
	// binary already built (by the run that started this one): it is
	// used as it is, and never removed.
	Env string

	once  sync.Once
	path  string // set by once
	err   error  // set by once
	given bool   // set by once: path came from Env
}

// Path builds the binary the first time and returns where it is, or why
// it could not be built.
func (b *Binary) Path() (string, error) {
	b.once.Do(func() {
		if b.Env != "" {
			if b.path = os.Getenv(b.Env); b.path != "" {
				b.given = true
				return
			}
		}
		b.path, b.err = build(b.Pkg, b.Race)
	})
	return b.path, b.err
}

// Remove deletes what Path built; a binary given through Env stays.
func (b *Binary) Remove() {
	if path, err := b.Path(); err == nil && !b.given {
		os.RemoveAll(filepath.Dir(path))
	}
}

// build runs go build for pkg in the module's root, into a directory of
// its own.
func build(pkg string, race bool) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a module")
	}
	dir, err := os.MkdirTemp("", "pcx-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pcx-"+filepath.Base(pkg))
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// Main is the TestMain of a package that runs bins: it builds them first,
// since a cold build on a busy machine can take longer than a test waits
// (a failed build is reported by the first test that asks for the
// binary), runs the tests, removes the binaries and, when every test
// passed, looks for goroutines left behind. It returns the exit code.
func Main(m *testing.M, bins ...*Binary) int {
	for _, b := range bins {
		_, _ = b.Path()
	}
	code := m.Run()
	for _, b := range bins {
		b.Remove()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	return code
}
