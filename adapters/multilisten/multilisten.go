// Package multilisten merges several listeners into one, so that one
// server accepts on several ports at once (plain and TLS) without knowing
// it: a ports.Listener whose Accept returns the next peer of any of them.
package multilisten

import (
	"errors"
	"fmt"
	"sync"

	"pcx/ports"
)

// Listener accepts from several listeners; it implements ports.Listener.
// A goroutine per listener waits in its Accept and hands what it gets
// (a connection or an error) to the merged Accept.
type Listener struct {
	listeners []ports.Listener
	accepted  chan accepted
	closed    chan struct{} // closed by Close
	pumps     sync.WaitGroup
	closeOnce sync.Once
	closeErr  error // written once inside closeOnce
}

type accepted struct {
	conn ports.Conn
	err  error
}

var _ ports.Listener = (*Listener)(nil)

// Merge accepts from every listener in ls, and owns them: Close closes
// them all.
func Merge(ls ...ports.Listener) *Listener {
	m := &Listener{listeners: ls, accepted: make(chan accepted), closed: make(chan struct{})}
	for _, l := range ls {
		m.pumps.Add(1)
		go m.pump(l)
	}
	return m
}

// pump accepts from l until l is closed.
func (m *Listener) pump(l ports.Listener) {
	defer m.pumps.Done()
	for {
		c, err := l.Accept()
		if errors.Is(err, ports.ErrClosed) {
			return
		}
		select {
		case m.accepted <- accepted{c, err}:
		case <-m.closed:
			if c != nil {
				c.Close()
			}
			return
		}
	}
}

// Accept waits for the next peer of any listener. A listener's failure is
// returned as it is (the caller backs off and calls again); after Close
// the error wraps ports.ErrClosed.
func (m *Listener) Accept() (ports.Conn, error) {
	select {
	case a := <-m.accepted:
		return a.conn, a.err
	case <-m.closed:
		return nil, fmt.Errorf("multilisten: accept: %w", ports.ErrClosed)
	}
}

// Close closes every listener and waits for their pumps. Connections
// already accepted stay open.
func (m *Listener) Close() error {
	m.closeOnce.Do(func() {
		close(m.closed)
		var errs []error
		for _, l := range m.listeners {
			errs = append(errs, l.Close())
		}
		m.pumps.Wait()
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}

// Addr is the address of the first listener given to Merge: the one to
// dial by default (the server puts its plain port first). The others say
// their own.
func (m *Listener) Addr() string {
	return m.listeners[0].Addr()
}
