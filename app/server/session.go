package server

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// outFrame is one entry of a receiver's queue: an encoded record, shared
// read-only by every receiver of it, and the attachment behind it if any.
// Keeping the two in one entry keeps them adjacent on the wire.
type outFrame struct {
	record  []byte
	payload ports.Attachment
}

// cost is what the frame counts against the receiver's queue bound:
// attachments held on disk do not count (PROTOCOL.md section 5).
func (f outFrame) cost() int64 {
	n := int64(len(f.record))
	if f.payload != nil {
		n += int64(len(f.payload.Bytes()))
	}
	return n
}

// session is one connection, from accept to close.
type session struct {
	srv  *Server
	conn ports.Conn
	log  atomic.Pointer[slog.Logger] // gains the nickname at login

	// Owned by the reader goroutine; nick and memberIndex are also read
	// by the server under srv.mu once the session has joined.
	nick        domain.Nickname
	joined      bool   // login succeeded; only the reader goroutine touches it
	memberIndex int    // position in srv.members; guarded by srv.mu
	joinSeq     uint64 // login order, for "who"; guarded by srv.mu
	readBuf     []byte
	scratch     domain.Record
	pace        pacer // the rate limit; its stop may be called from any goroutine

	bodies [][]byte // owned by the writer goroutine: reused for each batch

	// mu guards the outbound queue and the flags below it.
	mu       sync.Mutex
	queue    []outFrame
	queued   int64 // cost of the frames queued or being written
	closed   bool  // no more frames are taken: the session is ending
	draining bool  // the writer half-closes the connection once the queue is empty
	killed   bool  // the connection is closed: the writer drops the queue

	wake       chan struct{} // capacity 1: tells the writer to look at the queue
	writerDone chan struct{} // closed when the writer has returned
	killOnce   sync.Once
}

func newSession(srv *Server, conn ports.Conn) *session {
	s := &session{
		srv:        srv,
		conn:       conn,
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}
	s.log.Store(srv.log.With("peer", conn.RemoteAddr()))
	s.pace = newPacer(srv.cfg)
	return s
}

// logger is the session's logger, safe from any goroutine.
func (s *session) logger() *slog.Logger { return s.log.Load() }

// enqueue appends f to the queue without ever blocking. A receiver whose
// queue would pass the bound is cut off instead. The queue takes its own
// reference to f's attachment.
func (s *session) enqueue(f outFrame) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	cost := f.cost()
	if s.queued+cost > s.srv.cfg.MaxQueue {
		s.mu.Unlock()
		s.kill(fmt.Sprintf("slow consumer: over %d bytes queued", s.srv.cfg.MaxQueue))
		return
	}
	if f.payload != nil {
		f.payload.Retain()
	}
	s.queue = append(s.queue, f)
	s.queued += cost
	s.mu.Unlock()
	s.signal()
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// finish stops taking frames and has the writer half-close the connection
// once it has flushed what is queued.
func (s *session) finish() {
	s.mu.Lock()
	s.closed = true
	s.draining = true
	s.mu.Unlock()
	s.pace.stop()
	s.signal()
}

// kill ends the session now: the connection closes, so the reader and the
// writer both fail and return.
func (s *session) kill(reason string) {
	s.killOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.killed = true
		s.mu.Unlock()
		s.logger().Info("closing connection", "reason", reason)
		s.pace.stop()
		s.conn.Close()
		s.signal()
	})
}

// A writer that has had nothing to write for calmAfter lets go of buffers
// bigger than maxKeptBatch frames: ten thousand idle connections should
// not each hold a queue sized for the last storm of notices, and a busy
// one should not reallocate its queue for every burst.
const (
	calmAfter    = time.Second
	maxKeptBatch = 16
)

// writeLoop is the connection's only writer. It takes the whole queue at
// once and writes runs of in-memory frames in one call, so a busy
// receiver gets many frames per system call.
func (s *session) writeLoop() {
	defer close(s.writerDone)
	var batch []outFrame
	calm := time.NewTimer(calmAfter)
	calm.Stop()
	defer calm.Stop()
	for {
		select {
		case <-s.wake:
		case <-calm.C:
			s.trim(&batch)
			continue
		}
		if !s.flush(&batch) {
			return
		}
		if s.holdsBurstBuffers(batch) {
			calm.Reset(calmAfter)
		}
	}
}

// holdsBurstBuffers reports whether the writer holds buffers that trim
// would drop; only then is the calm timer worth arming.
func (s *session) holdsBurstBuffers(batch []outFrame) bool {
	return cap(batch) > maxKeptBatch || cap(s.bodies) > 2*maxKeptBatch
}

// flush writes until the queue is empty. It returns false when the writer
// is done: the session was killed, a write failed, or it has drained.
func (s *session) flush(batch *[]outFrame) bool {
	for {
		s.mu.Lock()
		*batch, s.queue = s.queue, (*batch)[:0]
		draining, killed := s.draining, s.killed
		s.mu.Unlock()
		if killed {
			s.release(*batch)
			s.discardQueue()
			return false
		}
		if len(*batch) == 0 {
			if draining {
				// Half-close: a plain close with input unread would reset
				// the connection and could lose what was just written. The
				// reader then waits a moment for the peer to close.
				s.conn.CloseWrite()
				s.conn.SetReadDeadline(time.Now().Add(lingerTimeout))
				return false
			}
			return true
		}
		err := s.writeBatch(*batch)
		s.release(*batch)
		if err != nil {
			s.writeFailed(err)
			return false
		}
	}
}

// writeFailed ends the writing side. A receiver that stalled is cut off at
// once. A peer that is gone (a reset, a broken pipe) may still have whole
// messages waiting in the receive buffer: the reader relays them and ends
// the session when it reaches the error itself.
func (s *session) writeFailed(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.kill("slow consumer: no write progress within the write timeout")
	} else {
		s.logger().Info("write failed; reading what the peer sent before", "err", err)
	}
	s.discardQueue()
}

// trim drops the writer's burst-sized buffers while the queue is empty.
func (s *session) trim(batch *[]outFrame) {
	if cap(*batch) > maxKeptBatch {
		*batch = nil
	}
	if cap(s.bodies) > 2*maxKeptBatch {
		s.bodies = nil
	}
	s.mu.Lock()
	if len(s.queue) == 0 && cap(s.queue) > maxKeptBatch {
		s.queue = nil
	}
	s.mu.Unlock()
}

// writeBatch writes batch in order: in-memory frames gathered into one
// WriteFrames call, on-disk payloads streamed between them.
func (s *session) writeBatch(batch []outFrame) error {
	bodies := s.bodies[:0]
	var cost int64
	for _, f := range batch {
		cost += f.cost()
		bodies = append(bodies, f.record)
		if f.payload == nil {
			continue
		}
		if b := f.payload.Bytes(); b != nil {
			bodies = append(bodies, b)
			continue
		}
		if err := s.conn.WriteFrames(bodies); err != nil {
			return err
		}
		bodies = bodies[:0]
		if err := s.sendFile(f.payload); err != nil {
			return err
		}
	}
	err := s.conn.WriteFrames(bodies)
	clear(bodies)
	s.bodies = bodies[:0]
	s.mu.Lock()
	s.queued -= cost
	s.mu.Unlock()
	return err
}

func (s *session) sendFile(a ports.Attachment) error {
	r, err := a.Open()
	if err != nil {
		return fmt.Errorf("server: open spooled attachment: %w", err)
	}
	defer r.Close()
	return s.conn.WritePayload(a.Size(), r)
}

// release drops the queue's references to the batch's attachments.
func (s *session) release(batch []outFrame) {
	for i := range batch {
		if batch[i].payload != nil {
			batch[i].payload.Release()
		}
		batch[i] = outFrame{}
	}
}

// discardQueue empties the queue of a session whose writer has stopped.
func (s *session) discardQueue() {
	s.mu.Lock()
	rest := s.queue
	s.queue = nil
	s.closed = true
	s.mu.Unlock()
	s.release(rest)
}

// run is the reader goroutine: login, then chat until the connection ends,
// then cleanup. It owns the session's lifetime.
func (s *session) run() {
	go s.writeLoop()
	s.logger().Debug("connected")
	joined, err := s.login()
	if joined {
		s.log.Store(s.logger().With("nick", s.nick.String()))
		s.logger().Info("logged in")
		err = s.chat()
	}
	s.end(joined, err)
}

// end closes the session after its reader has stopped.
func (s *session) end(joined bool, err error) {
	var finished *finishError
	if errors.As(err, &finished) {
		s.logger().Info("ending session", "reason", finished.reason)
		s.finish()
		<-s.writerDone
		s.drainInput()
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
// or lingerTimeout passes: closing with unread input would reset the
// connection, and a reset can destroy the explanation just sent before
// the peer reads it.
func (s *session) drainInput() {
	if s.conn.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		return
	}
	for {
		if _, _, err := s.conn.ReadPayload(); err != nil {
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
