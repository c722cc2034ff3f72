package wsman

import (
	"crypto"
	_ "crypto/sha256" // endPointHash's hashes
	_ "crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"

	"github.com/bodgit/ntlmssp"
)

// channelBindings returns the channel bindings that tie an NTLM
// authentication to the TLS connection it runs in: RFC 5929's
// tls-server-end-point, "tls-server-end-point:" followed by the hash of the
// server's certificate ([MS-NLMP] 3.1.5.1.2, MsvAvChannelBindings). A
// WinRM HTTPS listener with CbtHardeningLevel=Strict refuses an
// AUTHENTICATE without them. bodgit/ntlmssp turns them into the RFC 2744
// structure and its MD5; only the application data is derived here, as
// bodgit's own http package does. It returns nil (no bindings) for a
// certificate whose signature algorithm names no hash, such as Ed25519,
// which RFC 5929 leaves undefined.
func channelBindings(cs tls.ConnectionState) (*ntlmssp.ChannelBindings, error) {
	if len(cs.PeerCertificates) == 0 {
		return nil, errors.New("TLS connection without a server certificate")
	}
	cert := cs.PeerCertificates[0]
	h := endPointHash(cert.SignatureAlgorithm)
	if h == 0 {
		return nil, nil
	}
	d := h.New()
	d.Write(cert.Raw)
	return &ntlmssp.ChannelBindings{ApplicationData: append([]byte(ntlmssp.TLSServerEndPoint+":"), d.Sum(nil)...)}, nil
}

// endPointHash is the hash RFC 5929 §4.1 prescribes for a certificate
// signed with algo: the signature's own hash, except that MD5 and SHA-1
// are replaced by SHA-256; 0 when the algorithm names no single hash.
func endPointHash(algo x509.SignatureAlgorithm) crypto.Hash {
	switch algo {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		return crypto.SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return crypto.SHA512
	}
	return 0
}
