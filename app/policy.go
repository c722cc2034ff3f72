package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
)

// Transfer routes a site policy can allow (see PolicyView.Routes).
const (
	RouteFile     = courier.RouteFile
	RouteQRScreen = courier.RouteQRScreen
	RoutePaper    = courier.RoutePaper
)

// routeQR is an import of QR codes, which may come from a screen or a
// printed sheet.
const routeQR = "qr"

// Review is what a release records about its review, in the manifest and
// the custody ledger: who reviewed it, the change ticket, and the removable
// medium it leaves on (filled in from the drive when it is one this
// computer knows).
type Review struct {
	Reviewers []string
	Ticket    string
	Media     string
}

// detail says the review for a ledger entry: "" when there is none.
func (r Review) detail() string {
	var parts []string
	if len(r.Reviewers) > 0 {
		parts = append(parts, "reviewed by "+strings.Join(r.Reviewers, ", "))
	}
	if r.Ticket != "" {
		parts = append(parts, "ticket "+r.Ticket)
	}
	if r.Media != "" {
		parts = append(parts, "media "+r.Media)
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// clean trims the values and drops empty and repeated reviewers.
func (r Review) clean() Review {
	var names []string
	for _, n := range r.Reviewers {
		n = strings.TrimSpace(n)
		if n != "" && !slices.ContainsFunc(names, func(x string) bool { return strings.EqualFold(x, n) }) {
			names = append(names, n)
		}
	}
	return Review{Reviewers: names, Ticket: strings.TrimSpace(r.Ticket), Media: strings.TrimSpace(r.Media)}
}

// PolicyError is a release or import the site policy refuses: the rule,
// what is wrong and what to do. Missing is set when a value the person did
// not give would satisfy it (the CLI's usage error, exit 2).
type PolicyError struct {
	Rule    string // as in policy.json, e.g. "minReviewers 2"
	Problem string
	Fix     string
	Missing bool
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("the site policy (%s) refuses this: %s; %s", e.Rule, e.Problem, e.Fix)
}

// PolicyView is the site policy in force, for the GUI and 'policy show'.
type PolicyView struct {
	Path                 string   `json:"path"` // "" when no policy applies
	MinReviewers         int      `json:"minReviewers"`
	RequireTicket        bool     `json:"requireTicket"`
	RequireMedia         bool     `json:"requireMedia"`
	RequireManifest      bool     `json:"requireManifest"`
	RequireTrustedSigner bool     `json:"requireTrustedSigner"`
	Routes               []string `json:"routes"` // the allowed routes
}

// policy returns the site policy: the file named by PolicyPath, which must
// exist, or policy.json in the configuration folder when there is one. No
// policy is an empty one; a damaged one is an error, never no policy.
func (e *Env) policy() (courier.Policy, string, error) {
	path := e.PolicyPath
	if path == "" {
		path = filepath.Join(e.ConfigDir, courier.PolicyFile)
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			return courier.Policy{}, "", nil
		}
	}
	p, err := courier.ReadPolicy(path)
	return p, path, err
}

// Policy returns the site policy in force.
func (s *Service) Policy() (PolicyView, error) {
	p, path, err := s.env.policy()
	if err != nil {
		return PolicyView{}, err
	}
	v := PolicyView{Path: path, MinReviewers: p.MinReviewers, RequireTicket: p.RequireTicket, RequireMedia: p.RequireMedia,
		RequireManifest: p.RequireManifest, RequireTrustedSigner: p.RequireTrustedSigner, Routes: p.Routes}
	if len(v.Routes) == 0 {
		v.Routes = courier.Routes
	}
	return v, nil
}

// CheckRelease reports whether the site policy allows releasing an
// artefact by route with review, written to path ("" when not a file):
// commands call it before slow work, and every export checks it again.
func (s *Service) CheckRelease(route string, review Review, path string) error {
	_, err := s.env.checkRelease(route, review, path)
	return err
}

// checkRelease applies the policy to a release and returns the review as
// recorded (cleaned, the medium filled in from the drive when known).
func (e *Env) checkRelease(route string, review Review, path string) (Review, error) {
	review = review.clean()
	if review.Media == "" && path != "" {
		if d, ok := driveOf(RemovableDrives(), absPath(path)); ok {
			review.Media = d.Title()
		}
	}
	p, where, err := e.policy()
	if err != nil {
		return review, err
	}
	rule := func(r string) string { return r + " in " + where }
	switch {
	case !p.Allows(route):
		return review, &PolicyError{Rule: rule("routes " + strings.Join(p.Routes, ", ")), Problem: routeName(route) + " is not an allowed route",
			Fix: "carry it by " + strings.Join(routeNames(p.Routes), " or ")}
	case len(review.Reviewers) < p.MinReviewers:
		return review, &PolicyError{Rule: rule(fmt.Sprintf("minReviewers %d", p.MinReviewers)), Missing: true,
			Problem: fmt.Sprintf("a release needs %d reviewers, and %s", p.MinReviewers, countReviewers(len(review.Reviewers))),
			Fix:     fmt.Sprintf("name each reviewer (--reviewer NAME, %d times)", p.MinReviewers)}
	case p.RequireTicket && review.Ticket == "":
		return review, &PolicyError{Rule: rule("requireTicket"), Missing: true, Problem: "a release needs its change ticket",
			Fix: "give the ticket (--ticket ID)"}
	case p.RequireMedia && review.Media == "":
		return review, &PolicyError{Rule: rule("requireMedia"), Missing: true, Problem: "a release needs the label or serial of the removable medium",
			Fix: "write to a removable drive this computer knows, or give the medium (--media ID)"}
	}
	return review, nil
}

// checkImport applies the policy to an artefact brought in by route, with
// the manifest m and its origin (nil without a manifest).
func (e *Env) checkImport(route string, m *courier.Manifest, origin *Origin) error {
	p, where, err := e.policy()
	if err != nil {
		return err
	}
	rule := func(r string) string { return r + " in " + where }
	allowed := p.Allows(route)
	if route == routeQR { // a screen or a scanned sheet: they look the same
		allowed = p.Allows(RouteQRScreen) || p.Allows(RoutePaper)
	}
	switch {
	case !allowed:
		return &PolicyError{Rule: rule("routes " + strings.Join(p.Routes, ", ")), Problem: routeName(route) + " is not an allowed route",
			Fix: "bring it by " + strings.Join(routeNames(p.Routes), " or ")}
	case p.RequireManifest && m == nil:
		return &PolicyError{Rule: rule("requireManifest"), Problem: "the artefact has no manifest beside it",
			Fix: "bring the .courier.json manifest written with it, in the same folder"}
	case p.RequireTrustedSigner && (origin == nil || !origin.Signed):
		return &PolicyError{Rule: rule("requireTrustedSigner"), Problem: "the artefact is not signed (" + unsignedWhy(route, m) + ")",
			Fix: "bring the file with the signed manifest its writer made"}
	case p.RequireTrustedSigner && !origin.Trusted:
		return &PolicyError{Rule: rule("requireTrustedSigner"), Problem: "it is signed by " + origin.Fingerprint + ", which is not a trusted key",
			Fix: "compare the fingerprint with its owner, then 'azs-courier trust add' their public key"}
	}
	return nil
}

func unsignedWhy(route string, m *courier.Manifest) string {
	switch {
	case route != RouteFile:
		return "QR codes and pasted text carry no signature"
	case m == nil:
		return "no manifest beside it"
	}
	return "its manifest has no signature"
}

func routeName(r string) string {
	switch r {
	case RouteFile:
		return "a file on removable media"
	case RouteQRScreen:
		return "QR codes on a screen or as images"
	case routeQR:
		return "QR codes"
	case RoutePaper:
		return "the printed QR sheet"
	}
	return r
}

func routeNames(rs []string) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = routeName(r)
	}
	return out
}

func countReviewers(n int) string {
	switch n {
	case 0:
		return "none is named"
	case 1:
		return "only 1 is named"
	}
	return fmt.Sprintf("only %d are named", n)
}
