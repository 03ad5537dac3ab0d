package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/adapters/tcp"
	pcxtls "pcx/adapters/tls"
	"pcx/ports"
)

func TestPrintFingerprintMakesTheKeyOnceAndPrintsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var out, errOut bytes.Buffer

	require.Equal(t, 0, run([]string{"--print-fingerprint", "--data-dir", dir}, noEnv, &out, &errOut), errOut.String())
	first := strings.TrimSpace(out.String())
	out.Reset()
	require.Equal(t, 0, run([]string{"--print-fingerprint", "--data-dir", dir}, noEnv, &out, &errOut), errOut.String())

	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, first)
	assert.Equal(t, first, strings.TrimSpace(out.String()), "the key is reused")
	info, err := os.Stat(filepath.Join(dir, pcxtls.SelfSignedFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestDataDirDefaultsToTheXDGStateHome(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"XDG_STATE_HOME": {map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/pcx"},
		"HOME":           {map[string]string{"HOME": "/h"}, "/h/.local/state/pcx"},
		"PCX_DATA_DIR":   {map[string]string{"PCX_DATA_DIR": "/d", "HOME": "/h"}, "/d"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := parseSettings(nil, env(tc.env), io.Discard)
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.DataDir)
		})
	}
}

func TestTLSSettingsThatCannotWork(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"every port off":       {[]string{"--listen", "", "--tls-listen", "", "--web-listen", ""}, "nothing to listen on"},
		"a certificate alone":  {[]string{"--tls-cert", "c.pem"}, "go together"},
		"a key alone":          {[]string{"--tls-key", "k.pem"}, "go together"},
		"no handshake allowed": {[]string{"--tls-max-handshakes", "0"}, "at least 1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(tc.args, noEnv, io.Discard, &out)
			assert.Equal(t, 2, code)
			assert.Contains(t, out.String(), tc.want)
		})
	}
}

func TestTLSOnlyAndPlainOnlyAreFine(t *testing.T) {
	for _, args := range [][]string{{"--listen", ""}, {"--tls-listen", ""}, {"--listen", "", "--web-listen", ""}} {
		_, err := parseSettings(args, noEnv, io.Discard)
		assert.NoError(t, err, args)
	}
}

func TestReloadCertificatesSwapsTheFilesOrKeepsTheOld(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	copyPair := func(from string) {
		// The self-signed file holds both, so it serves as either.
		b, err := os.ReadFile(filepath.Join(from, pcxtls.SelfSignedFile))
		require.NoError(t, err)
		for _, dst := range []string{certPath, keyPath} {
			require.NoError(t, os.WriteFile(dst, b, 0o600))
		}
	}
	makePair := func() (string, string) {
		d := t.TempDir()
		cert, _, err := pcxtls.LoadOrCreateSelfSigned(d)
		require.NoError(t, err)
		return d, pcxtls.Fingerprint(cert.Leaf)
	}
	oldDir, oldPrint := makePair()
	newDir, newPrint := makePair()
	copyPair(oldDir)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	certs, _, err := loadCertificates(settings{TLSListen: ":0", TLSCert: certPath, TLSKey: keyPath})
	require.NoError(t, err)
	require.Equal(t, oldPrint, certs.Fingerprint())

	copyPair(newDir)
	reloadCertificates(certs, log)
	assert.Equal(t, newPrint, certs.Fingerprint())
	assert.Contains(t, logs.String(), "TLS certificate reloaded")

	require.NoError(t, os.WriteFile(certPath, []byte("torn"), 0o600))
	reloadCertificates(certs, log)
	assert.Equal(t, newPrint, certs.Fingerprint(), "a failed reload keeps the certificate in use")
	assert.Contains(t, logs.String(), "the old one stays")
}

func TestAPlainClientOnTheTLSPortIsRefusedInTheProtocolsWords(t *testing.T) {
	assert.Equal(t, `{"status":"error: this port speaks TLS: connect with TLS (pcx-client --tls), or to the plain port"}`, string(plainOnTLSReply()))
}

// login logs nick in over c and returns the server's status reply.
func login(t *testing.T, c ports.Conn, nick string) string {
	t.Helper()
	require.NoError(t, c.Writer().WriteFrames([][]byte{dictcodec.AppendLogin(nil, nick)}))
	body, err := c.Reader().ReadRecord(nil, 1<<16)
	require.NoError(t, err)
	return string(body)
}

func TestTheWiredServerSpeaksTLSAloneOrBesidePlain(t *testing.T) {
	cases := map[string]settings{
		"TLS only":      {Listen: "", TLSListen: "127.0.0.1:0"},
		"plain and TLS": {Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0"},
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			s.DataDir, s.SpoolDir = t.TempDir(), t.TempDir()
			s.WriteTimeout, s.ShutdownGrace, s.TLSMaxHandshakes = 10*time.Second, time.Second, 8
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			certs, _, err := loadCertificates(s)
			require.NoError(t, err)
			srv, cleanup, err := initServer(s, certs, nil, log)
			require.NoError(t, err)
			// Read before Serve starts logging from other goroutines.
			tlsAddr := regexp.MustCompile(`msg="listening for TLS" addr=(\S+)`).FindStringSubmatch(logs.String())[1]
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- srv.Serve(ctx) }()
			defer func() {
				cancel()
				require.NoError(t, <-done)
				cleanup()
			}()
			if s.Listen != "" {
				plain, err := tcp.Dialer{}.Dial(context.Background(), srv.Addr())
				require.NoError(t, err)
				defer plain.Close()
				assert.Contains(t, login(t, plain, "Plain"), "success")
			} else {
				assert.Equal(t, tlsAddr, srv.Addr())
			}

			c, err := pcxtls.Dialer{Trust: pcxtls.Trust{Pin: certs.Fingerprint()}}.Dial(context.Background(), tlsAddr)
			require.NoError(t, err)
			defer c.Close()

			assert.Contains(t, login(t, c, "Secret"), "success")
		})
	}
}

func TestABusyTLSPortIsOneLineAndExitOne(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	var out bytes.Buffer

	code := run([]string{"--listen", "127.0.0.1:0", "--tls-listen", busy.Addr().String(), "--data-dir", t.TempDir(), "--web-listen", ""}, noEnv, io.Discard, &out)

	require.Equal(t, 1, code)
	require.Equal(t, 1, strings.Count(out.String(), "\n"), "output: %q", out.String())
	require.Contains(t, out.String(), "address already in use")
}
