//go:build linux

package stream_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "aio test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// A crypto/tls client over Conn(c) completes a handshake with a Go
// crypto/tls server (certificate verified) and exchanges data both ways.
func TestTLSClient(t *testing.T) {
	cert, pool := selfSigned(t)
	addr, stop := peer(t, func(cn net.Conn) {
		tc := tls.Server(cn, &tls.Config{Certificates: []tls.Certificate{cert}})
		defer tc.Close()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(tc, buf); err != nil {
			return
		}
		tc.Write(append([]byte("tls "), buf...))
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		tc := tls.Client(s.Conn(c), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err := tc.Handshake(); err != nil {
			t.Errorf("Handshake: %v", err)
			return nil
		}
		if _, err := tc.Write([]byte("hello")); err != nil {
			t.Errorf("Write: %v", err)
		}
		buf := make([]byte, 9)
		if _, err := io.ReadFull(tc, buf); err != nil || string(buf) != "tls hello" {
			t.Errorf("reply %q, %v", buf, err)
		}
		if st := tc.ConnectionState(); !st.HandshakeComplete {
			t.Errorf("handshake not complete")
		}
		return nil
	})
}
