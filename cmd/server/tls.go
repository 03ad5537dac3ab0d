package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"pcx/adapters/dictcodec"
	"pcx/adapters/tcp"
	pcxtls "pcx/adapters/tls"
)

// loadCertificates returns the certificate the TLS port (and, with
// --web-tls, the web port) serves: the files of --tls-cert/--tls-key, else
// the self-signed one kept in --data-dir (made on first start; created
// says so). Nil when nothing speaks TLS.
func loadCertificates(s settings) (certs *pcxtls.Certificates, created bool, err error) {
	if s.TLSListen == "" && !s.PrintFingerprint && !(s.WebTLS && s.WebListen != "") {
		return nil, false, nil
	}
	if s.TLSCert != "" {
		certs, err := pcxtls.LoadCertificates(s.TLSCert, s.TLSKey)
		return certs, false, err
	}
	if s.DataDir == "" {
		return nil, false, errors.New("no --data-dir, and neither XDG_STATE_HOME nor HOME is set: nowhere to keep the TLS key")
	}
	cert, created, err := pcxtls.LoadOrCreateSelfSigned(s.DataDir)
	if err != nil {
		return nil, false, err
	}
	return pcxtls.FixedCertificate(cert), created, nil
}

// logCertificate says which certificate the TLS port serves, with the
// fingerprint clients check. It is logged once the ports are open, so that
// a server that cannot start says only why.
func logCertificate(log *slog.Logger, s settings, certs *pcxtls.Certificates, created bool) {
	if certs.Reloadable() {
		log.Info("TLS certificate", "fingerprint", certs.Fingerprint(), "cert", s.TLSCert)
		return
	}
	log.Info("TLS certificate (self-signed; clients check this fingerprint)",
		"fingerprint", certs.Fingerprint(), "dir", s.DataDir, "created", created)
}

// listenTLS opens the TLS listener of --tls-listen.
func listenTLS(s settings, certs *pcxtls.Certificates, log *slog.Logger) (*pcxtls.Listener, error) {
	l, err := pcxtls.Listen(s.TLSListen, pcxtls.ListenOptions{
		TCP:              tcpOptions(s),
		Certificates:     certs,
		HandshakeTimeout: s.TLSHandshakeTimeout,
		MaxHandshakes:    s.TLSMaxHandshakes,
		PlainReply:       plainOnTLSReply(),
		Log:              log,
	})
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	log.Info("listening for TLS", "addr", l.Addr())
	return l, nil
}

func tcpOptions(s settings) tcp.Options {
	return tcp.Options{WriteTimeout: s.WriteTimeout, ReadTimeout: s.ReadTimeout, KeepAlive: tcp.ServerKeepAlive}
}

// errPlainOnTLSPort is what a plain client on the TLS port is told, as the
// refusal of its login.
var errPlainOnTLSPort = errors.New("this port speaks TLS: connect with TLS (pcx-client --tls), or to the plain port")

// plainOnTLSReply is the refused-login record sent to a plain client that
// dialled the TLS port, so that it tells its user why.
func plainOnTLSReply() []byte {
	return dictcodec.AppendStatus(nil, errPlainOnTLSPort)
}

// reloadOnHangup rereads the certificate files on every SIGHUP until ctx
// ends; connections already open keep theirs.
func reloadOnHangup(ctx context.Context, certs *pcxtls.Certificates, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			reloadCertificates(certs, log)
		}
	}
}

// reloadCertificates is what a SIGHUP does.
func reloadCertificates(certs *pcxtls.Certificates, log *slog.Logger) {
	if !certs.Reloadable() {
		log.Info("SIGHUP: the TLS certificate is the self-signed one; nothing to reload")
		return
	}
	if err := certs.Reload(); err != nil {
		log.Error("SIGHUP: TLS certificate not reloaded; the old one stays", "err", err)
		return
	}
	log.Info("SIGHUP: TLS certificate reloaded", "fingerprint", certs.Fingerprint())
}
