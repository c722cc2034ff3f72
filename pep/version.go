package pep

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a .NET System.Version such as 1.2311.2.23.
type Version [4]int

// ParseVersion parses two to four dot-separated non-negative numbers.
func ParseVersion(s string) (Version, error) {
	var v Version
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 || len(parts) > 4 {
		return v, fmt.Errorf("pep: %q is not a version like 1.2311.2.23", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("pep: %q is not a version like 1.2311.2.23", s)
		}
		v[i] = n
	}
	return v, nil
}

// MustVersion parses a constant version; it panics on a typo.
func MustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Compare returns -1, 0 or +1 as v is less than, equal to or greater than w.
func (v Version) Compare(w Version) int {
	for i := range v {
		switch {
		case v[i] < w[i]:
			return -1
		case v[i] > w[i]:
			return 1
		}
	}
	return 0
}

// String returns the dotted form with four parts.
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d.%d", v[0], v[1], v[2], v[3]) }

// Version gates of RegisterWithAzure.psm1 (azure-registration.md §2.3).
var (
	// MinCustomBilling: Custom billing and MsAssetTag need at least this stamp.
	MinCustomBilling = MustVersion("1.1912.0.19")
	// MinTokenVersion: TokenVersion is passed from this stamp on.
	MinTokenVersion = MustVersion("1.2008.0.49")
	// TokenVersion6After: stamps newer than this get token version 6.0.
	TokenVersion6After = MustVersion("1.2309.0.4")
	// HCIKeyPairAfter: stamps newer than this with more than one node run
	// Set-RegistrationKeyPair before the token (HCI licensing).
	HCIKeyPairAfter = MustVersion("1.2209.0.23")
)
