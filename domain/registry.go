package domain

import "sync"

// Registry is the set of logged-in nicknames. It guarantees that no two
// holders have nicknames with the same key (Nickname.Key: the confusable
// skeleton of the PRECIS fold) at once, so no one can log in as a
// look-alike of a holder (Ιvan with a Greek Iota beside Ivan), and that no
// one holds a nickname with the key of ServerName: `server`, `SERVER`,
// `Ｓｅｒｖｅｒ`, `ЅЕRVЕR` (Cyrillic) and `𝐒𝐄𝐑𝐕𝐄𝐑` are always taken. It is
// safe for concurrent use.
type Registry struct {
	mu sync.Mutex // guards held
	// held has one entry per claimed nickname, by key. An entry exists from
	// a successful Claim until the matching Release.
	held map[string]struct{}
}

// serverKey is the key of ServerName, computed once.
var serverKey = mustNickname(ServerName).Key()

func mustNickname(s string) Nickname {
	n, err := ParseNickname(s)
	if err != nil {
		panic("domain: " + s + ": " + err.Error())
	}
	return n
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{held: make(map[string]struct{})}
}

// Claim takes n for its caller. It returns ErrNicknameTaken when a nickname
// with the same key is held or n has the key of ServerName, and
// ErrNicknameRequired for the zero Nickname.
func (r *Registry) Claim(n Nickname) error {
	if n.IsZero() {
		return ErrNicknameRequired
	}
	if n.key == serverKey {
		return ErrNicknameTaken
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.held[n.key]; taken {
		return ErrNicknameTaken
	}
	r.held[n.key] = struct{}{}
	return nil
}

// Release frees n. Only the holder that claimed n may release it, once:
// the registry cannot tell holders apart, since it stores keys only.
func (r *Registry) Release(n Nickname) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.held, n.key)
}

// Len returns the number of nicknames held.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held)
}
