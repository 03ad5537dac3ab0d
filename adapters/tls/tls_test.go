package tls_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/framing"
	"pcx/adapters/tcp"
	pcxtls "pcx/adapters/tls"
	"pcx/ports"
	"pcx/ports/transporttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newLoopbackWith(opts tcp.Options) func(t *testing.T) (ports.Listener, ports.Dialer) {
	return func(t *testing.T) (ports.Listener, ports.Dialer) {
		certs := selfSigned(t)
		l, err := pcxtls.Listen("127.0.0.1:0", pcxtls.ListenOptions{Certificates: certs, TCP: opts})
		require.NoError(t, err)
		return l, pcxtls.Dialer{TCP: opts, Trust: pcxtls.Trust{Pin: certs.Fingerprint()}}
	}
}

var newLoopback = newLoopbackWith(tcp.Options{WriteTimeout: 10 * time.Second})

func TestListenerContract(t *testing.T) {
	transporttest.RunListenerContract(t, newLoopbackWith(tcp.Options{}))
}

func TestListenerContractWithTimeouts(t *testing.T) {
	transporttest.RunListenerContract(t, newLoopbackWith(tcp.Options{WriteTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second}))
}

func TestReadTimeoutContract(t *testing.T) {
	const timeout = 300 * time.Millisecond
	transporttest.RunReadTimeoutContract(t, timeout, transporttest.PairFromListener(newLoopbackWith(tcp.Options{ReadTimeout: timeout})))
}

// accept runs Accept in the background.
func accept(l ports.Listener) <-chan ports.Conn {
	got := make(chan ports.Conn, 1)
	go func() {
		c, _ := l.Accept()
		got <- c
	}()
	return got
}

// roundTrip proves that a dialled connection carries a record to the
// accepted end.
func roundTrip(t *testing.T, client ports.Conn, accepted <-chan ports.Conn) {
	t.Helper()
	require.NoError(t, client.Writer().WriteFrames([][]byte{[]byte("ping")}))
	server := <-accepted
	require.NotNil(t, server)
	defer server.Close()
	body, err := server.Reader().ReadRecord(nil, 100)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(body))
}

func TestSelfSignedKeyIsMadeOnceAndKept(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state", "pcx")

	first, created, err := pcxtls.LoadOrCreateSelfSigned(dir)
	require.NoError(t, err)
	require.True(t, created)
	second, created, err := pcxtls.LoadOrCreateSelfSigned(dir)
	require.NoError(t, err)

	assert.False(t, created, "the second start makes no new key")
	assert.Equal(t, pcxtls.Fingerprint(first.Leaf), pcxtls.Fingerprint(second.Leaf))
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, pcxtls.Fingerprint(first.Leaf))
	info, err := os.Stat(filepath.Join(dir, pcxtls.SelfSignedFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	leftovers, err := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers)
}

func TestServersStartingAtOnceAgreeOnOneKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const starts = 8
	prints := make(chan string, starts)
	made := make(chan bool, starts)
	var wg sync.WaitGroup
	for range starts {
		wg.Go(func() {
			cert, created, err := pcxtls.LoadOrCreateSelfSigned(dir)
			assert.NoError(t, err)
			if err == nil {
				prints <- pcxtls.Fingerprint(cert.Leaf)
				made <- created
			}
		})
	}
	wg.Wait()
	close(prints)
	close(made)

	seen := map[string]bool{}
	for p := range prints {
		seen[p] = true
	}
	creators := 0
	for c := range made {
		if c {
			creators++
		}
	}
	assert.Len(t, seen, 1, "every start got the same key")
	assert.Equal(t, 1, creators, "one start made it")
}

func TestADamagedKeyFileIsAnErrorNotANewKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, _, err := pcxtls.LoadOrCreateSelfSigned(dir)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, pcxtls.SelfSignedFile), []byte("garbage"), 0o600))

	_, _, err = pcxtls.LoadOrCreateSelfSigned(dir)

	assert.Error(t, err, "a silently new key would make every client refuse the server")
}

func TestFingerprintIsTheSHA256OfTheSubjectPublicKeyInfo(t *testing.T) {
	t.Parallel()
	certs := selfSigned(t)
	l := listen(t, certs, pcxtls.ListenOptions{})
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()

	assert.Equal(t, certs.Fingerprint(), peerFingerprint(t, l.Addr()))
}

func TestParseFingerprint(t *testing.T) {
	t.Parallel()
	hex := strings.Repeat("ab", 32)
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"sha256:" + hex, "sha256:" + hex, true},
		{"SHA256:" + strings.ToUpper(hex), "sha256:" + hex, true},
		{"sha256:" + strings.Repeat("AB:", 31) + "AB", "sha256:" + hex, true},
		{hex, "", false},
		{"sha256:abcd", "", false},
		{"sha1:" + hex, "", false},
	}
	for _, tc := range cases {
		got, err := pcxtls.ParseFingerprint(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
}

func TestOnlyTLS13IsSpoken(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	l := listen(t, selfSigned(t), pcxtls.ListenOptions{Log: logs.logger()})

	_, err := tls.Dial("tcp", l.Addr(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	require.Error(t, err)
	c, err := tls.Dial("tcp", l.Addr(), &tls.Config{InsecureSkipVerify: true})
	require.NoError(t, err)
	defer c.Close()

	assert.Equal(t, uint16(tls.VersionTLS13), c.ConnectionState().Version)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "TLS handshake failed") }, 10*time.Second, 10*time.Millisecond)
}

func TestSIGHUPReloadServesTheNewCertificateAndKeepsOpenConnections(t *testing.T) {
	t.Parallel()
	ca, dir := newCA(t), t.TempDir()
	certPath, keyPath := ca.issue(t, dir, "live")
	certs, err := pcxtls.LoadCertificates(certPath, keyPath)
	require.NoError(t, err)
	oldPrint := fingerprintOf(t, certPath)
	l := listen(t, certs, pcxtls.ListenOptions{})
	dialer := pcxtls.Dialer{Trust: pcxtls.Trust{Roots: ca.pool()}}
	accepted := accept(l)
	before, err := dialer.Dial(context.Background(), l.Addr())
	require.NoError(t, err)
	defer before.Close()
	server := <-accepted
	require.NotNil(t, server)
	defer server.Close()

	newCert, newKey := ca.issue(t, dir, "renewed")
	require.NoError(t, os.Rename(newCert, certPath))
	require.NoError(t, os.Rename(newKey, keyPath))
	require.NoError(t, certs.Reload())

	newPrint := fingerprintOf(t, certPath)
	require.NotEqual(t, oldPrint, newPrint)
	assert.Equal(t, newPrint, certs.Fingerprint())
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	assert.Equal(t, newPrint, peerFingerprint(t, l.Addr()), "the next handshake sees the new certificate")
	sent := make(chan error, 1)
	go func() { sent <- before.Writer().WriteFrames([][]byte{[]byte("still here")}) }()
	body, err := server.Reader().ReadRecord(nil, 100)
	require.NoError(t, err)
	assert.Equal(t, "still here", string(body), "the connection made before the reload goes on")
	require.NoError(t, <-sent)
}

func TestAReloadThatFailsKeepsTheOldCertificate(t *testing.T) {
	t.Parallel()
	ca, dir := newCA(t), t.TempDir()
	certPath, keyPath := ca.issue(t, dir, "live")
	certs, err := pcxtls.LoadCertificates(certPath, keyPath)
	require.NoError(t, err)
	before := certs.Fingerprint()
	require.NoError(t, os.WriteFile(certPath, []byte("half written"), 0o644))

	assert.Error(t, certs.Reload())
	assert.Equal(t, before, certs.Fingerprint())
	assert.Error(t, selfSigned(t).Reload(), "a self-signed certificate has no files to reload")
}

func TestACASignedCertificateIsAcceptedWithoutRecordingIt(t *testing.T) {
	t.Parallel()
	ca, dir := newCA(t), t.TempDir()
	certPath, keyPath := ca.issue(t, dir, "server")
	certs, err := pcxtls.LoadCertificates(certPath, keyPath)
	require.NoError(t, err)
	l := listen(t, certs, pcxtls.ListenOptions{})
	known := pcxtls.NewKnownServers(filepath.Join(dir, "known_servers"))
	var notices bytes.Buffer

	accepted := accept(l)
	c, err := pcxtls.Dialer{Trust: pcxtls.Trust{Roots: ca.pool(), Known: known, Notices: &notices}}.Dial(context.Background(), l.Addr())
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, accepted)

	assert.Empty(t, notices.String())
	assert.NoFileExists(t, known.Path())
}

func TestACASignedCertificateForAnotherNameIsRefused(t *testing.T) {
	t.Parallel()
	ca, dir := newCA(t), t.TempDir()
	certPath, keyPath := ca.issue(t, dir, "server") // for 127.0.0.1 and localhost
	certs, err := pcxtls.LoadCertificates(certPath, keyPath)
	require.NoError(t, err)
	l := listen(t, certs, pcxtls.ListenOptions{})
	_, port, _ := net.SplitHostPort(l.Addr())
	known := pcxtls.NewKnownServers(filepath.Join(dir, "known_servers"))

	_, err = pcxtls.Dialer{Trust: pcxtls.Trust{Roots: ca.pool(), Known: known}}.Dial(context.Background(), "127.0.0.2:"+port)

	require.Error(t, err, "a CA-signed certificate for another host is not a case for trust on first use")
	assert.Contains(t, err.Error(), "127.0.0.2")
	assert.NoFileExists(t, known.Path())
}

func TestPinnedFingerprint(t *testing.T) {
	t.Parallel()
	certs := selfSigned(t)
	other := selfSigned(t)
	l := listen(t, certs, pcxtls.ListenOptions{})

	t.Run("the right key is accepted", func(t *testing.T) {
		accepted := accept(l)
		c, err := pcxtls.Dialer{Trust: pcxtls.Trust{Pin: certs.Fingerprint()}}.Dial(context.Background(), l.Addr())
		require.NoError(t, err)
		defer c.Close()
		roundTrip(t, c, accepted)
	})
	t.Run("another key is refused, naming both", func(t *testing.T) {
		_, err := pcxtls.Dialer{Trust: pcxtls.Trust{Pin: other.Fingerprint()}}.Dial(context.Background(), l.Addr())
		require.Error(t, err)
		assert.Contains(t, err.Error(), certs.Fingerprint())
		assert.Contains(t, err.Error(), other.Fingerprint())
	})
}

func TestASelfSignedKeyWithoutPinOrKnownServersIsRefused(t *testing.T) {
	t.Parallel()
	l := listen(t, selfSigned(t), pcxtls.ListenOptions{})

	_, err := pcxtls.Dialer{}.Dial(context.Background(), l.Addr())

	require.Error(t, err)
	assert.Contains(t, err.Error(), "--tls-fingerprint")
}

func TestTrustOnFirstUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	known := pcxtls.NewKnownServers(filepath.Join(dir, "pcx", "known_servers"))
	certs := selfSigned(t)
	l := listen(t, certs, pcxtls.ListenOptions{})
	dial := func(t *testing.T) (ports.Conn, string, error) {
		var notices bytes.Buffer
		accepted := accept(l)
		c, err := pcxtls.Dialer{Trust: pcxtls.Trust{Known: known, Notices: &notices}}.Dial(context.Background(), l.Addr())
		if err == nil {
			roundTrip(t, c, accepted)
			c.Close()
		}
		return c, notices.String(), err
	}

	// first use: recorded, and said
	_, notices, err := dial(t)
	require.NoError(t, err)
	assert.Contains(t, notices, "first connection to "+l.Addr())
	assert.Contains(t, notices, certs.Fingerprint())
	assert.Contains(t, notices, known.Path())
	recorded, err := os.ReadFile(known.Path())
	require.NoError(t, err)
	assert.Equal(t, l.Addr()+" "+certs.Fingerprint()+"\n", string(recorded))
	info, err := os.Stat(known.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// second use: silent
	_, notices, err = dial(t)
	require.NoError(t, err)
	assert.Empty(t, notices)

	// the key changed: refused, loudly
	f, err := os.OpenFile(known.Path(), os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.WriteString("# a comment\nother.example:23481 sha256:00\n" + string(recorded))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	l.Close()
	other := selfSigned(t)
	l2, err := pcxtls.Listen(l.Addr(), pcxtls.ListenOptions{Certificates: other})
	require.NoError(t, err)
	defer l2.Close()
	var notices2 bytes.Buffer
	_, err = pcxtls.Dialer{Trust: pcxtls.Trust{Known: known, Notices: &notices2}}.Dial(context.Background(), l.Addr())

	require.ErrorIs(t, err, pcxtls.ErrKeyChanged)
	warning := notices2.String()
	assert.Contains(t, warning, "HAS CHANGED")
	assert.Contains(t, warning, "recorded:  "+certs.Fingerprint())
	assert.Contains(t, warning, "presented: "+other.Fingerprint())
	assert.Contains(t, warning, "delete line 3 of "+known.Path())
	after, err := os.ReadFile(known.Path())
	require.NoError(t, err)
	assert.NotContains(t, string(after), other.Fingerprint(), "a changed key is not recorded")
}

func TestAPlainClientOnTheTLSPortIsToldAndLogged(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	reply := []byte(`{"status":"error: this port speaks TLS"}`)
	l := listen(t, selfSigned(t), pcxtls.ListenOptions{Log: logs.logger(), PlainReply: reply})
	nc, err := net.Dial("tcp", l.Addr())
	require.NoError(t, err)
	defer nc.Close()
	c := framing.NewConn(nc, framing.Options{})

	require.NoError(t, c.Writer().WriteFrames([][]byte{[]byte(`{"nickname":"Ivan"}`)}))
	require.NoError(t, c.Reader().SetReadDeadline(time.Now().Add(10*time.Second)))
	body, err := c.Reader().ReadRecord(nil, 1<<10)

	require.NoError(t, err)
	assert.Equal(t, string(reply), string(body))
	_, err = c.Reader().ReadRecord(nil, 1<<10)
	assert.ErrorIs(t, err, io.EOF)
	assert.Contains(t, logs.String(), "a plain client connected to the TLS port", "logged before the reply")
}

func TestATLSClientOnThePlainPortIsToldAndLogged(t *testing.T) {
	t.Parallel()
	plain, err := tcp.Listen("127.0.0.1:0", tcp.Options{})
	require.NoError(t, err)
	defer plain.Close()
	serverErr := make(chan error, 1)
	go func() {
		c, err := plain.Accept()
		if err == nil {
			_, err = c.Reader().ReadRecord(nil, 1<<20)
			c.Close()
		}
		serverErr <- err
	}()

	_, err = pcxtls.Dialer{Trust: pcxtls.Trust{SkipVerify: true}}.Dial(context.Background(), plain.Addr())

	require.Error(t, err)
	assert.Contains(t, err.Error(), "is "+plain.Addr()+" the plain port?")
	assert.ErrorIs(t, <-serverErr, framing.ErrTLSOnPlainPort)
}

func TestAClientThatNeverHandshakesIsDroppedAndNeverAccepted(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	l := listen(t, selfSigned(t), pcxtls.ListenOptions{Log: logs.logger(), HandshakeTimeout: 100 * time.Millisecond})
	accepted := accept(l)
	nc, err := net.Dial("tcp", l.Addr())
	require.NoError(t, err)
	defer nc.Close()

	require.NoError(t, nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = nc.Read(make([]byte, 1))

	assert.ErrorIs(t, err, io.EOF, "the server closed the connection")
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "TLS handshake timed out") }, 10*time.Second, 5*time.Millisecond)
	select {
	case c := <-accepted:
		t.Fatalf("a connection that never handshook was accepted: %v", c)
	default:
	}
}

func TestHandshakesDoNotHoldUpTheAcceptLoop(t *testing.T) {
	t.Parallel()
	certs := selfSigned(t)
	l := listen(t, certs, pcxtls.ListenOptions{})
	for range 3 { // silent peers, each in a handshake
		nc, err := net.Dial("tcp", l.Addr())
		require.NoError(t, err)
		defer nc.Close()
	}
	accepted := accept(l)

	c, err := pcxtls.Dialer{Trust: pcxtls.Trust{Pin: certs.Fingerprint()}}.Dial(context.Background(), l.Addr())

	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, accepted)
}

func TestALargePayloadCrossesTLS(t *testing.T) {
	t.Parallel()
	client, server := transporttest.PairFromListener(newLoopback)(t)
	const n = 3<<20 + 17
	data := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	sent := make(chan error, 1)
	go func() { sent <- server.Writer().WritePayload(n, bytes.NewReader(data)) }()

	size, body, err := client.Reader().ReadPayload()
	require.NoError(t, err)
	got, err := io.ReadAll(body)

	require.NoError(t, err)
	require.NoError(t, <-sent)
	assert.Equal(t, int64(n), size)
	assert.True(t, bytes.Equal(data, got))
}

func TestHandshakesBeyondTheLimitWaitForAFreeSlot(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	certs := selfSigned(t)
	l := listen(t, certs, pcxtls.ListenOptions{Log: logs.logger(), MaxHandshakes: 1, HandshakeTimeout: 200 * time.Millisecond})
	silent, err := net.Dial("tcp", l.Addr())
	require.NoError(t, err)
	defer silent.Close()
	accepted := accept(l)

	c, err := pcxtls.Dialer{Trust: pcxtls.Trust{Pin: certs.Fingerprint()}}.Dial(context.Background(), l.Addr())

	require.NoError(t, err, "the second peer is served once the first one's slot is free")
	defer c.Close()
	roundTrip(t, c, accepted)
}
