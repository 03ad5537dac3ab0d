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

func TestAcceptSaysWhichFailuresPass(t *testing.T) {
	boom := errors.New("boom")
	sl := &scriptedListener{errs: []error{acceptError(syscall.EMFILE), acceptError(syscall.ENFILE), boom}}
	l := &Listener{ln: sl}

	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE} {
		_, err := l.Accept()
		require.ErrorIs(t, err, ports.ErrAcceptPassing)
		assert.ErrorIs(t, err, errno, "the cause is kept")
	}
	_, err := l.Accept()
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ports.ErrAcceptPassing)
	assert.NotErrorIs(t, err, ports.ErrClosed)

	require.NoError(t, l.Close())
	_, err = l.Accept()
	assert.ErrorIs(t, err, ports.ErrClosed)
}
