package courier

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// ManifestSuffix is appended to an artefact file's name to name its sidecar
// manifest: token.txt → token.txt.courier.json.
const ManifestSuffix = ".courier.json"

// ManifestFormat identifies the manifest's schema.
const ManifestFormat = "azs-courier/manifest/v1"

// Manifest is the sidecar written beside every artefact file. It lets the
// person who receives the file check that it is the one that was written,
// and says who wrote it, where, when and why.
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
}

// ManifestPath returns the sidecar manifest path for an artefact file.
func ManifestPath(artefactPath string) string { return artefactPath + ManifestSuffix }

// ReadManifest reads the manifest beside artefactPath. It returns nil and no
// error when there is none.
func ReadManifest(artefactPath string) (*Manifest, error) {
	p := ManifestPath(artefactPath)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	f, err := OpenRegular(p)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", p, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil || m.SHA256 == "" {
		return nil, &InputError{
			Problem: fmt.Sprintf("the manifest %s is not a valid azs-courier manifest", p),
			Fix:     "restore it from the original copy, or remove it to read the artefact without a manifest check",
		}
	}
	return &m, nil
}

// Check compares the manifest with the artefact read from its file. A
// difference is a *MismatchError, which matches ErrIntegrity.
func (m *Manifest) Check(a *Artefact) error {
	if m.SHA256 != a.SHA256 {
		return &MismatchError{
			What: fmt.Sprintf("SHA-256 of %s against its manifest", m.File),
			Want: m.SHA256,
			Got:  a.SHA256,
			Fix:  "the file changed after it was written: get a fresh copy from its source",
		}
	}
	if m.Kind != "" && m.Kind != a.Kind {
		return &MismatchError{
			What: fmt.Sprintf("kind of %s against its manifest", m.File),
			Want: string(m.Kind),
			Got:  string(a.Kind),
			Fix:  "the manifest belongs to another file: keep each manifest with its own artefact",
		}
	}
	return nil
}
