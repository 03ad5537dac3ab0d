package tls

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// KnownServers is the trust-on-first-use record of servers' keys: a text
// file of lines "host:port sha256:…", as ssh's known_hosts. A line starting
// with # is a comment.
type KnownServers struct {
	path string
	mu   sync.Mutex // serialises this process's look-ups and appends
}

// NewKnownServers uses the file at path, created on the first record.
func NewKnownServers(path string) *KnownServers {
	return &KnownServers{path: path}
}

// DefaultKnownServersPath is $XDG_CONFIG_HOME/pcx/known_servers, else
// ~/.config/pcx/known_servers.
func DefaultKnownServersPath(getenv func(string) string) (string, error) {
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "pcx", "known_servers"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("tls: neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep known_servers")
	}
	return filepath.Join(home, ".config", "pcx", "known_servers"), nil
}

// Path is the file's path.
func (k *KnownServers) Path() string { return k.path }

// lookup finds the fingerprint recorded for server and the line it is on;
// line 0 means none.
func (k *KnownServers) lookup(server string) (fingerprint string, line int, err error) {
	f, err := os.Open(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("tls: known servers: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && !strings.HasPrefix(fields[0], "#") && fields[0] == server {
			return fields[1], n, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", 0, fmt.Errorf("tls: known servers %s: %w", k.path, err)
	}
	return "", 0, nil
}

// record appends server's fingerprint. One write of one line with
// O_APPEND: two clients recording at once do not mix their lines.
func (k *KnownServers) record(server, fingerprint string) error {
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return fmt.Errorf("tls: known servers: %w", err)
	}
	f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("tls: known servers: %w", err)
	}
	if _, err := f.WriteString(server + " " + fingerprint + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("tls: known servers %s: %w", k.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tls: known servers %s: %w", k.path, err)
	}
	return nil
}
