// Package procout collects what a process prints, for tests that start the
// built binaries and wait for what they say.
package procout

import (
	"strings"
	"sync"
)

// Output is an io.Writer that keeps everything written to it and lets a
// reader wait for the next write. Safe for concurrent use.
type Output struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every write
	text    strings.Builder
}

// New returns an empty Output.
func New() *Output { return &Output{changed: make(chan struct{})} }

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.text.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

// String is everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.text.String()
}

// Snapshot is everything written so far and a channel that is closed by
// the next write: a reader checks the text, then waits on the channel.
func (o *Output) Snapshot() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.text.String(), o.changed
}
