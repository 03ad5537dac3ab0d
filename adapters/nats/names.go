package nats

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"pcx/domain"
	"pcx/ports"
)

// StoreOptions shape the key-value buckets a node creates when they do
// not exist yet (the first node's choice stays).
type StoreOptions struct {
	// Replicas is how many NATS servers keep each bucket (default 1; 3 in
	// a cluster of three, so that losing one server loses nothing).
	Replicas int
	// Timeout bounds each call to the store (default 5 s).
	Timeout time.Duration
}

func (o StoreOptions) replicas() int {
	if o.Replicas < 1 {
		return 1
	}
	return o.Replicas
}

func (o StoreOptions) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 5 * time.Second
	}
	return o.Timeout
}

// keyEncoding turns any UTF-8 into what a KV key may hold
// ([-/_=.a-zA-Z0-9]): base32 "extended hex", lower case, no padding.
var keyEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// Names is a node's ports.Names over a JetStream key-value bucket. A held
// nickname is two keys: "k.<key>" and "s.<shape>" (Nickname.Key and
// Shape, encoded), each holding the node and the nickname as typed. KV
// Create fails when the key exists, which makes one claimant the winner.
type Names struct {
	kv      jetstream.KeyValue
	node    string
	timeout time.Duration
}

var _ ports.Names = (*Names)(nil)

// holding is the value of a key: who holds it.
type holding struct {
	Node string `json:"node"`
	Nick string `json:"nick"`
}

// NewNames opens (creating if need be) the nickname bucket of room.
func NewNames(ctx context.Context, c *Conn, room string, opts StoreOptions) (*Names, error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      "pcx_" + room + "_names",
		Description: "pcx: nicknames held, by key and shape",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    opts.replicas(),
	})
	if err != nil {
		return nil, fmt.Errorf("nats: names bucket: %w", err)
	}
	return &Names{kv: kv, node: c.node, timeout: opts.timeout()}, nil
}

func keyOf(n domain.Nickname) string   { return "k." + keyEncoding.EncodeToString([]byte(n.Key())) }
func shapeOf(n domain.Nickname) string { return "s." + keyEncoding.EncodeToString([]byte(n.Shape())) }

// serverName is the Nickname of domain.ServerName, whose key and shape no
// one may hold (domain.Registry's rule).
var serverName = func() domain.Nickname {
	n, err := domain.ParseNickname(domain.ServerName)
	if err != nil {
		panic("nats: " + err.Error())
	}
	return n
}()

func storeErr(op string, err error) error {
	return fmt.Errorf("nats: %s: %w: %w", op, ports.ErrNamesDown, err)
}

// Claim implements ports.Names: the key first, then the shape; when the
// shape is taken the key is given back. The order is the revision of the
// shape's key: the bucket is one stream, so the revisions of all its
// writes are one total order, and the shape is written last.
func (r *Names) Claim(ctx context.Context, n domain.Nickname) (uint64, error) {
	if n.IsZero() {
		return 0, domain.ErrNicknameRequired
	}
	if n.Key() == serverName.Key() || n.Shape() == serverName.Shape() {
		return 0, domain.ErrNicknameTaken
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	val, err := json.Marshal(holding{Node: r.node, Nick: n.String()})
	if err != nil {
		return 0, fmt.Errorf("nats: claim: %w", err)
	}
	rev, err := r.kv.Create(ctx, keyOf(n), val)
	if isConflict(err) {
		return 0, domain.ErrNicknameTaken
	}
	if err != nil {
		return 0, storeErr("claim", err)
	}
	order, err := r.kv.Create(ctx, shapeOf(n), val)
	if err == nil {
		return order, nil
	}
	if undo := r.kv.Delete(ctx, keyOf(n), jetstream.LastRevision(rev)); undo != nil {
		// The key stays this node's until ReleaseNode: a name no one
		// can take, never one that two hold.
		return 0, storeErr("claim: give back the key", errors.Join(err, undo))
	}
	if isConflict(err) {
		return 0, domain.ErrNicknameTaken
	}
	return 0, storeErr("claim", err)
}

// Release implements ports.Names: the holder's own key and shape go, each
// only if this node still holds it at the revision read.
func (r *Names) Release(ctx context.Context, n domain.Nickname) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	h, _, err := r.get(ctx, keyOf(n))
	if err != nil || h.Node != r.node {
		return err
	}
	held, err := domain.ParseNickname(h.Nick)
	if err != nil {
		return fmt.Errorf("nats: release: stored nickname %q: %w", h.Nick, err)
	}
	for _, key := range []string{shapeOf(held), keyOf(held)} {
		if err := r.deleteIfHeldBy(ctx, key, r.node); err != nil {
			return err
		}
	}
	return nil
}

// isConflict tells whether err is a write refused because the key was not
// at the revision expected (for Create: it exists). A replicated bucket
// says so with another code (10164), which jetstream.ErrKeyExists does not
// match: seen in the claim race on three servers.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// get returns the holding at key and its revision; a zero holding when the
// key is not held.
func (r *Names) get(ctx context.Context, key string) (holding, uint64, error) {
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return holding{}, 0, nil
	}
	if err != nil {
		return holding{}, 0, storeErr("get", err)
	}
	var h holding
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return holding{}, 0, fmt.Errorf("nats: %s: bad value: %w", key, err)
	}
	return h, e.Revision(), nil
}

// deleteIfHeldBy deletes key while node holds it. On a replicated bucket
// a read may lag the last write for a moment (seen on three servers:
// several nodes freeing a dead node's names at once read a revision
// already replaced, again and again for some milliseconds), so a delete
// refused for its revision is tried again on a fresh read, after a pause.
func (r *Names) deleteIfHeldBy(ctx context.Context, key, node string) error {
	var errs []error
	pause := 5 * time.Millisecond
	for range 10 {
		h, rev, err := r.get(ctx, key)
		if err != nil || h.Node != node {
			return err
		}
		err = r.kv.Delete(ctx, key, jetstream.LastRevision(rev))
		if !isConflict(err) {
			if err != nil {
				return storeErr("delete "+key, err)
			}
			return nil
		}
		errs = append(errs, fmt.Errorf("at revision %d: %w", rev, err))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return storeErr("delete "+key, ctx.Err())
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
	return storeErr("delete "+key, errors.Join(errs...))
}

// entries returns every live entry under filter, as the bucket holds them
// now.
func (r *Names) entries(ctx context.Context, filter string) ([]jetstream.KeyValueEntry, error) {
	return collect(ctx, r.kv, filter)
}

func collect(ctx context.Context, kv jetstream.KeyValue, filter string) ([]jetstream.KeyValueEntry, error) {
	w, err := kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, storeErr("watch", err)
	}
	defer func() { _ = w.Stop() }()
	var out []jetstream.KeyValueEntry
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return out, nil
			}
			out = append(out, e)
		case <-ctx.Done():
			return nil, storeErr("list", ctx.Err())
		}
	}
}

// List implements ports.Names.
func (r *Names) List(ctx context.Context) ([]ports.NameHolder, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	es, err := r.entries(ctx, "k.>")
	if err != nil {
		return nil, err
	}
	out := make([]ports.NameHolder, 0, len(es))
	for _, e := range es {
		var h holding
		if err := json.Unmarshal(e.Value(), &h); err != nil {
			return nil, fmt.Errorf("nats: list: %s: bad value: %w", e.Key(), err)
		}
		n, err := domain.ParseNickname(h.Nick)
		if err != nil {
			return nil, fmt.Errorf("nats: list: stored nickname %q: %w", h.Nick, err)
		}
		out = append(out, ports.NameHolder{Node: h.Node, Nickname: n})
	}
	return out, nil
}

// ReleaseNode implements ports.Names: every key node holds goes, each at
// the revision read just before, so that a key another node took
// meanwhile stays.
func (r *Names) ReleaseNode(ctx context.Context, node string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	es, err := r.entries(ctx, ">")
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range es {
		var h holding
		if json.Unmarshal(e.Value(), &h) != nil || h.Node != node {
			continue
		}
		errs = append(errs, r.deleteIfHeldBy(ctx, e.Key(), node))
	}
	return errors.Join(errs...)
}
