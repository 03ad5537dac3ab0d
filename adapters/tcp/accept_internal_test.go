package tcp

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/ports"
)

// scriptedListener fails Accept with each of errs in turn, then hands out
// conn; once closed it fails with net.ErrClosed.
type scriptedListener struct {
	net.Listener // nil: only the methods below are called

	mu     sync.Mutex
	errs   []error  // guarded by mu
	conn   net.Conn // guarded by mu
	closed bool     // guarded by mu
	calls  int      // guarded by mu
}

func (l *scriptedListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	switch {
	case l.closed:
		return nil, net.ErrClosed
	case len(l.errs) > 0:
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	default:
		return l.conn, nil
	}
}

func (l *scriptedListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return nil
}

func acceptError(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", errno)}
}

func TestAcceptRetriesPassingShortages(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { _ = b.Close() })
	sl := &scriptedListener{errs: []error{acceptError(syscall.EMFILE), acceptError(syscall.ENFILE)}, conn: a}
	l := &Listener{ln: sl, closed: make(chan struct{})}

	c, err := l.Accept()

	require.NoError(t, err)
	require.NoError(t, c.Close())
	assert.Equal(t, 3, sl.calls)
}

func TestAcceptGivesUpOnOtherErrors(t *testing.T) {
	boom := errors.New("boom")
	l := &Listener{ln: &scriptedListener{errs: []error{boom}}, closed: make(chan struct{})}

	_, err := l.Accept()

	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ports.ErrClosed)
}

func TestCloseEndsAnAcceptBackingOff(t *testing.T) {
	errs := make([]error, 1000)
	for i := range errs {
		errs[i] = acceptError(syscall.EMFILE)
	}
	l := &Listener{ln: &scriptedListener{errs: errs}, closed: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()

	require.NoError(t, l.Close())

	assert.ErrorIs(t, <-done, ports.ErrClosed)
}
