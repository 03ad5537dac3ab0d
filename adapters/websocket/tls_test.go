package websocket_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/websocket"
	"pcx/ports"
	"pcx/ports/transporttest"
)

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// Over TLS (https and wss) the connections keep the whole contract, so
// --web-tls needs only a certificate.
func TestListenerContractOverTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	transporttest.RunListenerContract(t, func(t *testing.T) (ports.Listener, ports.Dialer) {
		l, err := websocket.Listen("127.0.0.1:0", websocket.Options{
			TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13},
		})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(l.URL("localhost"), "https://127.0.0.1:"))
		return l, websocket.Dialer{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}}
	})
}
