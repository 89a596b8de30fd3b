//go:build linux

package stream_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// exampleCert makes a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func exampleCert() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
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
		return tls.Certificate{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool, nil
}

// A STARTTLS exchange on one loop: the client says STARTTLS in plaintext,
// the server answers OK, and both upgrade the connection in place; a line
// then goes each way over TLS (bufio over the *tls.Conn).
func ExampleStream_StartTLS() {
	cert, pool, err := exampleCert()
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = aio.Run(func(c *aio.Ctx) (struct{}, error) {
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			if line, err := s.ReadLine(c); err != nil || string(line) != "STARTTLS\n" {
				return fmt.Errorf("want STARTTLS, got %q, %v", line, err)
			}
			s.Write(c, []byte("OK\n")) // StartTLSServer sends it first
			tc, err := s.StartTLSServer(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			if err != nil {
				return err
			}
			defer tc.Close()
			line, err := bufio.NewReader(tc).ReadString('\n')
			if err != nil {
				return err
			}
			_, err = tc.Write([]byte("secret echo: " + line))
			return err
		})
		if err != nil {
			return struct{}{}, err
		}
		s, err := stream.Open(c, "tcp", srv.Addr().String())
		if err != nil {
			return struct{}{}, err
		}
		s.Write(c, []byte("STARTTLS\n"))
		ok, err := s.ReadLine(c)
		if err != nil {
			return struct{}{}, err
		}
		fmt.Print("plaintext: ", string(ok))
		tc, err := s.StartTLS(c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			return struct{}{}, err
		}
		fmt.Printf("TLS 1.3: %v\n", tc.ConnectionState().Version == tls.VersionTLS13)
		tc.Write([]byte("hello\n"))
		reply, err := bufio.NewReader(tc).ReadString('\n')
		if err != nil {
			return struct{}{}, err
		}
		fmt.Print(reply)
		_, err = s.Read(c, 1)
		fmt.Println("the Stream after StartTLS:", err)
		tc.Close()
		s.WaitClosed(c)
		srv.Close()
		return struct{}{}, srv.Wait(c)
	})
	fmt.Println("done:", err)
	// Output:
	// plaintext: OK
	// TLS 1.3: true
	// secret echo: hello
	// the Stream after StartTLS: stream: upgraded to TLS (use its *tls.Conn): read
	// done: <nil>
}
