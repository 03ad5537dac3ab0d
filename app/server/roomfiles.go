package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// Defaults of Room.FileHold and Room.FileFetches.
const (
	// DefaultFileHold bounds how long the origin keeps an attachment for
	// the other nodes when some never fetch it (a node that died, say);
	// normally the offer ends when every node has fetched it.
	DefaultFileHold = 10 * time.Minute
	// DefaultFileFetches is how many attachments a node fetches from the
	// others at once: each holds a window of chunks in memory.
	DefaultFileFetches = 8
)

// Attachments between the nodes of a room, in one place:
//
//   - The origin. A local user's attachment, once whole in the spool, is
//     offered to the room's file share under an id of this run of the
//     node, before its message is published (room.go's sent); the offer
//     holds a reference to the spooled payload until every other node
//     alive then has fetched it (or given up), or Room.FileHold passed.
//   - The others. A message with an attachment is not relayed at once:
//     the payload is fetched into the local spool (Spool.Store, so the
//     spool's limits hold here too) through a pipe, never whole in
//     memory, and the record and payload are relayed together, as one
//     log entry, once the payload is whole. A fetch that fails is logged
//     and counted, and the local users get a SERVER notice instead of
//     the message.
//   - Order. Every later event of the same sender (node and nickname)
//     waits behind the fetch: it is queued, and the queue is worked off
//     by one goroutine in order once the payload is relayed. Other
//     senders are not held up: their events are relayed as they come.
//     The end of a whole node (its shutdown, or its being seen gone)
//     waits behind every pending queue of that node, so that each of its
//     users' leave comes after their files.
//   - Bounds. At most Room.FileFetches fetches run at once; a sender's
//     queue holds its events while its file comes (each at most a
//     record). The bus's goroutine never waits for a fetch.
type fileQueues struct {
	mu      sync.Mutex // guards pending
	pending map[sender]*senderQueue
	// slots bounds the fetches under way.
	slots chan struct{}
	// running are the queues' goroutines; closeFiles waits for them.
	running sync.WaitGroup
	run     string // this run of the node, in the ids of its offers
}

// sender is a user of another node.
type sender struct{ node, nick string }

// senderQueue is what waits behind a sender's attachment, the attachment's
// own message first. Guarded by fileQueues.mu.
type senderQueue struct {
	items []queued
}

// queued is an event held in its sender's queue, or the share of the end
// of a whole node that the queue must reach before it runs.
type queued struct {
	ev      ports.BusEvent
	barrier *nodeBarrier
}

// nodeBarrier runs the end of a node once every queue of its users that
// was pending then has reached it. Guarded by fileQueues.mu.
type nodeBarrier struct {
	left int
	run  func()
}

// initFiles sets up what the attachments need; newRoomState calls it.
func (r *roomState) initFiles() {
	if r.FileHold <= 0 {
		r.FileHold = DefaultFileHold
	}
	if r.FileFetches <= 0 {
		r.FileFetches = DefaultFileFetches
	}
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand's promise)
	r.files = fileQueues{
		pending: make(map[sender]*senderQueue),
		slots:   make(chan struct{}, r.FileFetches),
		run:     hex.EncodeToString(b[:]),
	}
}

// offer makes a local attachment fetchable by the other nodes and returns
// its reference for the bus event.
func (r *roomState) offer(att ports.Attachment) (*ports.BusAttachment, error) {
	id := r.files.run + "." + strconv.FormatUint(r.attachments.Add(1), 10)
	ref := &ports.BusAttachment{ID: id, Size: att.Size()}
	if r.Files == nil {
		return ref, nil // no share: the others drop the message
	}
	terms := ports.FileOffer{Readers: r.otherNodes(), Until: time.Now().Add(r.FileHold)}
	if err := r.Files.Offer(id, att, terms); err != nil {
		return nil, fmt.Errorf("server: offer an attachment to the room: %w", err)
	}
	return ref, nil
}

// withdraw ends the offer of ref (nil: none), whose message was not
// published: no one will fetch it.
func (r *roomState) withdraw(ref *ports.BusAttachment) {
	if ref != nil && r.Files != nil {
		r.Files.Withdraw(ref.ID)
	}
}

// otherNodes counts the other nodes alive now, which will each fetch an
// attachment offered now; 0 (no count: the offer lasts until FileHold)
// when the registry cannot say.
func (r *roomState) otherNodes() int {
	ctx, cancel := context.WithTimeout(r.stop, r.Timeout)
	defer cancel()
	alive, err := r.Nodes.Alive(ctx)
	if err != nil {
		r.log.Warn("counting the room's nodes for an attachment; it is held until its deadline", "err", err)
		return 0
	}
	if i := slices.Index(alive, r.Node); i >= 0 {
		alive = slices.Delete(alive, i, i+1)
	}
	return len(alive)
}

// hold takes ev from the bus when it must wait for, or is, an attachment
// to fetch; false means: relay it now.
func (r *roomState) hold(ev ports.BusEvent) bool {
	r.files.mu.Lock()
	held, noShare := r.holdLocked(ev)
	r.files.mu.Unlock()
	if noShare {
		r.log.Warn("dropped a message with an attachment from another node: no file share", "from", ev.Node, "size", ev.Attachment.Size)
	}
	return held
}

// holdLocked is hold under fileQueues.mu; noShare says that ev, which has
// an attachment, was dropped for want of a file share.
func (r *roomState) holdLocked(ev ports.BusEvent) (held, noShare bool) {
	q := &r.files
	switch who := (sender{ev.Node, ev.Nickname}); {
	case ev.Kind == ports.BusShutdown:
		return r.barrierLocked(ev.Node, func() { r.apply(ev) }), false
	case q.pending[who] != nil:
		p := q.pending[who]
		p.items = append(p.items, queued{ev: ev})
		return true, false
	case ev.Kind != ports.BusMessage || ev.Attachment == nil:
		return false, false
	case r.Files == nil:
		return true, true
	case r.stop.Err() != nil:
		return true, false // closing: nothing more is relayed
	default:
		q.pending[who] = &senderQueue{items: []queued{{ev: ev}}}
		q.running.Go(func() { r.workOff(who) })
		return true, false
	}
}

// afterFiles runs end, the end of node, once the files of its users that
// are being fetched now have been relayed (or given up).
func (r *roomState) afterFiles(node string, end func()) {
	r.files.mu.Lock()
	held := r.barrierLocked(node, end)
	r.files.mu.Unlock()
	if !held {
		end()
	}
}

// barrierLocked queues end behind every pending queue of node's users;
// false when there is none (end is the caller's to run). fileQueues.mu
// must be held.
func (r *roomState) barrierLocked(node string, end func()) bool {
	b := &nodeBarrier{run: end}
	for who, p := range r.files.pending {
		if who.node == node {
			p.items = append(p.items, queued{barrier: b})
			b.left++
		}
	}
	return b.left > 0
}

// workOff relays the events of who's queue in order, fetching each
// attachment first, until the queue is empty.
func (r *roomState) workOff(who sender) {
	q := &r.files
	for {
		q.mu.Lock()
		p := q.pending[who]
		if len(p.items) == 0 {
			delete(q.pending, who)
			q.mu.Unlock()
			return
		}
		it := p.items[0]
		p.items = p.items[1:]
		var last bool
		if it.barrier != nil {
			it.barrier.left--
			last = it.barrier.left == 0
		}
		q.mu.Unlock()
		switch {
		case it.barrier != nil:
			if last {
				it.barrier.run()
			}
		case it.ev.Kind == ports.BusMessage && it.ev.Attachment != nil:
			r.fetchAndRelay(it.ev)
		default:
			r.apply(it.ev)
		}
	}
}

// fetchAndRelay brings ev's attachment into the spool and relays the
// message with it, or tells the local users that it was lost.
func (r *roomState) fetchAndRelay(ev ports.BusEvent) {
	att, err := r.fetch(ev)
	if err != nil {
		if r.stop.Err() != nil {
			return // this node is stopping: no one is told
		}
		r.log.Warn("an attachment from another node could not be fetched; its message is dropped",
			"from", ev.Node, "size", ev.Attachment.Size, "err", err)
		r.srv.metrics.Add(ports.RoomFilesLost, 1)
		r.srv.mu.Lock()
		if !r.srv.closing {
			r.notice(domain.RoomFileLostText(ev.Nickname))
		}
		r.srv.unlockAndCut()
		return
	}
	r.srv.metrics.Add(ports.RoomFilesFetched, 1)
	r.srv.metrics.Add(ports.RoomFileBytesFetched, int(att.Size()))
	r.remoteMessage(ev, att)
	att.Release()
}

// errStoreEnded ends a fetch whose spooling stopped.
var errStoreEnded = errors.New("server: the spool stopped reading")

// fetch streams ev's attachment from its node into the spool, in one of
// the slots of fetches.
func (r *roomState) fetch(ev ports.BusEvent) (ports.Attachment, error) {
	ref := ev.Attachment
	if ref.Size > r.srv.cfg.MaxAttachment {
		return nil, fmt.Errorf("server: an attachment of %d bytes is over this server's %d", ref.Size, r.srv.cfg.MaxAttachment)
	}
	select {
	case r.files.slots <- struct{}{}:
		defer func() { <-r.files.slots }()
	case <-r.stop.Done():
		return nil, r.stop.Err()
	}
	ctx, cancel := context.WithCancel(r.stop)
	defer cancel()
	pr, pw := io.Pipe()
	fetched := make(chan struct{})
	go func() {
		// nil: the reader sees the end, after exactly Size bytes.
		pw.CloseWithError(r.Files.Fetch(ctx, ev.Node, ref.ID, ref.Size, pw))
		close(fetched)
	}()
	// A failed fetch fails Store with its error (the pipe carries it);
	// a failed Store (the spool full) stops the fetch.
	att, err := r.srv.spool.Store(ref.Size, pr)
	if err != nil {
		cancel()
	}
	pr.CloseWithError(errStoreEnded)
	<-fetched
	if err != nil {
		return nil, fmt.Errorf("server: fetch an attachment into the spool: %w", err)
	}
	return att, nil
}

// closeFiles ends the attachments' work once the bus is closed: the
// queues' goroutines (their fetches end with r.stop), then the share.
func (r *roomState) closeFiles() {
	r.files.running.Wait()
	if r.Files != nil {
		if err := r.Files.Close(); err != nil {
			r.log.Warn("closing the room's file share", "err", err)
		}
	}
}
