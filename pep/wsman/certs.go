package wsman

import (
	"crypto/x509"
	"fmt"
	"os"
)

// LoadCAFile reads PEM certificates for verifying an HTTPS endpoint.
func LoadCAFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wsman: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("wsman: CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}
