package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// outFrame is one frame of a batch the writer sends: an encoded record,
// shared read-only by every receiver of it, and the attachment behind it
// if any. Keeping the two in one entry keeps them adjacent on the wire.
type outFrame struct {
	record  []byte
	payload ports.Attachment
}

// privateFrame is a frame for one session only (a status reply, an error
// notice), to be sent when its cursor reaches seq: after every broadcast
// appended before it and before every one appended after.
type privateFrame struct {
	seq    int64
	record []byte
}

// session is one connection, from accept to close.
type session struct {
	srv  *Server
	conn ports.Conn        // for Close and RemoteAddr, from any goroutine
	in   ports.FrameReader // the reader goroutine's half of conn
	out  ports.FrameWriter // the writer goroutine's half of conn
	addr netip.Addr        // the peer's address; invalid when the transport has none
	// counted is set when the connection was admitted under the
	// connection limits; srv.mu guards it.
	counted bool
	log     atomic.Pointer[slog.Logger] // gains the nickname at login

	// Owned by the reader goroutine; nick and memberIndex are also read
	// by the server under srv.mu once the session has joined.
	nick        domain.Nickname
	joined      bool   // login succeeded; only the reader goroutine touches it
	memberIndex int    // position in srv.members; guarded by srv.mu
	joinSeq     uint64 // login order, for "who"; guarded by srv.mu
	readBuf     []byte
	pace        pacer       // the rate limit; its stop may be called from any goroutine
	nickLost    atomic.Bool // in a room: another server's user took the nickname (room.go)
	// order is, in a room, the order of the login's nickname claim
	// (ports.Names.Claim), never changed after: the writer steps over
	// the join notices of remote users whose claim came before it. Set
	// before the join; the writer reads it once it sees the join (s.mu
	// orders the two). 0 for a single server.
	order uint64

	// Owned by the writer goroutine (and by cleanup once it has
	// returned): the next log entry to take, its chunk nil until the
	// writer sees the session has joined; private frames taken from the
	// queue but not yet sent; whether it half-closed the connection, which
	// started the linger that bounds the reader's last reads.
	cursor    logCursor
	pending   []privateFrame
	lingering bool

	// mu guards what the writer has left to send and the flags below it.
	mu sync.Mutex
	// reading is set at the join; from then on the writer reads the log
	// from start.
	reading bool
	start   logCursor
	// held is where what the session still holds of the log begins: the
	// start of the batch being written, else the writer's cursor.
	held logPos
	// ownBehind is the bytes of the session's own messages between held
	// and the head: the log keeps them for others, and they are never
	// sent to it, so they do not count against its bounds.
	ownBehind logPos
	// stopSeq, once the session is finishing, is the log position its
	// writer stops at; -1 before.
	stopSeq      int64
	private      []privateFrame
	privateBytes int64 // cost of the private frames not yet taken
	closed       bool  // no more frames are taken: the session is ending
	draining     bool  // the writer half-closes the connection once it has sent all
	killed       bool  // the connection is closed: the writer stops

	wake       chan struct{} // capacity 1: tells the writer to look for frames
	writerDone chan struct{} // closed when the writer has returned
	killOnce   sync.Once
}

func newSession(srv *Server, conn ports.Conn) *session {
	s := &session{
		srv:        srv,
		conn:       conn,
		in:         conn.Reader(),
		out:        conn.Writer(),
		addr:       peerAddr(conn.RemoteAddr()),
		stopSeq:    -1,
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}
	s.log.Store(srv.log.With("peer", conn.RemoteAddr()))
	s.pace = newPacer(srv.cfg)
	return s
}

// logger is the session's logger, safe from any goroutine.
func (s *session) logger() *slog.Logger { return s.log.Load() }

// enqueue queues a frame for this session alone, without ever blocking.
// A receiver that would pass its bound is cut off instead. Only records
// without attachments are private (reader.go sends status replies and
// error notices this way).
func (s *session) enqueue(f outFrame) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	var head logPos
	if s.reading {
		head = s.srv.feed.headPos()
	}
	cost := entryOverhead + int64(len(f.record))
	if s.behindLocked(head)+cost > s.srv.cfg.MaxQueue {
		s.mu.Unlock()
		s.cutOff(cutSlowConsumer)
		return
	}
	s.private = append(s.private, privateFrame{seq: head.seq, record: f.record})
	s.privateBytes += cost
	s.mu.Unlock()
	s.signal()
}

// behindLocked is what the session holds against --max-queue: the log
// bytes from where it is to head, but for its own messages, and its
// private frames. s.mu must be held.
func (s *session) behindLocked(head logPos) int64 {
	n := s.privateBytes
	if s.reading {
		n += head.mem - s.held.mem - s.ownBehind.mem
	}
	return n
}

// startReading points a joining session's cursor at the log's head.
// Server.mu must be held.
func (s *session) startReading(at logCursor) {
	s.mu.Lock()
	s.reading = true
	s.start = at
	s.held = at.pos
	s.mu.Unlock()
}

// sent tells the sender of an entry that it was appended: until its
// writer steps over it, it does not count against the sender's bounds, but
// the log keeps it (and everything after it) for the sender's cursor. Its
// writer steps over its own messages whenever it wakes; it is woken for
// them alone only once they pass ownWakeBytes, which spares a wake-up per
// message. It returns what heldFrom does. Server.mu must be held.
func (s *session) sent(cost logPos) (held int64, live bool) {
	s.mu.Lock()
	if s.reading {
		s.ownBehind.mem += cost.mem
		s.ownBehind.disk += cost.disk
	}
	wake := s.ownBehind.mem > ownWakeBytes
	held, live = s.held.mem, !s.closed && s.reading
	s.mu.Unlock()
	if wake {
		s.signal()
	}
	return held, live
}

// ownWakeBytes is how much of a sender's own messages may wait in the log
// for its cursor before its writer is woken to step over them.
const ownWakeBytes = 64 << 10

// offered tells a receiver the log has grown to head and says whether that
// takes it past one of its bounds; live is false when the session takes
// nothing more. held is where its hold on the log begins. Server.mu must
// be held.
func (s *session) offered(head logPos) (held int64, over cutReason, live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.reading {
		return 0, 0, false
	}
	switch cfg := &s.srv.cfg; {
	case s.behindLocked(head) > cfg.MaxQueue:
		return s.held.mem, cutSlowConsumer, true
	case head.disk-s.held.disk-s.ownBehind.disk > cfg.MaxBacklog:
		return s.held.mem, cutBacklog, true
	}
	return s.held.mem, 0, true
}

// heldFrom is where the session's hold on the log begins, and whether it
// still takes frames. Server.mu must be held.
func (s *session) heldFrom() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held.mem, !s.closed && s.reading
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// finish stops taking frames and has the writer half-close the connection
// once it has sent what was broadcast and queued so far.
func (s *session) finish() {
	s.mu.Lock()
	s.closed = true
	s.draining = true
	if s.reading && s.stopSeq < 0 {
		s.stopSeq = s.srv.feed.headPos().seq
	}
	s.mu.Unlock()
	s.pace.stop()
	s.signal()
}

// cutOff ends the session for reason, counting it.
func (s *session) cutOff(reason cutReason) {
	if s.kill(reason.String()) {
		s.srv.count(reason)
	}
}

// kill ends the session now: the connection closes, so the reader and the
// writer both fail and return. It reports whether this call did it.
func (s *session) kill(reason string) (killed bool) {
	s.killOnce.Do(func() {
		killed = true
		s.mu.Lock()
		s.closed = true
		s.killed = true
		s.mu.Unlock()
		s.logger().Info("closing connection", "reason", reason)
		s.pace.stop()
		s.conn.Close()
		s.signal()
	})
	return killed
}

// maxKeptPrivate bounds the private queue a session keeps between
// batches: an idle connection should not hold one sized for the last
// storm of refusals.
const maxKeptPrivate = 16

// One batch takes at most maxBatchFrames frames and about maxBatchBytes:
// a receiver far behind is sent its backlog in pieces, so that its writer
// never holds more than a piece of it beside the shared log.
const (
	maxBatchFrames = 256
	maxBatchBytes  = 64 << 10
)

// writeLoop is the connection's only writer. It takes a batch at a time
// and writes runs of in-memory frames in one call, so a busy receiver
// gets many frames per system call.
func (s *session) writeLoop() {
	defer close(s.writerDone)
	defer s.recoverPanic("writer")
	for range s.wake {
		if !s.flush() {
			return
		}
	}
}

// writeScratch is what one flush fills and empties: the batch taken and
// the bodies handed to WriteFrames. A writer holds one only while it
// flushes, so that ten thousand idle connections hold none, however large
// the last burst was; busy ones reuse them through the pool. (The
// framing writer keeps its own scratch the same way.)
type writeScratch struct {
	batch  []outFrame
	bodies [][]byte
}

var writeScratches = sync.Pool{New: func() any { return new(writeScratch) }}

// flush writes until nothing is left to send. It returns false when the
// writer is done: the session was killed, a write failed, or it has
// drained.
func (s *session) flush() bool {
	scratch := writeScratches.Get().(*writeScratch)
	defer writeScratches.Put(scratch)
	for {
		t := s.take(scratch.batch[:0])
		scratch.batch = t.frames
		if t.killed {
			return false
		}
		if len(t.frames) == 0 && !t.more {
			if t.draining {
				s.halfClose()
				return false
			}
			return true
		}
		err := s.writeBatch(t.frames, &scratch.bodies)
		if err == nil {
			s.delivered(&t)
		}
		s.written(&t)
		s.release(t.frames)
		if err != nil {
			s.writeFailed(err)
			return false
		}
	}
}

// halfClose ends the writing side once the last words are out. A plain
// close with input unread would reset the connection and could lose what
// was just written; the half-close starts a linger instead, which bounds
// whatever the reader goroutine still reads. The linger is the writer's
// alone: the reader never sets or lifts it, so a reader that clears its
// login deadline just after a shutdown began cannot undo it.
func (s *session) halfClose() {
	if err := s.out.CloseWrite(lingerTimeout); err != nil {
		s.logger().Debug("half-close failed", "err", err)
	}
	s.lingering = true
}

// taken is one batch as take hands it to the writer.
type taken struct {
	frames      []outFrame
	own         logPos        // the session's own entries stepped over
	privateCost int64         // cost of the private frames among frames
	messages    int           // relayed messages among frames (not notices)
	payloadOut  int64         // attachment bytes among frames
	oldest      time.Duration // when the first log frame among frames was logged; 0 if none
	more        bool          // there is more to take
	draining    bool
	killed      bool
}

// take moves the cursor over the next batch, private frames in their
// places, and returns its frames appended to batch. It reads the head and
// takes the private frames under s.mu, so a private frame queued after it
// sits at or after that head; it walks the log without the lock, so that
// a broadcast never waits for it.
func (s *session) take(batch []outFrame) taken {
	s.mu.Lock()
	t := taken{frames: batch, draining: s.draining, killed: s.killed}
	if s.killed {
		s.mu.Unlock()
		return t
	}
	if s.reading && s.cursor.chunk == nil {
		// Adopt the join's cursor and drop the copy: a cursor left
		// behind would keep every chunk from it on alive.
		s.cursor, s.start = s.start, logCursor{}
	}
	reading := s.cursor.chunk != nil
	var head int64
	if reading {
		head = s.srv.feed.headSeq.Load()
		if s.stopSeq >= 0 {
			head = min(head, s.stopSeq)
		}
	}
	s.pending = append(s.pending, s.private...)
	clear(s.private)
	s.private = s.private[:0]
	if cap(s.private) > maxKeptPrivate {
		s.private = nil // sized for a storm of notices that has passed
	}
	s.mu.Unlock()

	p, bytes := 0, int64(0)
	for steps := 0; steps < maxBatchFrames && bytes < maxBatchBytes; steps++ {
		if p < len(s.pending) && (!reading || s.pending[p].seq <= s.cursor.pos.seq) {
			t.frames = append(t.frames, outFrame{record: s.pending[p].record})
			cost := entryOverhead + int64(len(s.pending[p].record))
			t.privateCost += cost
			bytes += cost
			p++
			continue
		}
		if !reading || s.cursor.pos.seq >= head {
			break
		}
		e := s.cursor.entry()
		switch {
		case e.from == s:
			t.own.mem += e.endMem - s.cursor.pos.mem
			t.own.disk += e.endDisk - s.cursor.pos.disk
		case e.order != 0 && e.order <= s.order:
			// The join of a remote user who claimed its nickname before
			// this member did: it was in the room when this one came.
		default:
			t.frames = append(t.frames, outFrame{record: e.record, payload: e.payload})
			bytes += e.endMem - s.cursor.pos.mem
			t.count(e)
		}
		s.cursor.advance(e)
	}
	clear(s.pending[:p])
	s.pending = s.pending[p:]
	if len(s.pending) == 0 {
		s.pending = s.pending[:0:0]
	}
	t.more = len(s.pending) > 0 || (reading && s.cursor.pos.seq < head)
	return t
}

// count notes what a log entry taken into the batch is, for the metrics.
func (t *taken) count(e *logEntry) {
	if t.oldest == 0 {
		t.oldest = e.at
	}
	if e.from == nil {
		return // a notice
	}
	t.messages++
	if e.payload != nil {
		t.payloadOut += e.payload.Size()
	}
}

// delivered counts a batch written whole: one latency sample a batch, its
// oldest log frame's, since a sample per frame would cost more than the
// write of a small one.
func (s *session) delivered(t *taken) {
	m := s.srv.metrics
	if t.messages > 0 {
		m.Add(ports.MessagesDelivered, t.messages)
	}
	if t.payloadOut > 0 {
		m.Add(ports.AttachmentBytesOut, int(t.payloadOut))
	}
	if t.oldest != 0 {
		m.ObserveDelivery(time.Since(epoch) - t.oldest)
	}
}

// written lets go of the batch just written: the session's hold on the log
// moves up to its cursor.
func (s *session) written(t *taken) {
	s.mu.Lock()
	if s.cursor.chunk != nil {
		s.held = s.cursor.pos
	}
	s.ownBehind.mem -= t.own.mem
	s.ownBehind.disk -= t.own.disk
	s.privateBytes -= t.privateCost
	s.mu.Unlock()
}

// writeFailed ends the writing side. A receiver that stalled is cut off at
// once. A peer that is gone (a reset, a broken pipe) may still have whole
// messages waiting in the receive buffer: the reader relays them and ends
// the session when it reaches the error itself.
func (s *session) writeFailed(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.cutOff(cutWriteTimeout)
	} else {
		s.logger().Info("write failed; reading what the peer sent before", "err", err)
	}
	s.discardQueue()
}

// writeBatch writes batch in order: in-memory frames gathered into one
// WriteFrames call, on-disk payloads streamed between them.
// scratch is the bodies' slice, kept for the next batch.
func (s *session) writeBatch(batch []outFrame, scratch *[][]byte) error {
	bodies, run := (*scratch)[:0], 0 // bodies[run:] is not written yet
	defer func() {
		// Let the records and payloads go, however the batch ended: the
		// scratch goes back to a pool.
		clear(bodies)
		*scratch = bodies[:0]
	}()
	for _, f := range batch {
		bodies = append(bodies, f.record)
		if f.payload == nil {
			continue
		}
		if b := f.payload.Bytes(); b != nil {
			bodies = append(bodies, b)
			continue
		}
		if err := s.out.WriteFrames(bodies[run:]); err != nil {
			return err
		}
		run = len(bodies)
		if err := s.sendFile(f.payload); err != nil {
			return err
		}
	}
	return s.out.WriteFrames(bodies[run:])
}

func (s *session) sendFile(a ports.Attachment) error {
	r, err := a.Open()
	if err != nil {
		return fmt.Errorf("server: open spooled attachment: %w", err)
	}
	defer r.Close()
	return s.out.WritePayload(a.Size(), r)
}

// release drops the references the batch's log entries held for this
// receiver to their attachments.
func (s *session) release(batch []outFrame) {
	for i := range batch {
		if batch[i].payload != nil {
			batch[i].payload.Release()
		}
		batch[i] = outFrame{}
	}
}

// discardQueue drops the private frames of a session whose writer has
// stopped.
func (s *session) discardQueue() {
	s.mu.Lock()
	s.private, s.pending = nil, nil
	s.privateBytes = 0
	s.closed = true
	s.mu.Unlock()
}

// stopReading drops what the session had not taken of the log up to stop,
// where it left the members: each attachment there held a reference for
// it. Its writer must have returned.
func (s *session) stopReading(stop int64) {
	s.mu.Lock()
	c := s.cursor
	if c.chunk == nil {
		c = s.start
	}
	s.cursor, s.start, s.reading = logCursor{}, logCursor{}, false
	s.mu.Unlock()
	if c.chunk == nil {
		return
	}
	for c.pos.seq < stop {
		e := c.entry()
		if e.payload != nil && e.from != s {
			e.payload.Release()
		}
		c.advance(e)
	}
}

// run is the reader goroutine: login, then chat until the connection ends,
// then cleanup. It owns the session's lifetime.
func (s *session) run() {
	go s.writeLoop()
	s.logger().Debug("connected")
	joined, err := false, errInternal
	defer func() {
		// A bug in one connection's reading costs that connection, not
		// the server (as net/http does): log it, then end the session as
		// any other, so that its name is freed and the others told.
		if r := recover(); r != nil {
			s.panicked("reader", r)
		}
		s.end(joined, err)
	}()
	joined, err = s.login()
	if joined {
		s.log.Store(s.logger().With("nick", s.nick.String()))
		s.logger().Info("logged in")
		err = s.chat()
	}
}

// errInternal ends a session whose goroutine panicked.
var errInternal = errors.New("server: internal error")

// recoverPanic, deferred in a connection's goroutine, recovers a panic.
func (s *session) recoverPanic(goroutine string) {
	if r := recover(); r != nil {
		s.panicked(goroutine, r)
	}
}

// panicked logs a recovered panic with its stack and closes the
// connection.
func (s *session) panicked(goroutine string, r any) {
	s.logger().Error("panic in a connection's goroutine; closing the connection",
		"goroutine", goroutine, "panic", r, "stack", string(debug.Stack()))
	s.kill("internal error")
}

// end closes the session after its reader has stopped.
func (s *session) end(joined bool, err error) {
	var finished *finishError
	if errors.As(err, &finished) {
		s.logger().Info("ending session", "reason", finished.reason)
		s.finish()
		<-s.writerDone
		if s.lingering {
			s.drainInput()
		}
	}
	if errors.Is(err, ports.ErrStalled) {
		s.srv.metrics.Event(ports.CutOff, ports.ReasonReadTimeout)
	}
	s.kill(describeEnd(err))
	<-s.writerDone
	s.discardQueue()
	if joined {
		s.srv.leave(s)
		s.logger().Info("logged out", "reason", describeEnd(err))
	}
	s.srv.forget(s)
}

// lingerTimeout bounds how long a session the server ends keeps reading
// after its last words, so that the peer gets them before the close.
const lingerTimeout = time.Second

// drainInput reads and drops what the peer still sends, until it closes
// or the linger the writer started when it half-closed passes: closing
// with unread input would reset the connection, and a reset can destroy
// the explanation just sent before the peer reads it. Every frame read is
// dropped unread, which the next read skips. The reader's own deadline is
// lifted first (the login timeout that ended the session has passed); the
// linger is not the reader's, and stays.
func (s *session) drainInput() {
	if s.in.SetReadDeadline(time.Time{}) != nil {
		return
	}
	for {
		if _, _, err := s.in.ReadPayload(); err != nil {
			return
		}
	}
}

// finishError ends a session after what is queued (an explanation to the
// peer) has been flushed.
type finishError struct{ reason string }

func (e *finishError) Error() string { return e.reason }

func describeEnd(err error) string {
	switch {
	case err == nil:
		return "closed by peer"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.Is(err, ports.ErrStalled):
		return "read timeout: " + ports.ErrStalled.Error()
	default:
		return err.Error()
	}
}
