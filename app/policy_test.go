package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

func TestCheckRelease(t *testing.T) {
	for _, tt := range []struct {
		name    string
		policy  string // "" means no policy file
		route   string
		review  Review
		want    string // words of the refusal; "" means allowed
		missing bool
	}{
		{"no policy", "", RouteQRScreen, Review{}, "", false},
		{"two reviewers given", `{"minReviewers": 2}`, RouteFile, Review{Reviewers: []string{"A", "B"}}, "", false},
		{"one reviewer", `{"minReviewers": 2}`, RouteFile, Review{Reviewers: []string{"A"}}, "only 1 is named", true},
		{"the same reviewer twice", `{"minReviewers": 2}`, RouteFile, Review{Reviewers: []string{"A. Officer", "a. officer "}}, "only 1 is named", true},
		{"blank reviewer", `{"minReviewers": 1}`, RouteFile, Review{Reviewers: []string{"  "}}, "none is named", true},
		{"no ticket", `{"requireTicket": true}`, RouteFile, Review{}, "--ticket", true},
		{"no media off a drive", `{"requireMedia": true}`, RouteFile, Review{}, "--media", true},
		{"media given", `{"requireMedia": true}`, RouteFile, Review{Media: "KEYS 1A2B-3C4D"}, "", false},
		{"route not allowed", `{"routes": ["file", "paper"]}`, RouteQRScreen, Review{}, "QR codes on a screen or as images is not an allowed route", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}}
			if tt.policy != "" {
				os.WriteFile(filepath.Join(env.ConfigDir, courier.PolicyFile), []byte(tt.policy), 0o600)
			}
			err := NewService(env).CheckRelease(tt.route, tt.review, filepath.Join(t.TempDir(), "t.txt"))
			var pe *PolicyError
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) || pe.Missing != tt.missing):
				t.Errorf("got %v, want a PolicyError (missing %v) with %q", err, tt.missing, tt.want)
			}
		})
	}
}

func TestPolicyFileProblems(t *testing.T) {
	env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}}
	svc := NewService(env)
	// A damaged policy is an error, never no policy.
	os.WriteFile(filepath.Join(env.ConfigDir, courier.PolicyFile), []byte(`{"minReviewers": "two"}`), 0o600)
	if err := svc.CheckRelease(RouteFile, Review{}, ""); err == nil || !strings.Contains(err.Error(), "site policy") {
		t.Errorf("damaged policy: %v", err)
	}
	// A policy named with --policy must exist.
	env.PolicyPath = filepath.Join(t.TempDir(), "missing.json")
	if err := svc.CheckRelease(RouteFile, Review{}, ""); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing --policy file: %v", err)
	}
}

// TestImportPolicy: requireManifest and requireTrustedSigner refuse an
// artefact without a manifest, and QR imports (which carry none); inspect
// is not an import and shows the file all the same.
func TestImportPolicy(t *testing.T) {
	env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}}
	svc := NewService(env)
	ctx := context.Background()
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt") // no manifest beside it
	os.WriteFile(filepath.Join(env.ConfigDir, courier.PolicyFile), []byte(`{"requireManifest": true}`), 0o600)
	var pe *PolicyError
	if _, err := svc.ImportFile(ctx, tok, KindToken); !errors.As(err, &pe) || !strings.Contains(err.Error(), "no manifest") {
		t.Errorf("import without a manifest: %v", err)
	}
	if _, err := svc.ReadArtefact(ctx, FileSource(tok), "", "inspect"); err != nil {
		t.Errorf("inspect under requireManifest: %v", err)
	}
	a, _ := courier.Parse(testutil.ReadShared(t, "tokens", "registration-token-1node.txt"))
	res, err := svc.WriteQR(ctx, QRRequest{Artefact: newView(a, nil, "test"), Dir: filepath.Join(t.TempDir(), "qr")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ImportQR(ctx, res.PNGs, KindToken, nil); !errors.As(err, &pe) {
		t.Errorf("QR import under requireManifest: %v", err)
	}
	// Written here, the file has a signed manifest: it imports under
	// requireTrustedSigner, as this installation's own.
	os.WriteFile(filepath.Join(env.ConfigDir, courier.PolicyFile), []byte(`{"requireTrustedSigner": true}`), 0o600)
	out := filepath.Join(t.TempDir(), "t.txt")
	if err := svc.WriteArtefact(ctx, WriteRequest{Artefact: newView(a, nil, "test"), Path: out, Release: true}); err != nil {
		t.Fatal(err)
	}
	v, err := svc.ImportFile(ctx, out, KindToken)
	if err != nil || v.Origin == nil || v.Origin.Name != "this installation" {
		t.Errorf("own signed file: %+v, %v", v, err)
	}
}
