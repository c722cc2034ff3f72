package courier

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// ManifestSuffix is appended to an artefact file's name to name its sidecar
// manifest: token.txt → token.txt.courier.json.
const ManifestSuffix = ".courier.json"

// ManifestFormat identifies the manifest's schema.
const ManifestFormat = "azs-courier/manifest/v1"

// Manifest is the sidecar written beside every artefact file. It lets the
// person who receives the file check that it is the one that was written,
// says who wrote it, where, when and why, who reviewed its release, and,
// signed with the writing installation's key, proves where it came from.
type Manifest struct {
	Format     string    `json:"format"`
	File       string    `json:"file"` // base name of the artefact file
	Kind       Kind      `json:"kind"`
	SHA256     string    `json:"sha256"`
	Length     int       `json:"length"`
	CloudID    string    `json:"cloudId"`
	CreatedAt  time.Time `json:"createdAt"`
	Machine    string    `json:"machine,omitempty"`
	User       string    `json:"user,omitempty"`
	AppVersion string    `json:"appVersion,omitempty"`
	AppSHA256  string    `json:"appSha256,omitempty"` // SHA-256 of the program that wrote the file
	Purpose    string    `json:"purpose,omitempty"`
	NextStep   string    `json:"nextStep,omitempty"` // what the receiver does with the file

	// Context of the step that made the artefact, when known.
	StampName        string `json:"stampName,omitempty"`
	StampVersion     string `json:"stampVersion,omitempty"`
	RegistrationName string `json:"registrationName,omitempty"`
	SubscriptionID   string `json:"subscriptionId,omitempty"`

	// A renewal or change of registration: why the token was made and the
	// registration it replaces, which the connected side removes first.
	Reason   string                `json:"reason,omitempty"`
	Replaces *ReplacedRegistration `json:"replaces,omitempty"`

	// Release review: who reviewed the release, under which change ticket,
	// on which removable medium it leaves.
	Reviewers []string `json:"reviewers,omitempty"`
	Ticket    string   `json:"ticket,omitempty"`
	Media     string   `json:"media,omitempty"`

	// Origin: the writing installation's public key, its fingerprint, and
	// its signature over every other field (see Sign).
	Signer    string `json:"signer,omitempty"`
	PublicKey string `json:"publicKey,omitempty"` // base64 Ed25519
	Signature string `json:"signature,omitempty"` // base64 Ed25519

	raw []byte // the file as read, for checking the signature
}

// ReplacedRegistration is the Azure registration a renewal or change
// replaces.
type ReplacedRegistration struct {
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
	Subscription  string `json:"subscriptionId"`
	BillingModel  string `json:"billingModel,omitempty"`
}

// MaxManifestSize bounds a manifest file. One is about 1 KB; reviewers
// and long purposes may make it tens of KB.
const MaxManifestSize = 1 << 20

// ManifestPath returns the sidecar manifest path for an artefact file.
func ManifestPath(artefactPath string) string { return artefactPath + ManifestSuffix }

// ManifestError is a manifest that cannot be trusted: not a manifest of
// ours, or a signature that does not hold. It matches ErrIntegrity.
type ManifestError struct {
	Path    string
	Problem string
	Fix     string
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("the manifest %s %s; %s", e.Path, e.Problem, e.Fix)
}

// Is reports whether target is ErrIntegrity.
func (e *ManifestError) Is(target error) bool { return target == ErrIntegrity }

// ReadManifest reads the manifest beside artefactPath and checks its
// signature, if it has one. It returns nil and no error when there is no
// manifest; one that is not valid, or whose signature does not hold, is a
// *ManifestError.
func ReadManifest(artefactPath string) (*Manifest, error) {
	p := ManifestPath(artefactPath)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	data, err := ReadRegular(p, MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		var me *ManifestError
		if errors.As(err, &me) {
			me.Path = p
		}
		return nil, err
	}
	return m, nil
}

// ParseManifest reads a manifest's JSON and checks its signature, if it has
// one. Errors are *ManifestError values (with Path empty).
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil || m.SHA256 == "" || !strings.HasPrefix(m.Format, "azs-courier/manifest/") {
		return nil, &ManifestError{
			Problem: "is not a valid azs-courier manifest",
			Fix:     "restore it from the original copy, or remove it to read the artefact without a manifest check",
		}
	}
	if m.Format != ManifestFormat {
		return nil, &ManifestError{
			Problem: fmt.Sprintf("is of format %q, which this version does not know (it reads %s)", m.Format, ManifestFormat),
			Fix:     "read it with the azs-courier version that wrote it, or a newer one",
		}
	}
	m.raw = data
	if err := m.checkSignature(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Signed reports whether the manifest carries a signature (which
// ParseManifest has checked).
func (m *Manifest) Signed() bool { return m.Signature != "" }

// Sign signs the manifest with id: Signer and PublicKey name id, and
// Signature covers every other field (see canonicalManifest).
func (m *Manifest) Sign(id *Identity) error {
	m.Signer = id.Fingerprint()
	m.PublicKey = base64.StdEncoding.EncodeToString(id.Public())
	m.Signature = ""
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	canon, err := canonicalManifest(data)
	if err != nil {
		return err
	}
	m.Signature = base64.StdEncoding.EncodeToString(id.Sign(domainManifest, canon))
	return nil
}

// checkSignature checks a signed manifest's signature over its raw JSON.
func (m *Manifest) checkSignature() error {
	if m.Signature == "" && m.Signer == "" && m.PublicKey == "" {
		return nil
	}
	broken := func(why string) error {
		return &ManifestError{Problem: "has a signature that does not hold: " + why,
			Fix: "a field was changed after it was signed, or the manifest was made by hand; get a fresh copy from its source"}
	}
	pub, err := base64.StdEncoding.DecodeString(m.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return broken("its public key is not an Ed25519 key")
	}
	if Fingerprint(pub) != m.Signer {
		return broken("its signer's fingerprint does not match its public key")
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return broken("the signature is not base64")
	}
	canon, err := canonicalManifest(m.raw)
	if err != nil {
		return broken(err.Error())
	}
	if !VerifySignature(pub, domainManifest, canon, sig) {
		return broken("the signature does not match its fields")
	}
	return nil
}

// canonicalManifest returns what a manifest's signature covers: its JSON
// object without the "signature" member, keys sorted, values compact. It
// does not depend on the writer's field order or indentation, and it
// covers fields a newer version adds.
func canonicalManifest(data []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	delete(fields, "signature")
	return json.Marshal(fields) // sorted keys; RawMessage values compacted
}

// Check compares the manifest with the artefact read from its file: kind,
// SHA-256 (in either case, as Get-FileHash prints it upper case), length
// and cloud ID. A difference is a *MismatchError, which matches
// ErrIntegrity.
func (m *Manifest) Check(a *Artefact) error {
	if !strings.EqualFold(m.SHA256, a.SHA256) {
		return &MismatchError{
			What: fmt.Sprintf("SHA-256 of %s against its manifest", m.File),
			Want: m.SHA256,
			Got:  a.SHA256,
			Fix:  "the file changed after it was written: get a fresh copy from its source",
		}
	}
	if m.Kind != a.Kind {
		return &MismatchError{
			What: fmt.Sprintf("kind of %s against its manifest", m.File),
			Want: string(m.Kind),
			Got:  string(a.Kind),
			Fix:  "the manifest belongs to another file: keep each manifest with its own artefact",
		}
	}
	if m.Length != len(a.Text) {
		return &MismatchError{
			What: fmt.Sprintf("length of %s against its manifest", m.File),
			Want: fmt.Sprint(m.Length),
			Got:  fmt.Sprint(len(a.Text)),
			Fix:  "the manifest was edited: get a fresh copy from its source",
		}
	}
	if !strings.EqualFold(m.CloudID, a.CloudID()) {
		return &MismatchError{
			What: fmt.Sprintf("cloud ID of %s against its manifest", m.File),
			Want: m.CloudID,
			Got:  a.CloudID(),
			Fix:  "the manifest was edited or belongs to another stamp's file: get a fresh copy from its source",
		}
	}
	return nil
}
