// Package tls is the TLS 1.3 adapter of the transport port: a Listener and
// a Dialer whose connections carry frames (adapters/framing) inside TLS over
// TCP (adapters/tcp, for the sockets and their keep-alive probes). Nothing
// above the port knows whether a connection is encrypted.
//
// The server side handshakes each connection in a goroutine of its own,
// under a timeout, before Accept hands it out, so a slow or hostile peer
// never holds up the accept loop. The client side checks the server's key
// as Trust says: the system's CAs, a pinned key, or trust on first use
// recorded in a known_servers file.
package tls

import (
	"crypto/tls"
	"net"
)

// MinVersion is the only protocol version spoken: TLS 1.3.
const MinVersion = tls.VersionTLS13

// DefaultPort is the TLS port of PROTOCOL.md section 1.
const DefaultPort = "23481"

// conn is a TLS connection whose Close closes the socket at once.
//
// tls.Conn.Close first sends a close_notify alert, under a write deadline
// of 5 s: a server cutting off a receiver that stopped reading would wait
// on it. The graceful end is CloseWrite (tls.Conn's, which sends the
// alert); Close is the abrupt one, as on TCP. A Go peer reads a TCP end
// without the alert, between records, as io.EOF.
type conn struct {
	*tls.Conn
	raw net.Conn // the TCP connection under it
}

func (c *conn) Close() error { return c.raw.Close() }

// CloseWrite sends close_notify, then half-closes the socket, so that the
// peer sees the end of the stream even if it ignores the alert.
func (c *conn) CloseWrite() error {
	if err := c.Conn.CloseWrite(); err != nil {
		return err
	}
	if hc, ok := c.raw.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return nil
}
