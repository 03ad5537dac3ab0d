package loadgen

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pcxtls "pcx/adapters/tls"
)

func TestTLSSchemeDialsTLSAcceptingAnyKey(t *testing.T) {
	cert, _, err := pcxtls.LoadOrCreateSelfSigned(t.TempDir())
	require.NoError(t, err)
	l, err := pcxtls.Listen("127.0.0.1:0", pcxtls.ListenOptions{Certificates: pcxtls.FixedCertificate(cert)})
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			var body []byte
			body, err = c.Reader().ReadRecord(nil, 100)
			assert.Equal(t, "hello", string(body))
			c.Close()
		}
		accepted <- err
	}()

	c, err := dial(context.Background(), TLSScheme+l.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Writer().WriteFrames([][]byte{[]byte("hello")}))

	require.NoError(t, <-accepted)
}
