package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// FingerprintPrefix starts every key fingerprint.
const FingerprintPrefix = "sha256:"

// Fingerprint names a certificate's public key: "sha256:" and the
// lower-case hex of the SHA-256 of its DER SubjectPublicKeyInfo. It names
// the key, not the certificate, so a certificate renewed on the same key
// keeps its fingerprint (as with irssi's tls_pinned_pubkey).
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return FingerprintPrefix + hex.EncodeToString(sum[:])
}

// ParseFingerprint checks a fingerprint as a user typed it and returns it
// in the form Fingerprint gives (upper-case hex and colons are accepted).
func ParseFingerprint(s string) (string, error) {
	hexPart, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), FingerprintPrefix)
	if !ok {
		return "", fmt.Errorf("tls: fingerprint %q does not start with %q", s, FingerprintPrefix)
	}
	hexPart = strings.ReplaceAll(hexPart, ":", "")
	if b, err := hex.DecodeString(hexPart); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("tls: fingerprint %q is not %q and 64 hex digits", s, FingerprintPrefix)
	}
	return FingerprintPrefix + hexPart, nil
}

// SelfSignedFile is the file in the data directory that keeps the
// self-signed key and its certificate, together (mode 0600), so that the
// pair is made and replaced whole.
const SelfSignedFile = "tls-self-signed.pem"

// LoadOrCreateSelfSigned returns the server's self-signed certificate kept
// in dir, making one first when there is none: an ECDSA P-256 key and a
// certificate on it valid for 100 years, since clients check its key, not
// its dates or names. created tells which happened. Two processes starting
// at once agree on one key: the file is made by a hard link, which fails
// when another made it first, and the loser reads the winner's.
func LoadOrCreateSelfSigned(dir string) (cert tls.Certificate, created bool, err error) {
	path := filepath.Join(dir, SelfSignedFile)
	cert, err = loadKeyPair(path, path)
	if err == nil {
		return cert, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, false, err
	}
	created, err = createSelfSigned(dir, path)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	cert, err = loadKeyPair(path, path)
	return cert, created && err == nil, err
}

// loadKeyPair reads a certificate and its key, and parses the leaf (which
// Fingerprint needs).
func loadKeyPair(certPath, keyPath string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls: load %s and %s: %w", certPath, keyPath, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("tls: parse %s: %w", certPath, err)
		}
	}
	return cert, nil
}

// createSelfSigned makes a key and its certificate at path, unless another
// process made them first (created false).
func createSelfSigned(dir, path string) (created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("tls: data directory: %w", err)
	}
	pemBytes, err := newSelfSigned()
	if err != nil {
		return false, err
	}
	return linkNew(path, pemBytes)
}

// newSelfSigned returns a new key and a certificate on it, in PEM.
func newSelfSigned() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tls: serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "pcx-server"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(100, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tls: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tls: encode key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...), nil
}

// linkNew writes data to a temporary file (mode 0600 from its creation, so
// the key is never readable by others, not even for a moment) and links
// it to path, which must not exist yet: a crash never leaves half a key,
// and of two processes only one makes the file (created false for the
// other).
func linkNew(path string, data []byte) (created bool, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return false, fmt.Errorf("tls: write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("tls: write %s: %w", path, err)
	}
	switch err := os.Link(f.Name(), path); {
	case errors.Is(err, fs.ErrExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("tls: write %s: %w", path, err)
	}
	return true, nil
}

// Certificates is the server's certificate, swapped whole while handshakes
// read it: Reload reads new files and the next handshake gets them, while
// the connections already open go on with theirs.
type Certificates struct {
	current           atomic.Pointer[tls.Certificate]
	certPath, keyPath string // files Reload reads; empty for a fixed certificate
}

// FixedCertificate serves one certificate for good (the self-signed one).
func FixedCertificate(cert tls.Certificate) *Certificates {
	c := &Certificates{}
	c.current.Store(&cert)
	return c
}

// LoadCertificates reads a certificate (with its chain) and its key from
// PEM files, which Reload reads again.
func LoadCertificates(certPath, keyPath string) (*Certificates, error) {
	c := &Certificates{certPath: certPath, keyPath: keyPath}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again and serves them from the next handshake
// on. If they do not load, the certificate in use stays.
func (c *Certificates) Reload() error {
	if c.certPath == "" {
		return errors.New("tls: the certificate is not read from files; nothing to reload")
	}
	cert, err := loadKeyPair(c.certPath, c.keyPath)
	if err != nil {
		return err
	}
	c.current.Store(&cert)
	return nil
}

// Current is the certificate served now.
func (c *Certificates) Current() *tls.Certificate { return c.current.Load() }

// Fingerprint names the key of the certificate served now.
func (c *Certificates) Fingerprint() string { return Fingerprint(c.Current().Leaf) }

// Reloadable tells whether Reload reads files.
func (c *Certificates) Reloadable() bool { return c.certPath != "" }

// ServerConfig is the configuration of a server that serves these
// certificates, the one in force at each handshake, over TLS 1.3 only.
func (c *Certificates) ServerConfig() *tls.Config {
	return &tls.Config{MinVersion: MinVersion, GetCertificate: c.getCertificate}
}

// getCertificate is tls.Config.GetCertificate.
func (c *Certificates) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}
