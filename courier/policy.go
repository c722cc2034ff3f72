package courier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// PolicyFile is the site policy's file name inside the configuration folder.
const PolicyFile = "policy.json"

// Transfer routes a policy can allow.
const (
	RouteFile     = "file"      // the artefact file (with its manifest) on removable media
	RouteQRScreen = "qr-screen" // QR codes shown on a screen or saved as images
	RoutePaper    = "paper"     // the printable A4 sheet of QR codes
)

// Routes lists the routes in the order help texts name them.
var Routes = []string{RouteFile, RouteQRScreen, RoutePaper}

// Policy is a site's rules for what crosses the air gap: what a release
// needs (reviewers, a change ticket, the medium's ID), what an import needs
// (a manifest, a trusted signer) and which routes are allowed.
type Policy struct {
	MinReviewers         int      `json:"minReviewers,omitempty"`
	RequireTicket        bool     `json:"requireTicket,omitempty"`
	RequireMedia         bool     `json:"requireMedia,omitempty"`
	RequireManifest      bool     `json:"requireManifest,omitempty"`
	RequireTrustedSigner bool     `json:"requireTrustedSigner,omitempty"`
	Routes               []string `json:"routes,omitempty"` // empty: every route
}

// maxPolicyFile bounds a policy file; one is a few hundred bytes.
const maxPolicyFile = 64 << 10

// ParsePolicy reads a policy's JSON. Unknown fields are an error, not
// ignored: a misspelt rule ("requireTiket") must not silently not apply.
func ParsePolicy(data []byte) (Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("not a policy: %v (the fields are minReviewers, requireTicket, requireMedia, requireManifest, requireTrustedSigner, routes)", err)
	}
	if dec.More() {
		return Policy{}, errors.New("not a policy: more than one JSON value")
	}
	if p.MinReviewers < 0 || p.MinReviewers > 10 {
		return Policy{}, fmt.Errorf("minReviewers %d is out of range; give 0 to 10", p.MinReviewers)
	}
	for _, r := range p.Routes {
		if !slices.Contains(Routes, r) {
			return Policy{}, fmt.Errorf("route %q is not one of %s", r, strings.Join(Routes, ", "))
		}
	}
	if p.Routes != nil && len(p.Routes) == 0 {
		return Policy{}, errors.New(`routes is empty, which would allow no transfer at all; list the allowed routes or leave the field out`)
	}
	return p, nil
}

// ReadPolicy reads the policy file at path.
func ReadPolicy(path string) (Policy, error) {
	data, err := ReadRegular(path, maxPolicyFile)
	if err != nil {
		return Policy{}, fmt.Errorf("read the site policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return Policy{}, fmt.Errorf("the site policy %s: %w; correct it, or ask who set it", path, err)
	}
	return p, nil
}

// Allows reports whether the policy allows route.
func (p Policy) Allows(route string) bool {
	return len(p.Routes) == 0 || slices.Contains(p.Routes, route)
}
