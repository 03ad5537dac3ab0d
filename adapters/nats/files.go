package nats

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"time"

	gonats "github.com/nats-io/nats.go"

	"pcx/internal/fileoffers"
	"pcx/ports"
)

// Defaults of FileOptions, measured with BenchmarkFetch
// (files_bench_test.go): two nodes through one nats-server on loopback, the
// file from one spool into the other. The CPU a GiB costs hardly depends on
// the chunk (a third of it is the receiving spool's writes), but the
// largest chunks went fastest; a window of 4 was as fast as larger ones.
const (
	// DefaultFileChunk is cut to what a message carries: on a default
	// nats-server, 1 MB less the reply's header.
	DefaultFileChunk        = 1 << 20
	DefaultFileWindow       = 4
	DefaultFileServers      = 4
	DefaultFileChunkTimeout = 2 * time.Second
	DefaultFileRetries      = 2
)

// FileOptions tune a node's file share.
type FileOptions struct {
	// Chunk is the bytes a fetch asks for at a time (default
	// DefaultFileChunk); it is cut to what one NATS message can carry.
	Chunk int
	// Window is the chunks a fetch has asked for and not yet written
	// (default DefaultFileWindow): a fetch holds at most Window × Chunk
	// bytes in memory.
	Window int
	// Servers is the chunks this node reads and sends at once for the
	// others (default DefaultFileServers); each holds a buffer of the
	// largest chunk a NATS message carries.
	Servers int
	// ChunkTimeout is how long a fetch waits for a chunk before asking
	// again, Retries how often it asks again before it gives up on the
	// origin (defaults DefaultFileChunkTimeout, DefaultFileRetries). When
	// NATS says that no one serves the origin (it died, or its link is
	// coming back), the fetch asks again every 100 ms, and gives up once
	// nothing came for ChunkTimeout: a dead origin fails a fetch within
	// about ChunkTimeout.
	ChunkTimeout time.Duration
	Retries      int
}

func (o FileOptions) withDefaults(maxPayload int64) FileOptions {
	if o.Chunk <= 0 {
		o.Chunk = DefaultFileChunk
	}
	if limit := maxPayload - replyHeaderLen; int64(o.Chunk) > limit {
		o.Chunk = int(limit)
	}
	if o.Window <= 0 {
		o.Window = DefaultFileWindow
	}
	if o.Servers <= 0 {
		o.Servers = DefaultFileServers
	}
	if o.ChunkTimeout <= 0 {
		o.ChunkTimeout = DefaultFileChunkTimeout
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = DefaultFileRetries
	}
	return o
}

// Files is a node's ports.FileShare over core NATS request/reply. The
// origin serves each offered payload in chunks: a request on
// pcx.<room>.files.<node> (the node's name in base32hex) names the file,
// its size, an offset and a length, and the reply is that chunk with its
// CRC-32C, read from the spool file at that offset. A fetch keeps a
// window of such requests in flight on an inbox of its own and writes the
// chunks in order as they come, so neither side ever holds a file whole,
// and no message passes the 1 MB that core NATS carries by default.
//
// Goroutines: Servers goroutines serve the requests, which NATS puts in a
// bounded channel (when it is full NATS drops the request as a slow
// consumer, and the fetcher asks again); a fetch runs in its caller's
// goroutine. Serving uses its own subscription, so that a busy origin never
// holds up the node's bus; it shares the connection, whose writes NATS
// serialises.
type Files struct {
	c       *Conn
	prefix  string // "pcx.<room>.files.": a node's subject is this and its encoded name
	opts    FileOptions
	offers  *fileoffers.Table
	crc     *crc32.Table
	serveSz int // the largest chunk served: what one NATS message carries

	requests chan *gonats.Msg // what sub receives, read by the serving goroutines
	sub      *gonats.Subscription
	stop     chan struct{}  // closed by Close: serving and fetches end
	serving  sync.WaitGroup // the serving goroutines

	mu       sync.Mutex // guards closed and the Add of fetching
	closed   bool
	fetching sync.WaitGroup // the fetches under way
}

var _ ports.FileShare = (*Files)(nil)

// A request is one NATS message to the origin's subject:
//
//	version 1 byte   fileWireVersion
//	op      1 byte   opChunk or opEnded
//	size    8 bytes  the file's size as the fetcher knows it
//	offset  8 bytes  of the chunk
//	length  4 bytes  of the chunk
//	id      the rest
//
// opEnded tells the origin that one fetch of the file ended (it counts
// the expected readers of an offer); it has no reply. The reply to
// opChunk, on the request's reply subject:
//
//	status  1 byte   statusOK, statusUnknown, statusBad, statusFailed
//	offset  8 bytes  the request's
//	crc     4 bytes  CRC-32C (Castagnoli) of the data
//	data    the rest: the chunk (statusOK only)
const (
	fileWireVersion = 1
	opChunk         = 1
	opEnded         = 2
	requestHeader   = 22
	replyHeaderLen  = 13

	statusOK      = 0
	statusUnknown = 1 // no such file of that size offered
	statusBad     = 2 // a malformed request
	statusFailed  = 3 // the origin could not read its file
	statusGone    = 4 // the origin is closing
)

// requestQueue is the requests waiting for a serving goroutine; they are
// a few dozen bytes each, and fetchers keep only a window in flight.
const requestQueue = 1024

// NewFiles starts node c's file share in room: it serves this node's
// offers at once.
func NewFiles(c *Conn, room string, opts FileOptions) (*Files, error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	maxPayload := c.nc.MaxPayload()
	if maxPayload <= replyHeaderLen+1024 {
		return nil, fmt.Errorf("nats: files: the server's max payload %d is too small for chunks", maxPayload)
	}
	f := &Files{
		c:        c,
		prefix:   "pcx." + room + ".files.",
		opts:     opts.withDefaults(maxPayload),
		offers:   fileoffers.New(),
		crc:      crc32.MakeTable(crc32.Castagnoli),
		serveSz:  int(maxPayload - replyHeaderLen),
		requests: make(chan *gonats.Msg, requestQueue),
		stop:     make(chan struct{}),
	}
	sub, err := c.nc.ChanSubscribe(f.subject(c.node), f.requests)
	if err != nil {
		return nil, fmt.Errorf("nats: files: subscribe: %w", err)
	}
	f.sub = sub
	// Once NewFiles returns, the server has the subscription: a fetch
	// that comes at once is served (a link down now re-subscribes when it
	// is back).
	_ = c.nc.FlushTimeout(5 * time.Second)
	for range f.opts.Servers {
		f.serving.Go(f.serve)
	}
	return f, nil
}

// Chunk returns the chunk size a fetch asks for (after the server's limit).
func (f *Files) Chunk() int { return f.opts.Chunk }

// Window returns the chunks a fetch keeps in flight.
func (f *Files) Window() int { return f.opts.Window }

func (f *Files) subject(node string) string {
	return f.prefix + keyEncoding.EncodeToString([]byte(node))
}

// Offer implements ports.FileShare.
func (f *Files) Offer(id string, a ports.Attachment, terms ports.FileOffer) error {
	if err := f.offers.Add(id, a, terms); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	return nil
}

// Withdraw implements ports.FileShare.
func (f *Files) Withdraw(id string) { f.offers.Withdraw(id) }

// Close implements ports.FileShare.
func (f *Files) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.mu.Unlock()
	// Once the server has the unsubscription, requests get its "no
	// responders" at once; those already queued are answered "gone".
	err := f.sub.Unsubscribe()
	if errors.Is(err, gonats.ErrConnectionClosed) {
		err = nil
	} else if err == nil {
		_ = f.c.nc.FlushTimeout(time.Second) // no answer: the fetchers time out instead
	}
	close(f.stop)
	f.serving.Wait()
	f.offers.Close()
	f.fetching.Wait()
	if err != nil {
		return fmt.Errorf("nats: files: unsubscribe: %w", err)
	}
	return nil
}

// serve answers requests until Close, with a buffer of its own; at Close
// it tells those still queued that this node is going.
func (f *Files) serve() {
	var buf []byte // allocated on the first request
	for {
		select {
		case <-f.stop:
			for {
				select {
				case m := <-f.requests:
					f.refuse(m, statusGone)
				default:
					return
				}
			}
		case m := <-f.requests:
			if buf == nil {
				buf = make([]byte, replyHeaderLen+f.serveSz)
			}
			f.answer(m, buf)
		}
	}
}

// request is a decoded request.
type request struct {
	op     byte
	size   int64
	offset int64
	length int
	id     string
}

func decodeRequest(b []byte) (request, bool) {
	if len(b) < requestHeader || b[0] != fileWireVersion {
		return request{}, false
	}
	r := request{
		op:     b[1],
		size:   int64(binary.BigEndian.Uint64(b[2:])),
		offset: int64(binary.BigEndian.Uint64(b[10:])),
		length: int(binary.BigEndian.Uint32(b[18:])),
		id:     string(b[requestHeader:]),
	}
	ok := (r.op == opChunk || r.op == opEnded) && r.size >= 0 && r.offset >= 0 &&
		r.id != "" && len(r.id) <= fileoffers.MaxIDLen
	return r, ok
}

func appendRequest(b []byte, r request) []byte {
	b = append(b, fileWireVersion, r.op)
	b = binary.BigEndian.AppendUint64(b, uint64(r.size))
	b = binary.BigEndian.AppendUint64(b, uint64(r.offset))
	b = binary.BigEndian.AppendUint32(b, uint32(r.length))
	return append(b, r.id...)
}

// answer serves one request into buf, whose room after the header is the
// largest chunk served.
func (f *Files) answer(m *gonats.Msg, buf []byte) {
	r, ok := decodeRequest(m.Data)
	if ok && r.op == opEnded {
		f.offers.FetchEnded(r.id)
		return
	}
	if m.Reply == "" {
		return // no one to answer
	}
	status, n := byte(statusBad), 0
	if ok && r.length <= f.serveSz && r.offset <= r.size && int64(r.length) <= r.size-r.offset {
		var err error
		n, err = f.offers.ReadAt(r.id, r.size, buf[replyHeaderLen:replyHeaderLen+r.length], r.offset)
		switch {
		case errors.Is(err, ports.ErrFileUnknown):
			status = statusUnknown
		case err != nil:
			f.c.log.Warn("nats: files: reading an offered file", "err", err)
			status = statusFailed
		default:
			status = statusOK
		}
	}
	if status != statusOK {
		f.refuse(m, status)
		return
	}
	data := buf[replyHeaderLen : replyHeaderLen+n]
	buf[0] = status
	binary.BigEndian.PutUint64(buf[1:], uint64(r.offset))
	binary.BigEndian.PutUint32(buf[9:], crc32.Checksum(data, f.crc))
	// A failed publish (the link is down) leaves the fetcher to ask
	// again or give up: nothing to do here.
	_ = f.c.nc.Publish(m.Reply, buf[:replyHeaderLen+n])
}

// refuse answers m with status and no data.
func (f *Files) refuse(m *gonats.Msg, status byte) {
	if m.Reply == "" {
		return
	}
	var b [replyHeaderLen]byte
	b[0] = status
	if r, ok := decodeRequest(m.Data); ok {
		binary.BigEndian.PutUint64(b[1:], uint64(r.offset))
	}
	binary.BigEndian.PutUint32(b[9:], crc32.Checksum(nil, f.crc))
	_ = f.c.nc.Publish(m.Reply, b[:])
}

// Fetch implements ports.FileShare.
func (f *Files) Fetch(ctx context.Context, node, id string, size int64, w io.Writer) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return fmt.Errorf("nats: fetch %q of %s: %w", id, node, ports.ErrFileShareClosed)
	}
	f.fetching.Add(1)
	f.mu.Unlock()
	defer f.fetching.Done()
	if size < 0 || id == "" || len(id) > fileoffers.MaxIDLen {
		return fmt.Errorf("nats: fetch %q of %s: bad id or size %d", id, node, size)
	}
	fe := &fetch{f: f, subject: f.subject(node), id: id, size: size, w: w}
	err := fe.run(ctx)
	// The origin counts the fetches that ended, whole or not.
	_ = f.c.nc.Publish(fe.subject, appendRequest(nil, request{op: opEnded, id: id}))
	if err != nil {
		return fmt.Errorf("nats: fetch %q of %s: %w", id, node, err)
	}
	return nil
}

// fetch is one Fetch under way; its goroutine alone uses it.
type fetch struct {
	f       *Files
	subject string
	id      string
	size    int64
	w       io.Writer

	inbox   string
	replies chan *gonats.Msg
	chunks  int64  // how many: at least one, so that an empty file is asked for too
	slots   []slot // chunk k in slots[k % window]
	next    int64  // the next chunk to ask for
	want    int64  // the next chunk to write
	req     []byte // scratch for requests
}

// slot is a chunk asked for and not yet written.
type slot struct {
	sent  time.Time // when it was last asked for
	tries int
	data  []byte // the chunk, once it came; nil before
}

func (fe *fetch) run(ctx context.Context) error {
	o := fe.f.opts
	fe.chunks = max(1, (fe.size+int64(o.Chunk)-1)/int64(o.Chunk))
	fe.slots = make([]slot, o.Window)
	fe.inbox = fe.f.c.nc.NewInbox()
	// Room for every reply that may be under way: a window, and as many
	// late answers to requests asked again. More is dropped by NATS (and
	// asked for again).
	fe.replies = make(chan *gonats.Msg, 2*o.Window+2)
	sub, err := fe.f.c.nc.ChanSubscribe(fe.inbox, fe.replies)
	if err != nil {
		return fmt.Errorf("subscribe to the replies: %w", err)
	}
	defer sub.Unsubscribe()

	timer := time.NewTimer(o.ChunkTimeout)
	defer timer.Stop()
	waitFrom := time.Now() // when the loop last started to wait for want
	heard := waitFrom      // when the last chunk came
	for fe.want < fe.chunks {
		// Checked at each step, as chunks already come may be written
		// without waiting below.
		if err := context.Cause(ctx); err != nil {
			return err
		}
		for fe.next < fe.chunks && fe.next < fe.want+int64(o.Window) {
			if err := fe.ask(fe.next); err != nil {
				return err
			}
			fe.next++
		}
		s := &fe.slots[fe.want%int64(o.Window)]
		if s.data != nil {
			if err := fe.write(s); err != nil {
				return err
			}
			waitFrom = time.Now()
			continue
		}
		// A chunk is late when it has not come ChunkTimeout after it was
		// asked for, not counting the time this loop spent writing.
		timer.Reset(time.Until(later(s.sent, waitFrom).Add(o.ChunkTimeout)))
		select {
		case m := <-fe.replies:
			took, err := fe.take(m)
			switch {
			case errors.Is(err, errUnserved):
				// The origin is gone, or its link is back in a moment:
				// ask again, a little later, until it has been silent
				// (writes to w aside) for ChunkTimeout.
				if time.Since(later(heard, waitFrom)) > o.ChunkTimeout {
					return fmt.Errorf("no one has served the files of that node for %v: %w", o.ChunkTimeout, ports.ErrFileOriginGone)
				}
				if err := fe.askAgainLater(ctx); err != nil {
					return err
				}
			case err != nil:
				return err
			case took:
				heard = time.Now()
			}
		case <-timer.C:
			if s.tries > o.Retries {
				return fmt.Errorf("no answer for the chunk at %d after %d tries: %w",
					fe.want*int64(o.Chunk), s.tries, ports.ErrFileOriginGone)
			}
			if err := fe.ask(fe.want); err != nil {
				return err
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-fe.f.stop:
			return ports.ErrFileShareClosed
		}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// span returns the offset and length of chunk k.
func (fe *fetch) span(k int64) (int64, int) {
	off := k * int64(fe.f.opts.Chunk)
	return off, int(min(int64(fe.f.opts.Chunk), fe.size-off))
}

// ask sends the request of chunk k.
func (fe *fetch) ask(k int64) error {
	off, n := fe.span(k)
	fe.req = appendRequest(fe.req[:0], request{op: opChunk, size: fe.size, offset: off, length: n, id: fe.id})
	s := &fe.slots[k%int64(len(fe.slots))]
	s.sent = time.Now()
	s.tries++
	if err := fe.f.c.nc.PublishRequest(fe.subject, fe.inbox, fe.req); err != nil {
		if errors.Is(err, gonats.ErrConnectionClosed) || errors.Is(err, gonats.ErrConnectionReconnecting) {
			return fmt.Errorf("asking for the chunk at %d: %w: %w", off, ports.ErrFileOriginGone, err)
		}
		return fmt.Errorf("asking for the chunk at %d: %w", off, err)
	}
	return nil
}

// errUnserved is NATS's "no responders": no one subscribes to the
// origin's subject now.
var errUnserved = errors.New("no one serves the files of that node")

// unservedPause is how long a fetch waits before it asks again after NATS
// said that no one serves the origin's subject.
const unservedPause = 100 * time.Millisecond

// askAgainLater waits a moment, takes the replies that came meanwhile,
// and asks again for every chunk in flight not come yet, without counting
// it as a try: what NATS did not deliver to anyone was never asked.
func (fe *fetch) askAgainLater(ctx context.Context) error {
	pause := time.NewTimer(unservedPause)
	defer pause.Stop()
	select {
	case <-pause.C:
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-fe.f.stop:
		return ports.ErrFileShareClosed
	}
	for drained := false; !drained; {
		select {
		case m := <-fe.replies:
			if _, err := fe.take(m); err != nil && !errors.Is(err, errUnserved) {
				return err
			}
		default:
			drained = true
		}
	}
	for k := fe.want; k < fe.next; k++ {
		if s := &fe.slots[k%int64(len(fe.slots))]; s.data == nil {
			s.tries--
			if err := fe.ask(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// take checks a reply and keeps its chunk in its slot (took); a reply to
// a chunk not awaited (a late answer to a request asked again) is dropped.
func (fe *fetch) take(m *gonats.Msg) (took bool, err error) {
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		return false, errUnserved
	}
	if len(m.Data) < replyHeaderLen {
		return false, fmt.Errorf("a reply of %d bytes: %w", len(m.Data), ports.ErrFileCorrupt)
	}
	off := int64(binary.BigEndian.Uint64(m.Data[1:]))
	switch m.Data[0] {
	case statusOK:
	case statusUnknown:
		return false, fmt.Errorf("the origin: %w", ports.ErrFileUnknown)
	case statusFailed:
		return false, fmt.Errorf("the origin could not read the chunk at %d: %w", off, ports.ErrFileOriginGone)
	case statusGone:
		return false, fmt.Errorf("the origin is closing: %w", ports.ErrFileOriginGone)
	default:
		return false, fmt.Errorf("the origin refused the request of the chunk at %d (status %d)", off, m.Data[0])
	}
	chunk := int64(fe.f.opts.Chunk)
	k := off / chunk
	if off < 0 || off%chunk != 0 || k < fe.want || k >= fe.next {
		return false, nil
	}
	s := &fe.slots[k%int64(len(fe.slots))]
	if s.data != nil {
		return false, nil
	}
	data := m.Data[replyHeaderLen:]
	if _, n := fe.span(k); len(data) != n {
		return false, fmt.Errorf("a chunk at %d of %d bytes, not %d: %w", off, len(data), n, ports.ErrFileCorrupt)
	}
	if crc32.Checksum(data, fe.f.crc) != binary.BigEndian.Uint32(m.Data[9:]) {
		return false, fmt.Errorf("the chunk at %d fails its checksum: %w", off, ports.ErrFileCorrupt)
	}
	s.data = data
	return true, nil
}

// write writes the chunk that is due and frees its slot.
func (fe *fetch) write(s *slot) error {
	off, _ := fe.span(fe.want)
	_, err := fe.w.Write(s.data)
	*s = slot{}
	if err != nil {
		return fmt.Errorf("writing at %d: %w", off, err)
	}
	fe.want++
	return nil
}
