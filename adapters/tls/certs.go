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

// Self-signed certificate files kept in the data directory.
const (
	SelfSignedCertFile = "tls-cert.pem"
	SelfSignedKeyFile  = "tls-key.pem"
)

// LoadOrCreateSelfSigned returns the server's self-signed certificate kept
// in dir, making one first when there is none: an ECDSA P-256 key (file
// mode 0600) and a certificate on it valid for 100 years, since clients
// check its key, not its dates or names. created tells which happened.
func LoadOrCreateSelfSigned(dir string) (cert tls.Certificate, created bool, err error) {
	certPath, keyPath := filepath.Join(dir, SelfSignedCertFile), filepath.Join(dir, SelfSignedKeyFile)
	cert, err = loadKeyPair(certPath, keyPath)
	if err == nil {
		return cert, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, false, err
	}
	if err := createSelfSigned(dir, certPath, keyPath); err != nil {
		return tls.Certificate{}, false, err
	}
	cert, err = loadKeyPair(certPath, keyPath)
	return cert, err == nil, err
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

func createSelfSigned(dir, certPath, keyPath string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tls: data directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("tls: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("tls: serial number: %w", err)
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
		return fmt.Errorf("tls: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("tls: encode key: %w", err)
	}
	// The key first: a certificate without its key would be read as
	// damage on the next start, a key without its certificate as none.
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeNew(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeNew writes a file through a temporary one and a rename, so that a
// crash never leaves half a key; the mode is set at creation, so the key
// is never readable by others, not even for a moment.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	return nil
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

// getCertificate is tls.Config.GetCertificate.
func (c *Certificates) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}
