package e2e_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pcxtls "pcx/adapters/tls"
)

// tlsServer is the server binary running with a plain and a TLS port.
type tlsServer struct {
	plain, tls string // the ports' addresses
	dataDir    string
	log        *output
	cmd        *exec.Cmd
	exited     chan struct{}
}

// startTLSServer runs the built server on two loopback ports with the
// extra flags; it is stopped when the test ends.
func startTLSServer(t *testing.T, dataDir string, flags ...string) *tlsServer {
	t.Helper()
	return startTLSServerOn(t, freeAddr(t), freeAddr(t), dataDir, flags...)
}

func startTLSServerOn(t *testing.T, plain, tlsAddr, dataDir string, flags ...string) *tlsServer {
	t.Helper()
	bin, err := serverBin.Path()
	require.NoError(t, err)
	args := append([]string{"--listen", plain, "--tls-listen", tlsAddr, "--data-dir", dataDir, "--spool-dir", t.TempDir()}, flags...)
	s := &tlsServer{plain: plain, tls: tlsAddr, dataDir: dataDir, log: newOutput(), cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	s.cmd.Env = []string{"PATH=/usr/bin:/bin"}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	require.NoError(t, s.cmd.Start())
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(s.stop)
	s.log.waitFor(t, "listening for TLS")
	s.log.waitFor(t, `msg=listening`)
	return s
}

func (s *tlsServer) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.exited
}

// printFingerprint runs pcx-server --print-fingerprint on dataDir.
func printFingerprint(t *testing.T, dataDir string) string {
	t.Helper()
	bin, err := serverBin.Path()
	require.NoError(t, err)
	out, err := exec.Command(bin, "--print-fingerprint", "--data-dir", dataDir).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// clientEnv is a client's environment with its own config directory.
func clientEnv(t *testing.T) (env []string, knownServers string) {
	home := t.TempDir()
	return []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config")},
		filepath.Join(home, "config", "pcx", "known_servers")
}

func TestBinaryTLSTrustOnFirstUse(t *testing.T) {
	dataDir := t.TempDir()
	fingerprint := printFingerprint(t, dataDir)
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, fingerprint)
	require.Equal(t, fingerprint, printFingerprint(t, dataDir), "the key is kept")
	srv := startTLSServer(t, dataDir)
	srv.log.waitFor(t, fingerprint)
	env, known := clientEnv(t)

	code, _, stderr := runBinary(t, strings.NewReader("hello over TLS\n\n"), env, "--tls", "--server", srv.tls, "Olga")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "first connection to "+srv.tls)
	assert.Contains(t, stderr, fingerprint)
	recorded, err := os.ReadFile(known)
	require.NoError(t, err)
	assert.Equal(t, srv.tls+" "+fingerprint+"\n", string(recorded))

	code, _, stderr = runBinary(t, strings.NewReader("again\n\n"), env, "--server", "tls://"+srv.tls, "Olga")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr, "first connection")
	assert.NotContains(t, stderr, "sha256:")

	// The operator makes a new key: the client refuses, loudly.
	srv.stop()
	require.NoError(t, os.Remove(filepath.Join(dataDir, pcxtls.SelfSignedFile)))
	srv = startTLSServerOn(t, freeAddr(t), srv.tls, dataDir)
	newFingerprint := printFingerprint(t, dataDir)
	require.NotEqual(t, fingerprint, newFingerprint)

	code, _, stderr = runBinary(t, strings.NewReader("never sent\n\n"), env, "--tls", "--server", srv.tls, "Olga")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "HAS CHANGED")
	assert.Contains(t, stderr, "recorded:  "+fingerprint)
	assert.Contains(t, stderr, "presented: "+newFingerprint)
	assert.Contains(t, stderr, "delete line 1 of "+known)
	assert.Contains(t, stderr, "refusing to connect")
}

func TestBinaryTLSPinnedFingerprint(t *testing.T) {
	dataDir := t.TempDir()
	srv := startTLSServer(t, dataDir)
	fingerprint := printFingerprint(t, dataDir)
	env, known := clientEnv(t)

	code, _, stderr := runBinary(t, strings.NewReader("pinned\n\n"), env, "--tls-fingerprint", fingerprint, "--server", srv.tls, "Olga")
	require.Equal(t, 0, code, stderr)
	assert.NoFileExists(t, known, "a pinned key is not recorded")

	wrong := "sha256:" + strings.Repeat("0", 64)
	code, _, stderr = runBinary(t, strings.NewReader("never sent\n\n"), env, "--tls-fingerprint", wrong, "--server", srv.tls, "Olga")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "presented key "+fingerprint+", not the pinned "+wrong)
}

func TestBinaryTLSPortMixUps(t *testing.T) {
	srv := startTLSServer(t, t.TempDir())
	env, _ := clientEnv(t)

	t.Run("plain client on the TLS port", func(t *testing.T) {
		code, _, stderr := runBinary(t, strings.NewReader("x\n\n"), env, "--server", srv.tls, "Olga")
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, "this port speaks TLS")
		srv.log.waitFor(t, "a plain client connected to the TLS port")
	})
	t.Run("TLS client on the plain port", func(t *testing.T) {
		code, _, stderr := runBinary(t, strings.NewReader("x\n\n"), env, "--tls", "--server", srv.plain, "Olga")
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, "is "+srv.plain+" the plain port?")
		srv.log.waitFor(t, "a TLS client on the plain port")
	})
	t.Run("plain client on the plain port", func(t *testing.T) {
		code, _, stderr := runBinary(t, strings.NewReader("x\n\n"), env, "--server", srv.plain, "Olga")
		assert.Equal(t, 0, code, stderr)
		assert.NotContains(t, stderr, "not encrypted", "loopback is not warned about")
	})
}

// testCA is a certificate authority made in a test's temp dir.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pemPath string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pcx e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	return &testCA{cert: cert, key: key, pemPath: path}
}

// issue writes a certificate for 127.0.0.1 and its key to the given paths
// and returns the key's fingerprint.
func (ca *testCA) issue(t *testing.T, certPath, keyPath string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	// Written beside and renamed, as an operator's tool would.
	require.NoError(t, os.WriteFile(certPath+".new", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyPath+".new", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	require.NoError(t, os.Rename(keyPath+".new", keyPath))
	require.NoError(t, os.Rename(certPath+".new", certPath))
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return pcxtls.Fingerprint(leaf)
}

// presented names the key the server at addr presents now.
func presented(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	require.NoError(t, err)
	defer c.Close()
	return pcxtls.Fingerprint(c.ConnectionState().PeerCertificates[0])
}

func TestBinaryTLSWithACACertificateAndSIGHUPReload(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := ca.issue(t, certPath, keyPath)
	srv := startTLSServer(t, t.TempDir(), "--tls-cert", certPath, "--tls-key", keyPath)
	env, known := clientEnv(t)
	env = append(env, "SSL_CERT_FILE="+ca.pemPath)

	code, _, stderr := runBinary(t, strings.NewReader("signed\n\n"), env, "--tls", "--server", srv.tls, "Olga")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr, "first connection", "a CA-signed server needs no trust on first use")
	assert.NoFileExists(t, known)

	// Ivan stays connected across the reload.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ivan := exec.CommandContext(ctx, clientBinary(t), "--tls", "--server", srv.tls, "Ivan")
	ivan.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	ivanIn, err := ivan.StdinPipe()
	require.NoError(t, err)
	ivanOut, ivanErr := newOutput(), newOutput()
	ivan.Stdout, ivan.Stderr = ivanOut, ivanErr
	require.NoError(t, ivan.Start())
	ivanErr.waitFor(t, "logged in as Ivan")

	second := ca.issue(t, certPath, keyPath)
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGHUP))
	srv.log.waitFor(t, "TLS certificate reloaded")

	assert.NotEqual(t, first, second)
	assert.Equal(t, second, presented(t, srv.tls), "the next handshake gets the new certificate")
	code, _, stderr = runBinary(t, strings.NewReader("after the reload\n\n"), env, "--tls", "--server", srv.tls, "Maria")
	require.Equal(t, 0, code, stderr)
	ivanOut.waitFor(t, "Maria: after the reload")
	_, err = io.WriteString(ivanIn, "still here\n\n")
	require.NoError(t, err)
	require.NoError(t, ivanIn.Close())
	require.NoError(t, ivan.Wait(), ivanErr.String())
	assert.Contains(t, srv.log.String(), `msg="logged in" peer=`)
}
