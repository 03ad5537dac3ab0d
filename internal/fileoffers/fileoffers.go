// Package fileoffers is the origin's side of a ports.FileShare, shared by
// its adapters: the files a node offers, by id, each read in chunks at any
// offset by any number of fetches at once, and each holding a reference to
// its attachment until its offer ends (ports.FileOffer says when). How the
// chunks travel is the adapter's business.
package fileoffers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"pcx/ports"
)

// MaxIDLen is the longest id of an offer, in bytes.
const MaxIDLen = 255

// Table is one node's offered files. It is safe for concurrent use.
type Table struct {
	mu     sync.Mutex // guards offers, closed and the offers' mutable fields
	offers map[string]*offer
	closed bool
}

// offer is one offered file. Only src, size and a are set before it is
// shared; the rest is guarded by Table.mu.
type offer struct {
	a    ports.Attachment
	size int64
	src  io.ReaderAt
	// closeSrc closes what Open gave, if anything; called once, when the
	// offer has ended and no read of it is under way.
	closeSrc func() error

	readers int         // fetches still expected to end; 0 = no count
	timer   *time.Timer // ends the offer at its deadline; nil without one
	ended   bool        // the offer ended: no new read starts
	reading int         // reads under way
}

// New returns an empty table.
func New() *Table { return &Table{offers: make(map[string]*offer)} }

// Add offers a's payload under id until the offer ends as terms say; the
// table takes a reference to a.
func (t *Table) Add(id string, a ports.Attachment, terms ports.FileOffer) error {
	if id == "" || len(id) > MaxIDLen {
		return fmt.Errorf("fileoffers: id of %d bytes: want 1 to %d", len(id), MaxIDLen)
	}
	if terms.Readers < 0 {
		return fmt.Errorf("fileoffers: %d readers", terms.Readers)
	}
	o := &offer{a: a, size: a.Size(), readers: terms.Readers, closeSrc: func() error { return nil }}
	if b := a.Bytes(); b != nil {
		o.src = bytes.NewReader(b)
	} else {
		r, err := a.Open()
		if err != nil {
			return fmt.Errorf("fileoffers: opening the payload of %q: %w", id, err)
		}
		ra, ok := r.(io.ReaderAt)
		if !ok {
			r.Close()
			return fmt.Errorf("fileoffers: the payload of %q cannot be read at an offset (%T)", id, r)
		}
		o.src, o.closeSrc = ra, r.Close
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		o.closeSrc()
		return fmt.Errorf("fileoffers: offer %q: %w", id, ports.ErrFileShareClosed)
	case t.offers[id] != nil:
		o.closeSrc()
		return fmt.Errorf("fileoffers: %q is offered already", id)
	}
	a.Retain()
	if !terms.Until.IsZero() {
		o.timer = time.AfterFunc(time.Until(terms.Until), func() { t.end(id, o) })
	}
	t.offers[id] = o
	return nil
}

// Withdraw ends the offer of id, if there is one.
func (t *Table) Withdraw(id string) {
	t.mu.Lock()
	done := t.endLocked(id, t.offers[id])
	t.mu.Unlock()
	done()
}

// end ends o, the offer of id, unless it ended already (its deadline
// passing as it is withdrawn, say).
func (t *Table) end(id string, o *offer) {
	t.mu.Lock()
	done := t.endLocked(id, o)
	t.mu.Unlock()
	done()
}

// FetchEnded counts one expected fetch of id as ended, whole or not; the
// offer ends with the last one expected.
func (t *Table) FetchEnded(id string) {
	t.mu.Lock()
	o := t.offers[id]
	var done func()
	if o != nil && o.readers > 0 {
		if o.readers--; o.readers == 0 {
			done = t.endLocked(id, o)
		}
	}
	t.mu.Unlock()
	if done != nil {
		done()
	}
}

// endLocked ends o, the offer of id (nil: nothing to end), and returns what
// is left to do once t.mu is unlocked: close its source and drop the
// reference, unless a read is under way (the last one does it). t.mu must
// be held.
func (t *Table) endLocked(id string, o *offer) func() {
	if o == nil || o.ended {
		return func() {}
	}
	o.ended = true
	if t.offers[id] == o {
		delete(t.offers, id)
	}
	if o.timer != nil {
		o.timer.Stop()
	}
	if o.reading > 0 {
		return func() {}
	}
	return o.free
}

// free closes o's source and drops its reference. It runs once, outside
// t.mu, when o has ended and nothing reads it.
func (o *offer) free() {
	o.closeSrc() // a read-only file: nothing is lost on a failed close
	o.a.Release()
}

// ReadAt reads the bytes of id's payload at off into p: all of p, or up to
// the end of the payload, whose size must be size (else the caller speaks
// of another file). It fails with ports.ErrFileUnknown when id is not
// offered with that size.
func (t *Table) ReadAt(id string, size int64, p []byte, off int64) (int, error) {
	t.mu.Lock()
	o := t.offers[id]
	switch {
	case o == nil:
		t.mu.Unlock()
		return 0, fmt.Errorf("fileoffers: %q: %w", id, ports.ErrFileUnknown)
	case o.size != size:
		t.mu.Unlock()
		return 0, fmt.Errorf("fileoffers: %q has %d bytes, not %d: %w", id, o.size, size, ports.ErrFileUnknown)
	case off < 0 || off > o.size:
		t.mu.Unlock()
		return 0, fmt.Errorf("fileoffers: %q: offset %d outside its %d bytes", id, off, o.size)
	}
	o.reading++
	t.mu.Unlock()

	if rest := o.size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := o.src.ReadAt(p, off)
	if n == len(p) {
		err = nil // io.ReaderAt may say io.EOF with the last byte
	} else if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // the payload is shorter than its size
	}

	t.mu.Lock()
	o.reading--
	last := o.ended && o.reading == 0
	t.mu.Unlock()
	if last {
		o.free()
	}
	if err != nil {
		return n, fmt.Errorf("fileoffers: reading %q at %d: %w", id, off, err)
	}
	return n, nil
}

// Close ends every offer; Add fails from now on.
func (t *Table) Close() {
	t.mu.Lock()
	t.closed = true
	var done []func()
	for id, o := range t.offers {
		done = append(done, t.endLocked(id, o))
	}
	t.mu.Unlock()
	for _, f := range done {
		f()
	}
}

// Len returns the number of files offered now.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.offers)
}
