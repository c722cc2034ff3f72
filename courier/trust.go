package courier

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// TrustFile is the trust store's file name inside the configuration folder.
const TrustFile = "trusted-keys.json"

// trustFormat identifies the trust store's schema.
const trustFormat = "azs-courier/trust/v1"

// maxTrustFile bounds the trust store: an entry is about 150 bytes.
const maxTrustFile = 1 << 20

// TrustedKey is an installation whose signatures this one trusts: its
// fingerprint and the name people know it by.
type TrustedKey struct {
	Fingerprint string    `json:"fingerprint"`
	Name        string    `json:"name"`
	Added       time.Time `json:"added"`
}

// TrustStore is the list of trusted installation keys, kept in one JSON
// file written atomically. A damaged file is an error, never an empty list.
type TrustStore struct {
	path string
}

// OpenTrustStore returns the trust store at path; the file is created by
// the first Add.
func OpenTrustStore(path string) *TrustStore { return &TrustStore{path: path} }

type trustDoc struct {
	Format string       `json:"format"`
	Keys   []TrustedKey `json:"keys"`
}

// List returns the trusted keys in the order they were added.
func (s *TrustStore) List() ([]TrustedKey, error) {
	if _, err := os.Lstat(s.path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	data, err := ReadRegular(s.path, maxTrustFile)
	if err != nil {
		return nil, fmt.Errorf("read the trusted keys: %w", err)
	}
	return parseTrust(s.path, data)
}

func parseTrust(path string, data []byte) ([]TrustedKey, error) {
	damaged := func(why string) error {
		return fmt.Errorf("the trusted keys file %s is damaged (%s); restore it from a backup, or move it away and add the keys again", path, why)
	}
	var doc trustDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, damaged(err.Error())
	}
	if doc.Format != trustFormat {
		return nil, damaged(fmt.Sprintf("format %q, not %s", doc.Format, trustFormat))
	}
	for i, k := range doc.Keys {
		fp, ok := NormalizeFingerprint(k.Fingerprint)
		if !ok || fp != k.Fingerprint {
			return nil, damaged(fmt.Sprintf("entry %d has no valid fingerprint", i+1))
		}
		if strings.TrimSpace(k.Name) == "" {
			return nil, damaged(fmt.Sprintf("entry %d has no name", i+1))
		}
	}
	return doc.Keys, nil
}

// Lookup returns the trusted key with fingerprint fp.
func (s *TrustStore) Lookup(fp string) (TrustedKey, bool, error) {
	keys, err := s.List()
	if err != nil {
		return TrustedKey{}, false, err
	}
	i := slices.IndexFunc(keys, func(k TrustedKey) bool { return k.Fingerprint == fp })
	if i < 0 {
		return TrustedKey{}, false, nil
	}
	return keys[i], true, nil
}

// Add trusts the key k (its fingerprint normalised). Adding a fingerprint
// that is there renames it.
func (s *TrustStore) Add(k TrustedKey) (TrustedKey, error) {
	fp, ok := NormalizeFingerprint(k.Fingerprint)
	if !ok {
		return k, fmt.Errorf("%q is not a key fingerprint (32 hex digits, spaces allowed, as 'azs-courier identity' shows it)", k.Fingerprint)
	}
	k.Fingerprint, k.Name = fp, strings.TrimSpace(k.Name)
	if k.Name == "" {
		return k, errors.New("a trusted key needs a name people know it by, e.g. \"Site A operator workstation\"")
	}
	if k.Added.IsZero() {
		k.Added = time.Now()
	}
	k.Added = k.Added.UTC().Truncate(time.Second)
	keys, err := s.List()
	if err != nil {
		return k, err
	}
	if i := slices.IndexFunc(keys, func(x TrustedKey) bool { return x.Fingerprint == fp }); i >= 0 {
		keys[i].Name = k.Name
	} else {
		keys = append(keys, k)
	}
	return k, s.write(keys)
}

// Remove stops trusting the key whose fingerprint or name is ref. It
// reports the key removed.
func (s *TrustStore) Remove(ref string) (TrustedKey, error) {
	keys, err := s.List()
	if err != nil {
		return TrustedKey{}, err
	}
	fp, isFP := NormalizeFingerprint(ref)
	i := slices.IndexFunc(keys, func(k TrustedKey) bool {
		return isFP && k.Fingerprint == fp || strings.EqualFold(k.Name, strings.TrimSpace(ref))
	})
	if i < 0 {
		return TrustedKey{}, fmt.Errorf("no trusted key has the fingerprint or name %q; 'azs-courier trust list' shows them", ref)
	}
	k := keys[i]
	return k, s.write(slices.Delete(keys, i, i+1))
}

func (s *TrustStore) write(keys []TrustedKey) error {
	if keys == nil {
		keys = []TrustedKey{}
	}
	data, err := json.MarshalIndent(trustDoc{Format: trustFormat, Keys: keys}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the trusted keys: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return WriteError(NearestFolder(filepath.Dir(s.path)), err)
	}
	return WriteFileAtomic(s.path, append(data, '\n'), true)
}

// PublicKeyFile returns the public key of id as the small PEM file
// 'identity --export' writes, with the installation's name and fingerprint
// as headers for people reading it.
func PublicKeyFile(id *Identity, name string) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(id.Public())
	if err != nil {
		return nil, fmt.Errorf("encode the public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der,
		Headers: map[string]string{"Name": name, "Fingerprint": GroupHex(id.Fingerprint())}}), nil
}

// ParsePublicKeyFile reads a public key file (see PublicKeyFile): the key's
// fingerprint and the name in its header. The fingerprint header, if any,
// must match the key.
func ParsePublicKeyFile(data []byte) (fp, name string, err error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return "", "", errors.New("not a public key file (PEM PUBLIC KEY) as 'azs-courier identity --export' writes")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return "", "", fmt.Errorf("the public key does not parse: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return "", "", fmt.Errorf("the public key is a %T, not an Ed25519 key of azs-courier", k)
	}
	fp = Fingerprint(pub)
	if h := block.Headers["Fingerprint"]; h != "" {
		if got, ok := NormalizeFingerprint(h); !ok || got != fp {
			return "", "", fmt.Errorf("the file's Fingerprint header %s does not match its key %s: the file was edited", h, GroupHex(fp))
		}
	}
	return fp, block.Headers["Name"], nil
}
