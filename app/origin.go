package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/qr"
)

// Origin says who signed an artefact's manifest, as far as this
// installation can tell.
type Origin struct {
	Signed      bool   `json:"signed"`
	Fingerprint string `json:"fingerprint,omitempty"` // in groups of four
	Name        string `json:"name,omitempty"`        // the trusted name, or "this installation"
	Trusted     bool   `json:"trusted"`               // a trusted key, or this installation's own
}

// String says it in words for a review screen.
func (o Origin) String() string {
	switch {
	case !o.Signed:
		return "unsigned: the manifest does not say which installation wrote it"
	case o.Trusted:
		return fmt.Sprintf("%s (%s), trusted", o.Name, o.Fingerprint)
	}
	return fmt.Sprintf("an unknown installation (%s), not among your trusted keys; compare the fingerprint with its owner before trusting it", o.Fingerprint)
}

// trustStore returns the trusted keys in the configuration folder.
func (e *Env) trustStore() *courier.TrustStore {
	return courier.OpenTrustStore(filepath.Join(e.ConfigDir, courier.TrustFile))
}

// identity returns the installation's signing key, made on first use.
func (e *Env) identity() (*courier.Identity, error) { return courier.LoadIdentity(e.IdentityPath()) }

// ownFingerprint returns this installation's fingerprint, or "" when it has
// no key yet (one is not made just to read).
func (e *Env) ownFingerprint() (string, error) {
	if _, err := os.Lstat(e.IdentityPath()); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	id, err := e.identity()
	if err != nil {
		return "", err
	}
	return id.Fingerprint(), nil
}

// origin says who signed m. A damaged trust store or signing key is an
// error: a trust decision is not made on a guess.
func (e *Env) origin(m *courier.Manifest) (*Origin, error) {
	if m == nil {
		return nil, nil
	}
	if !m.Signed() {
		return &Origin{}, nil
	}
	o := &Origin{Signed: true, Fingerprint: courier.GroupHex(m.Signer)}
	own, err := e.ownFingerprint()
	if err != nil {
		return nil, err
	}
	if m.Signer == own {
		o.Name, o.Trusted = "this installation", true
		return o, nil
	}
	k, ok, err := e.trustStore().Lookup(m.Signer)
	if err != nil {
		return nil, err
	}
	if ok {
		o.Name, o.Trusted = k.Name, true
	}
	return o, nil
}

// IdentityView is this installation's signing identity.
type IdentityView struct {
	Fingerprint string `json:"fingerprint"` // in groups of four, for reading aloud
	KeyFile     string `json:"keyFile"`
	Name        string `json:"name"` // user@machine, as exports name it
}

// Identity returns this installation's signing identity, making its key on
// first use.
func (s *Service) Identity() (IdentityView, error) {
	id, err := s.env.identity()
	if err != nil {
		return IdentityView{}, err
	}
	return IdentityView{Fingerprint: courier.GroupHex(id.Fingerprint()), KeyFile: s.env.IdentityPath(), Name: s.env.installationName()}, nil
}

func (e *Env) installationName() string {
	return strings.Trim(e.User+"@"+e.Machine, "@")
}

// ExportIdentity writes the public key to path (a small PEM file to carry
// to the other side, where 'trust add' reads it), and with qrDir also as a
// QR code PNG there. Existing files are replaced only with force.
func (s *Service) ExportIdentity(path, qrDir string, force bool) (IdentityView, error) {
	id, err := s.env.identity()
	if err != nil {
		return IdentityView{}, err
	}
	view := IdentityView{Fingerprint: courier.GroupHex(id.Fingerprint()), KeyFile: s.env.IdentityPath(), Name: s.env.installationName()}
	data, err := courier.PublicKeyFile(id, view.Name)
	if err != nil {
		return view, err
	}
	entry := courier.Entry{Step: "export identity", File: absPath(path), Outcome: "ok", Detail: "public key " + view.Fingerprint}
	err = s.env.writeRecorded(entry, func(commit func() error) error {
		return courier.WriteFileCommit(path, data, force, commit)
	})
	if err != nil {
		var ee *courier.ExistsError
		if errors.As(err, &ee) {
			return view, fmt.Errorf("%s already exists; choose another name, or pass --force to replace it", path)
		}
		return view, err
	}
	if qrDir != "" {
		png, err := qr.TextPNG(string(data), qr.FilePixelsPerModule)
		if err != nil {
			return view, err
		}
		if err := os.MkdirAll(qrDir, 0o755); err != nil {
			return view, courier.WriteError(qrDir, err)
		}
		if err := courier.WriteFileAtomic(filepath.Join(qrDir, "public-key.png"), png, force); err != nil {
			return view, fmt.Errorf("the public key file is written, but its QR code is not: %w", err)
		}
	}
	return view, nil
}

// TrustedKey is a trusted installation as 'trust list' shows it.
type TrustedKey struct {
	Fingerprint string `json:"fingerprint"` // in groups of four
	Name        string `json:"name"`
	Added       string `json:"added"` // local and UTC
}

// TrustKey trusts the installation whose public key file (from identity
// --export) or fingerprint is ref, under name (a file's own name when name
// is ""). The step is recorded in the custody ledger.
func (s *Service) TrustKey(ref, name string) (TrustedKey, error) {
	fp, ok := courier.NormalizeFingerprint(ref)
	if !ok {
		data, err := courier.ReadRegular(ref, 64<<10)
		if err != nil {
			return TrustedKey{}, fmt.Errorf("%s is neither a fingerprint (32 hex digits) nor a public key file: %w", ref, err)
		}
		var fileName string
		if fp, fileName, err = courier.ParsePublicKeyFile(data); err != nil {
			return TrustedKey{}, fmt.Errorf("%s: %w", ref, err)
		}
		if name == "" {
			name = fileName
		}
	}
	if err := s.env.checkLedger(); err != nil {
		return TrustedKey{}, err
	}
	k, err := s.env.trustStore().Add(courier.TrustedKey{Fingerprint: fp, Name: name, Added: s.env.now()})
	if err != nil {
		return TrustedKey{}, err
	}
	err = s.env.recordDone(courier.Entry{Step: "trust add", Outcome: "ok", Detail: fmt.Sprintf("trusted %s as %q", courier.GroupHex(k.Fingerprint), k.Name)}, nil, "the key is trusted")
	return trustedView(k), err
}

// UntrustKey stops trusting the installation with fingerprint or name ref.
func (s *Service) UntrustKey(ref string) (TrustedKey, error) {
	if err := s.env.checkLedger(); err != nil {
		return TrustedKey{}, err
	}
	k, err := s.env.trustStore().Remove(ref)
	if err != nil {
		return TrustedKey{}, err
	}
	err = s.env.recordDone(courier.Entry{Step: "trust remove", Outcome: "ok", Detail: fmt.Sprintf("no longer trusts %s (%q)", courier.GroupHex(k.Fingerprint), k.Name)}, nil, "the key is no longer trusted")
	return trustedView(k), err
}

// TrustedKeys lists the trusted installations.
func (s *Service) TrustedKeys() ([]TrustedKey, error) {
	keys, err := s.env.trustStore().List()
	if err != nil {
		return nil, err
	}
	out := make([]TrustedKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, trustedView(k))
	}
	return out, nil
}

func trustedView(k courier.TrustedKey) TrustedKey {
	return TrustedKey{Fingerprint: courier.GroupHex(k.Fingerprint), Name: Printable(k.Name), Added: FormatTime(k.Added)}
}

// detail says who signed, for a ledger entry.
func (o *Origin) detail() string {
	switch {
	case !o.Signed:
		return "unsigned"
	case o.Trusted:
		return fmt.Sprintf("signed by %s (%s)", o.Name, o.Fingerprint)
	}
	return "signed by an untrusted key " + o.Fingerprint
}
