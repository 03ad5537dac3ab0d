package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"golang.org/x/term"

	"pcx/adapters/tcp"
	pcxtls "pcx/adapters/tls"
	"pcx/ports"
)

// tlsSettings say whether and how the connection is encrypted.
type tlsSettings struct {
	On          bool   // --tls, or a server given as tls://host:port
	Fingerprint string // --tls-fingerprint: the only key accepted
	Plain       bool   // --plain: no warning for a plain connection
}

// DefaultTLSServer is where the client connects with --tls unless told
// otherwise.
const DefaultTLSServer = "127.0.0.1:" + pcxtls.DefaultPort

// tlsScheme marks a server address as TLS.
const tlsScheme = "tls://"

// defineTLSFlags adds the TLS flags to fs.
func defineTLSFlags(fs *flag.FlagSet, t *tlsSettings) {
	fs.BoolVar(&t.On, "tls", false, "encrypt with TLS 1.3 (default port 23481); the server is checked against the system's CAs, else its key is pinned or recorded on first use in known_servers")
	fs.StringVar(&t.Fingerprint, "tls-fingerprint", "", "accept only the server key with this `fingerprint` (sha256:…, from pcx-server --print-fingerprint); implies --tls")
	fs.BoolVar(&t.Plain, "plain", false, "connect without encryption, and without the warning given for a server that is not on this machine")
}

// resolveTLS reads a tls:// server address and fills in the TLS port.
// serverGiven tells whether the user named a server (flag or environment).
func resolveTLS(s *settings, serverGiven bool) error {
	t := &s.TLS
	if t.Fingerprint != "" {
		fp, err := pcxtls.ParseFingerprint(t.Fingerprint)
		if err != nil {
			return fmt.Errorf("--tls-fingerprint: %w", err)
		}
		t.Fingerprint, t.On = fp, true
	}
	if rest, ok := strings.CutPrefix(s.Server, tlsScheme); ok {
		t.On = true
		s.Server = rest
		if _, _, err := net.SplitHostPort(rest); err != nil {
			s.Server = net.JoinHostPort(strings.Trim(rest, "[]"), pcxtls.DefaultPort)
		}
	} else if t.On && !serverGiven {
		s.Server = DefaultTLSServer
	}
	if t.On && t.Plain {
		return errors.New("--plain and TLS (--tls, --tls-fingerprint or tls://) contradict each other")
	}
	return nil
}

// plainWarning is the line printed before connecting in plain to a server
// that is not on this machine; empty when there is nothing to say.
func plainWarning(s settings) string {
	if s.TLS.On || s.TLS.Plain {
		return ""
	}
	host, _, err := net.SplitHostPort(s.Server)
	if err != nil {
		host = s.Server
	}
	if host == "localhost" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	return "pcx-client: warning: the connection to " + s.Server + " is not encrypted; anyone on the way can read it (use --tls, or --plain to silence this)"
}

// newDialer dials TCP with keep-alive probes, so a server that vanished
// without a word is noticed in about 15 s, and gives up a write that makes
// no progress for 30 s. With TLS on, it checks the server's key as the
// system's CAs, --tls-fingerprint or known_servers say; its notices (a key
// met for the first time, a key that changed) go to the standard error.
func newDialer(s settings) (ports.Dialer, error) {
	opts := tcp.Options{WriteTimeout: writeTimeout, KeepAlive: tcp.DefaultKeepAlive}
	if !s.TLS.On {
		return tcp.Dialer{Options: opts}, nil
	}
	trust := pcxtls.Trust{Pin: s.TLS.Fingerprint, Notices: stderrNotices()}
	if trust.Pin == "" {
		path, err := pcxtls.DefaultKnownServersPath(os.Getenv)
		if err != nil {
			return nil, err
		}
		trust.Known = pcxtls.NewKnownServers(path)
	}
	return pcxtls.Dialer{TCP: opts, Trust: trust}, nil
}

// stderrNotices is the standard error, with line ends a terminal in raw
// mode (the line editor's) shows right.
func stderrNotices() io.Writer {
	if term.IsTerminal(int(os.Stderr.Fd())) && term.IsTerminal(int(os.Stdin.Fd())) {
		return crlfWriter{os.Stderr}
	}
	return os.Stderr
}

// crlfWriter writes "\r\n" for every "\n".
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write([]byte(strings.ReplaceAll(string(p), "\n", "\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
