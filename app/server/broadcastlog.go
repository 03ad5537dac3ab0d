package server

import (
	"sync"
	"sync/atomic"
	"time"

	"pcx/ports"
)

// entryOverhead is what one frame costs the server beyond its bytes: the
// log entry that holds it and the allocator's rounding. It counts against
// every memory bound so that empty texts are not free.
const entryOverhead = 64

// chunkLen is how many entries one chunk of the log holds.
const chunkLen = 256

// logPos is a position in the broadcast log: how many entries come before
// it, and their bytes held in memory and on disk. Each field only grows, so
// the bytes between two positions are a subtraction.
type logPos struct {
	seq  int64
	mem  int64 // record bytes, in-memory payloads and entryOverhead each
	disk int64 // payload bytes of attachments held on disk
}

// logEntry is one broadcast frame: an encoded record, shared read-only by
// every receiver, with the attachment behind it if any, and the member who
// sent it, who is not sent it back (nil for a notice). A remote user's
// join notice has its claim order: it is not sent to members whose own
// claim order is not below it (room.go); 0 for every other entry.
type logEntry struct {
	record  []byte
	payload ports.Attachment
	from    *session
	order   uint64
	endMem  int64         // logPos.mem just after this entry
	endDisk int64         // logPos.disk just after this entry
	at      time.Duration // when it was appended, since epoch; for the delivery latency
}

// frameCost is what a frame counts against the memory bounds and the disk
// backlog bound.
func frameCost(record []byte, payload ports.Attachment) (mem, disk int64) {
	mem = entryOverhead + int64(len(record))
	if payload == nil {
		return mem, 0
	}
	if b := payload.Bytes(); b != nil {
		return mem + int64(len(b)), 0
	}
	return mem, payload.Size()
}

// logChunk holds chunkLen consecutive entries. Entries below the log's
// head are never written again, so readers read them without a lock.
type logChunk struct {
	first   int64 // seq of entries[0]
	entries [chunkLen]logEntry
	next    *logChunk // set under broadcastLog.mu before the head passes it
}

// broadcastLog is the one copy of every broadcast frame, which every
// member's writer reads through with its own cursor: a message costs the
// same whether two receivers or two thousand are behind on it. Nothing
// trims it: a chunk is garbage once no cursor points into it or before it,
// so what it retains is exactly what the slowest cursor still needs.
type broadcastLog struct {
	mu   sync.Mutex // guards head and headChunk; appends also hold Server.mu
	head logPos
	// headChunk holds the entry at head.seq once it is appended.
	headChunk *logChunk
	// headSeq is head.seq, stored once the entries below it (and the
	// chunk after a full one) are written: writers read it without the
	// lock on every batch.
	headSeq atomic.Int64
}

func newBroadcastLog() *broadcastLog {
	return &broadcastLog{headChunk: &logChunk{}}
}

// append adds one frame and returns the new head and what the frame
// added to it. Server.mu must be held, so that appends and membership
// changes have one order.
func (l *broadcastLog) append(record []byte, payload ports.Attachment, from *session, order uint64) (head, cost logPos) {
	mem, disk := frameCost(record, payload)
	at := time.Since(epoch)
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.headChunk
	i := l.head.seq - c.first
	l.head.seq++
	l.head.mem += mem
	l.head.disk += disk
	c.entries[i] = logEntry{record: record, payload: payload, from: from, order: order, endMem: l.head.mem, endDisk: l.head.disk, at: at}
	if i == chunkLen-1 {
		c.next = &logChunk{first: l.head.seq}
		l.headChunk = c.next
	}
	l.headSeq.Store(l.head.seq)
	return l.head, logPos{seq: 1, mem: mem, disk: disk}
}

// end is the cursor at the head: what a new member starts from.
func (l *broadcastLog) end() logCursor {
	l.mu.Lock()
	defer l.mu.Unlock()
	return logCursor{chunk: l.headChunk, pos: l.head}
}

// logCursor is a position in the log with the chunk that holds the entry
// there (or, at a chunk's end, the chunk before it).
type logCursor struct {
	chunk *logChunk
	pos   logPos
}

// entry returns the entry at the cursor. The entry must be below the head
// the caller read.
func (c *logCursor) entry() *logEntry {
	if c.pos.seq-c.chunk.first == chunkLen {
		c.chunk = c.chunk.next
	}
	return &c.chunk.entries[c.pos.seq-c.chunk.first]
}

// advance moves the cursor past e, the entry at it.
func (c *logCursor) advance(e *logEntry) {
	c.pos = logPos{seq: c.pos.seq + 1, mem: e.endMem, disk: e.endDisk}
}

// headPos is the position just past the last entry.
func (l *broadcastLog) headPos() logPos {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}
