package main

import (
	"context"
	"fmt"
	"net"

	"pcx/adapters/framing"
	"pcx/adapters/tcp"
	"pcx/ports"
)

// halfClosingDialer dials like tcp.Dialer, with the same keep-alive and
// write timeout, but its connections can also half-close (CloseWrite),
// which app/client uses when the user leaves: a plain close while messages
// are still arriving resets the connection, and a reset throws away what
// is still in the send buffer, such as the end of the last file sent.
//
// It lives here until framing.Conn offers CloseWrite itself; then
// tcp.Dialer will do.
type halfClosingDialer struct {
	opts tcp.Options
}

var _ ports.Dialer = halfClosingDialer{}

// Dial implements ports.Dialer.
func (d halfClosingDialer) Dial(ctx context.Context, addr string) (ports.Conn, error) {
	nd := net.Dialer{KeepAliveConfig: d.opts.KeepAlive}
	nc, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcp: dial %s: %w", addr, err)
	}
	conn := &halfClosingConn{Conn: framing.NewConn(nc, framing.Options{WriteTimeout: d.opts.WriteTimeout})}
	conn.tcp, _ = nc.(*net.TCPConn)
	return conn, nil
}

// halfClosingConn is a framed TCP connection that can half-close.
type halfClosingConn struct {
	*framing.Conn
	tcp *net.TCPConn // nil if the connection is not TCP
}

// CloseWrite sends FIN after everything written so far; reading goes on.
func (c *halfClosingConn) CloseWrite() error {
	if c.tcp == nil {
		return fmt.Errorf("tcp: cannot half-close")
	}
	return c.tcp.CloseWrite()
}
