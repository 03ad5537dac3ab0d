package tls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"pcx/adapters/framing"
	"pcx/adapters/tcp"
	"pcx/ports"
)

// Trust says how a client checks the server's key. The first rule that
// applies decides:
//   - Pin set: the key must have this fingerprint; nothing else is checked
//     (not the CA, the name or the dates).
//   - the certificate verifies against Roots (nil: the system's CAs, which
//     honour SSL_CERT_FILE) for the host dialled: accepted.
//   - it is not signed by a known CA (self-signed): trust on first use
//     through Known: an unknown server's key is recorded and accepted, a
//     known server's must be the one recorded.
//
// A certificate that a CA signed but that fails otherwise (expired, for
// another name) is refused: that is not what a self-hosted server looks
// like. There is no mode that accepts any key, but SkipVerify, for the
// load generator only.
type Trust struct {
	Pin   string         // a fingerprint as Fingerprint gives it, or ""
	Roots *x509.CertPool // nil: the system's
	Known *KnownServers  // nil: no trust on first use; a self-signed key is refused
	// Notices receives the lines a person should read: the key of a server
	// met for the first time, a key that changed. Nil means none.
	Notices io.Writer
	// SkipVerify accepts any key. For the load generator, never the client.
	SkipVerify bool
}

// Dialer opens TLS connections; it implements ports.Dialer.
type Dialer struct {
	TCP   tcp.Options
	Trust Trust
}

var _ ports.Dialer = Dialer{}

// ErrKeyChanged means the server's key is not the one known_servers holds
// for it. The notice has said the rest.
var ErrKeyChanged = errors.New("the server's key has changed (see the warning above); refusing to connect")

// Dial connects to addr ("host:port") and handshakes, giving up when ctx
// ends.
func (d Dialer) Dial(ctx context.Context, addr string) (ports.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("tls: dial %s: %w", addr, err)
	}
	nc, err := tcp.Dialer{Options: d.TCP}.DialNet(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	config := &tls.Config{
		MinVersion: MinVersion,
		ServerName: host,
		// The chain is checked in VerifyConnection, which falls back to
		// the pin or known_servers when no CA signed it.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return d.Trust.verify(addr, host, cs.PeerCertificates)
		},
	}
	batch := newBatchingConn(nc)
	tc := tls.Client(batch, config)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, handshakeError(addr, err)
	}
	return framing.NewConn(newConn(tc, batch, nc), framing.Options{WriteTimeout: d.TCP.WriteTimeout, ReadTimeout: d.TCP.ReadTimeout, FillPayloadReads: true}), nil
}

// handshakeError says plainly what a failed handshake most likely means.
func handshakeError(addr string, err error) error {
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh):
		return fmt.Errorf("the server does not speak TLS: is %s the plain port? pcx's TLS port is %s", addr, DefaultPort)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("the server closed the connection during the TLS handshake: is %s the plain port? pcx's TLS port is %s", addr, DefaultPort)
	}
	return fmt.Errorf("tls: handshake with %s: %w", addr, err)
}

// verify checks the server's certificate chain as the Trust says.
func (t Trust) verify(addr, host string, chain []*x509.Certificate) error {
	if len(chain) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	if t.SkipVerify {
		return nil
	}
	leaf := chain[0]
	got := Fingerprint(leaf)
	if t.Pin != "" {
		if got != t.Pin {
			return fmt.Errorf("the server at %s presented key %s, not the pinned %s", addr, got, t.Pin)
		}
		return nil
	}
	// The chain first, without the name: whether a CA signed it decides
	// between the CA's rules and the pinning ones.
	err := verifyChain(t.Roots, chain)
	var unknownCA x509.UnknownAuthorityError
	switch {
	case err == nil:
		return leaf.VerifyHostname(host)
	case errors.As(err, &unknownCA) || selfSigned(leaf):
		return t.trustOnFirstUse(addr, got)
	}
	return err
}

// verifyChain checks that the chain leads to one of roots.
func verifyChain(roots *x509.CertPool, chain []*x509.Certificate) error {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}

// selfSigned tells whether a certificate signed itself (whether or not it
// says it may sign).
func selfSigned(c *x509.Certificate) bool {
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// trustOnFirstUse accepts the key recorded for addr, records the key of a
// server met for the first time, and refuses a key that changed.
func (t Trust) trustOnFirstUse(addr, got string) error {
	if t.Known == nil {
		return fmt.Errorf("the server at %s presented key %s, signed by no known CA; pin it with --tls-fingerprint", addr, got)
	}
	t.Known.mu.Lock()
	defer t.Known.mu.Unlock()
	want, line, err := t.Known.lookup(addr)
	switch {
	case err != nil:
		return err
	case line == 0:
		if err := t.Known.record(addr, got); err != nil {
			return err
		}
		t.notice("pcx: first connection to %s; its key is %s\n"+
			"pcx: recorded in %s; from now on a different key will be refused\n", addr, got, t.Known.path)
		return nil
	case want == got:
		return nil
	}
	t.notice("pcx: WARNING: THE KEY OF THE SERVER AT %s HAS CHANGED.\n"+
		"pcx:   recorded:  %s\n"+
		"pcx:   presented: %s\n"+
		"pcx: Someone may be posing as the server, or its operator made a new key.\n"+
		"pcx: If you know the key was changed, delete line %d of %s and connect again.\n",
		addr, want, got, line, t.Known.path)
	return ErrKeyChanged
}

func (t Trust) notice(format string, args ...any) {
	if t.Notices != nil {
		fmt.Fprintf(t.Notices, format, args...)
	}
}
