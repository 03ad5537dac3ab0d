package ports

import (
	"context"
	"errors"
	"io"
	"time"
)

//go:generate go tool mockgen -typed -destination=mocks/fileshare.go -package=mocks pcx/ports FileShare

// Errors of FileShare.Fetch, which callers branch on (each comes wrapped,
// with the node and the file named).
var (
	// ErrFileUnknown: the origin node has no file of that id and size
	// offered (never offered, withdrawn, or its offer ran out).
	ErrFileUnknown = errors.New("fileshare: file not offered")
	// ErrFileOriginGone: the origin node did not answer (it stopped, or
	// it cannot be reached), even after the retries.
	ErrFileOriginGone = errors.New("fileshare: origin node not answering")
	// ErrFileCorrupt: what came is not what was asked for (a chunk of the
	// wrong length or offset, or whose checksum does not match). Nothing
	// of it was written.
	ErrFileCorrupt = errors.New("fileshare: corrupt chunk")
	// ErrFileShareClosed: Offer or Fetch after Close.
	ErrFileShareClosed = errors.New("fileshare: closed")
)

// FileOffer says how long an offered file stays fetchable. The offer ends at
// the first of: Withdraw, Readers fetches of it ended (whole or failed: a
// fetcher says so when it stops), the deadline Until, Close.
type FileOffer struct {
	// Readers is the number of fetches expected (the other nodes alive
	// when the file was announced); 0 means no count: the offer lasts
	// until Withdraw, Until or Close.
	Readers int
	// Until is when the offer ends whatever happened; the zero time means
	// no deadline.
	Until time.Time
}

// FileShare moves attachment payloads between the nodes of one room
// (PROTOCOL.md §9): the node a file was sent to offers the payload it has
// spooled, and every other node fetches it, streaming it into its own
// spool, before relaying the message to its users. A file is never held
// whole in memory on the way: the origin serves it from its spool in
// chunks, and the fetcher writes each chunk as it comes, in order, with a
// bounded number of chunks in flight. It is safe for concurrent use.
type FileShare interface {
	// Offer makes a's payload fetchable by the other nodes under id (1 to
	// 255 bytes, unique among this node's offers) until the offer ends as
	// terms say. The share holds a reference to a (Retain) and releases it
	// when the offer ends; the caller keeps its own. a must be in memory
	// (Bytes) or give an io.ReaderAt from Open, as spool files do.
	Offer(id string, a Attachment, terms FileOffer) error
	// Withdraw ends the offer of id now; fetches under way then fail with
	// ErrFileUnknown. Withdrawing what is not offered does nothing.
	Withdraw(id string)
	// Fetch streams the payload that node offered as id, exactly size
	// bytes, into w, in order, and returns nil once all of it was written.
	// On failure (ErrFileUnknown, ErrFileOriginGone, ErrFileCorrupt, a
	// write to w that failed, or ctx ended) w may have had part of it: the
	// caller discards what it got. Fetch never waits without bound: a node
	// that stops answering, or that no one serves any more, fails it within
	// the share's chunk timeout times its retries.
	Fetch(ctx context.Context, node, id string, size int64, w io.Writer) error
	// Close ends every offer (releasing their references) and stops
	// serving; fetches of this node's offers by others then fail with
	// ErrFileOriginGone, and Offer and Fetch here with ErrFileShareClosed.
	// Fetches under way here end before Close returns.
	Close() error
}
