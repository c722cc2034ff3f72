package pepsim

import "crypto/x509"

// CertPEM returns the PEM certificate of an HTTPS simulator's CA
// (Options.TLS), for the client's CA file; nil for plain HTTP.
func (s *Server) CertPEM() []byte { return s.certPEM }

// CertPool returns a pool holding the HTTPS simulator's CA certificate; nil
// for plain HTTP.
func (s *Server) CertPool() *x509.CertPool {
	if s.certPEM == nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.certPEM)
	return p
}
