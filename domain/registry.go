package domain

import "sync"

// Registry is the set of logged-in nicknames. It guarantees that no two
// holders have nicknames with the same key (Nickname.Key: the confusable
// skeleton of the PRECIS fold) or the same shape (Nickname.Shape: the
// skeleton before folding) at once, so no one can log in as a look-alike
// of a holder (Ιvan with a Greek Iota beside Ivan, ΙVΑΝ in Greek capitals
// beside IVAN), and that no one holds a nickname with the key or shape of
// ServerName: `server`, `SERVER`, `Ｓｅｒｖｅｒ`, `ЅЕRVЕR` (Cyrillic),
// `SΕRVΕR` (Greek) and `𝐒𝐄𝐑𝐕𝐄𝐑` are always taken. It is safe for
// concurrent use.
type Registry struct {
	mu sync.Mutex // guards held and shapes
	// held and shapes have one entry per claimed nickname, by key and by
	// shape. The entries exist from a successful Claim until the matching
	// Release; since both are unique, a Release removes only its own.
	held   map[string]struct{}
	shapes map[string]struct{}
}

// server is the Nickname of ServerName, parsed once.
var server = mustNickname(ServerName)

func mustNickname(s string) Nickname {
	n, err := ParseNickname(s)
	if err != nil {
		panic("domain: " + s + ": " + err.Error())
	}
	return n
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{held: make(map[string]struct{}), shapes: make(map[string]struct{})}
}

// Claim takes n for its caller. It returns ErrNicknameTaken when a nickname
// with the same key or shape is held or n has the key or shape of
// ServerName, and ErrNicknameRequired for the zero Nickname.
func (r *Registry) Claim(n Nickname) error {
	if n.IsZero() {
		return ErrNicknameRequired
	}
	if n.key == server.key || n.shape == server.shape {
		return ErrNicknameTaken
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, keyTaken := r.held[n.key]
	_, shapeTaken := r.shapes[n.shape]
	if keyTaken || shapeTaken {
		return ErrNicknameTaken
	}
	r.held[n.key] = struct{}{}
	r.shapes[n.shape] = struct{}{}
	return nil
}

// Release frees n. Only the holder that claimed n may release it, once:
// the registry cannot tell holders apart, since it stores keys and
// shapes only.
func (r *Registry) Release(n Nickname) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.held, n.key)
	delete(r.shapes, n.shape)
}

// Len returns the number of nicknames held.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held)
}
