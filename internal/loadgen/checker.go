package loadgen

// Verdict is what a Checker made of one message.
type Verdict uint8

const (
	// Delivered: the next message of its sender, or one that fills a gap
	// without overtaking a later one.
	Delivered Verdict = iota
	// Reordered: delivered, but after a later message of the same sender.
	Reordered
	// Duplicate: this sender's message with this sequence number came
	// before.
	Duplicate
	// Garbled: the stamp names a sender or sequence number that cannot be
	// (not a sender of this run, the receiver itself, past the count).
	Garbled
)

// Checker follows one receiver's view of a fan-out run: which messages of
// each sender arrived, and in what order. The common case (every message
// the next of its sender) costs a compare and an increment; a sender's
// bitmap of seen sequence numbers is made only at its first anomaly. It is
// not safe for concurrent use: each receiver owns one.
type Checker struct {
	perSender uint64 // messages each sender sends
	self      int    // the receiver's own index; its own messages must not come back
	senders   []senderTrack

	dup, reorder, garbled uint64
}

// senderTrack is what one receiver knows of one sender.
type senderTrack struct {
	// next is one past the highest sequence number seen (so, while seen is
	// nil, the count of messages received: 0..next-1 all came in order).
	next uint64
	// distinct counts different sequence numbers received.
	distinct uint64
	// seen has a bit per sequence number received; nil until the first
	// message that is not next.
	seen []uint64
}

// NewChecker returns the checker of receiver self in a run where senders
// clients (indices 0..senders-1) each send perSender messages.
func NewChecker(senders int, perSender uint64, self int) *Checker {
	return &Checker{perSender: perSender, self: self, senders: make([]senderTrack, senders)}
}

// Observe records one message's stamp and says what it was.
func (c *Checker) Observe(s Stamp) Verdict {
	if s.Sender < 0 || s.Sender >= len(c.senders) || s.Sender == c.self || s.Seq >= c.perSender {
		c.garbled++
		return Garbled
	}
	t := &c.senders[s.Sender]
	if t.seen == nil {
		if s.Seq == t.next {
			t.next++
			t.distinct++
			return Delivered
		}
		t.materialize(c.perSender)
	}
	word, bit := s.Seq/64, uint64(1)<<(s.Seq%64)
	if t.seen[word]&bit != 0 {
		c.dup++
		return Duplicate
	}
	t.seen[word] |= bit
	t.distinct++
	if s.Seq < t.next {
		c.reorder++
		return Reordered
	}
	t.next = s.Seq + 1
	return Delivered
}

// materialize makes the bitmap of a sender whose messages 0..next-1 have
// all been seen.
func (t *senderTrack) materialize(perSender uint64) {
	t.seen = make([]uint64, (perSender+63)/64)
	full := t.next / 64
	for i := range full {
		t.seen[i] = ^uint64(0)
	}
	if rest := t.next % 64; rest > 0 {
		t.seen[full] = uint64(1)<<rest - 1
	}
}

// Garble counts a frame that should have been a load message and is not
// (bad checksum, wrong nickname, a record of the wrong shape).
func (c *Checker) Garble() { c.garbled++ }

// Received returns how many different messages of sender arrived.
func (c *Checker) Received(sender int) uint64 { return c.senders[sender].distinct }

// Counts returns the anomalies seen so far and the messages still missing:
// lost is counted against every sender but the receiver itself.
func (c *Checker) Counts() (lost, dup, reorder, garbled uint64) {
	for i := range c.senders {
		if i != c.self {
			lost += c.perSender - c.senders[i].distinct
		}
	}
	return lost, c.dup, c.reorder, c.garbled
}
