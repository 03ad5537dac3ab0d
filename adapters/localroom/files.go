package localroom

import (
	"context"
	"fmt"
	"io"
	"sync"

	"pcx/internal/fileoffers"
	"pcx/ports"
)

// DefaultChunk is the chunk a fetch of Files copies at a time when
// Room.Files is given 0.
const DefaultChunk = 256 << 10

// Files is one node's ports.FileShare in a process. A fetch reads the
// origin's offered payload itself, a chunk at a time, each chunk through
// the origin's table of offers, so that a withdrawal or the origin's Close
// stops it between two chunks, as a remote fetch would be stopped.
type Files struct {
	room   *Room
	node   string
	chunk  int
	offers *fileoffers.Table

	mu       sync.Mutex // guards closed and the Add of fetching
	closed   bool
	stop     chan struct{}  // closed by Close: fetches under way end
	fetching sync.WaitGroup // the fetches under way
}

var _ ports.FileShare = (*Files)(nil)

// Files returns node's file share, which serves at once; chunk is the
// bytes a fetch copies at a time (0: DefaultChunk). A node has one at a
// time: a second replaces the first for fetches from the node.
func (r *Room) Files(node string, chunk int) *Files {
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	f := &Files{room: r, node: node, chunk: chunk, offers: fileoffers.New(), stop: make(chan struct{})}
	r.mu.Lock()
	r.files[node] = f
	r.mu.Unlock()
	return f
}

// Offer implements ports.FileShare.
func (f *Files) Offer(id string, a ports.Attachment, terms ports.FileOffer) error {
	if err := f.offers.Add(id, a, terms); err != nil {
		return fmt.Errorf("localroom: %w", err)
	}
	return nil
}

// Withdraw implements ports.FileShare.
func (f *Files) Withdraw(id string) { f.offers.Withdraw(id) }

// origin returns node's share, or nil when it has none (it closed).
func (r *Room) origin(node string) *Files {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.files[node]
}

// Fetch implements ports.FileShare.
func (f *Files) Fetch(ctx context.Context, node, id string, size int64, w io.Writer) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return fmt.Errorf("localroom: fetch %q of %s: %w", id, node, ports.ErrFileShareClosed)
	}
	f.fetching.Add(1)
	f.mu.Unlock()
	defer f.fetching.Done()
	defer func() {
		if o := f.room.origin(node); o != nil {
			o.offers.FetchEnded(id)
		}
	}()
	if size < 0 {
		return fmt.Errorf("localroom: fetch %q of %s: negative size %d", id, node, size)
	}
	buf := make([]byte, min(int64(f.chunk), size))
	// A first read even of an empty file: it says whether the file is
	// offered at all.
	for off := int64(0); off < size || off == 0; {
		select {
		case <-ctx.Done():
			return fmt.Errorf("localroom: fetch %q of %s: %w", id, node, context.Cause(ctx))
		case <-f.stop:
			return fmt.Errorf("localroom: fetch %q of %s: %w", id, node, ports.ErrFileShareClosed)
		default:
		}
		o := f.room.origin(node)
		if o == nil {
			return fmt.Errorf("localroom: fetch %q: node %s: %w", id, node, ports.ErrFileOriginGone)
		}
		n, err := o.offers.ReadAt(id, size, buf, off)
		if err != nil {
			return fmt.Errorf("localroom: fetch of %s: %w", node, err)
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return fmt.Errorf("localroom: fetch %q of %s: writing at %d: %w", id, node, off, err)
		}
		if size == 0 {
			break
		}
		off += int64(n)
	}
	return nil
}

// Close implements ports.FileShare. A fetch blocked writing to its writer
// holds Close up until that write returns.
func (f *Files) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	close(f.stop)
	f.mu.Unlock()
	f.room.mu.Lock()
	if f.room.files[f.node] == f {
		delete(f.room.files, f.node)
	}
	f.room.mu.Unlock()
	f.offers.Close()
	f.fetching.Wait()
	return nil
}
