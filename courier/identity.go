package courier

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// IdentityFile is the installation's signing key inside the configuration
// folder.
const IdentityFile = "signing-key.pem"

// maxKeyFile bounds what is read as a key file: an Ed25519 key in PEM is
// about 120 bytes, a public key file with its name a few hundred.
const maxKeyFile = 16 << 10

// Identity is an installation's signing key (Ed25519). It signs the
// custody ledger's entries and the manifests of the files it writes, and
// its fingerprint names the installation to people on the other side.
type Identity struct {
	priv ed25519.PrivateKey
}

// LoadIdentity reads the signing key at path, creating it on first use
// (readable by its owner only). A file that is there but unreadable or
// damaged is an error, never replaced: the key's fingerprint is what others
// trust, and a silent new one would break that trust unnoticed.
func LoadIdentity(path string) (*Identity, error) {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return readIdentity(path)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make the signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode the signing key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, WriteError(filepath.Dir(path), fmt.Errorf("create the folder of the signing key: %w", err))
	}
	if err := createPrivate(path, data); errors.Is(err, fs.ErrExist) {
		return readIdentity(path) // another process made it first
	} else if err != nil {
		return nil, err
	}
	return &Identity{priv: priv}, nil
}

// createPrivate writes data to path, which must not exist, readable and
// writable by the owner only, all or nothing: a temporary file is written,
// synced and linked into place, so two processes creating the key at once
// end with one key, and a crash leaves none or a whole one.
func createPrivate(path string, data []byte) error {
	tmp := NewTempName(path)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return WriteError(filepath.Dir(path), fmt.Errorf("create the signing key: %w", err))
	}
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return WriteError(filepath.Dir(path), fmt.Errorf("write the signing key: %w", err))
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// No hard links here (FAT): rename, after checking again.
		if _, serr := os.Lstat(path); serr == nil {
			return fs.ErrExist
		}
		if err := os.Rename(tmp, path); err != nil {
			return WriteError(filepath.Dir(path), fmt.Errorf("put the signing key in place: %w", err))
		}
	}
	return SyncDir(filepath.Dir(path))
}

func readIdentity(path string) (*Identity, error) {
	data, err := ReadRegular(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read the signing key: %w", err)
	}
	damaged := func(why string) error {
		return fmt.Errorf("the signing key %s is damaged (%s); restore it from a backup, or move it away to make a new one (whoever trusts this installation must then trust the new fingerprint)", path, why)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, damaged("not a PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, damaged(err.Error())
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, damaged(fmt.Sprintf("a %T, not an Ed25519 key", k))
	}
	return &Identity{priv: priv}, nil
}

// Public returns the public key.
func (id *Identity) Public() ed25519.PublicKey { return id.priv.Public().(ed25519.PublicKey) }

// Fingerprint returns the public key's fingerprint (see Fingerprint).
func (id *Identity) Fingerprint() string { return Fingerprint(id.Public()) }

// Sign signs msg in domain, which keeps a signature made for one purpose
// (a ledger entry, a manifest) from being valid for another.
func (id *Identity) Sign(domain string, msg []byte) []byte {
	return ed25519.Sign(id.priv, signed(domain, msg))
}

// VerifySignature reports whether sig is pub's signature of msg in domain.
func VerifySignature(pub ed25519.PublicKey, domain string, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, signed(domain, msg), sig)
}

func signed(domain string, msg []byte) []byte {
	return append([]byte("azs-courier "+domain+"\x00"), msg...)
}

// Signing domains.
const (
	domainLedger   = "ledger-entry v1"
	domainManifest = "manifest v1"
)

// Fingerprint returns the fingerprint of an Ed25519 public key: the first
// 16 bytes of its SHA-256 as 32 upper-case hex digits.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return strings.ToUpper(hex.EncodeToString(sum[:16]))
}

// GroupHex writes a fingerprint or hash in groups of four for reading
// aloud: "3F2A 9C01 …".
func GroupHex(fp string) string {
	var b strings.Builder
	for i := 0; i < len(fp); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fp[i:min(i+4, len(fp))])
	}
	return b.String()
}

// NormalizeFingerprint returns fp without spaces, in upper case, if it is
// 32 hex digits, as GroupHex and people write it.
func NormalizeFingerprint(fp string) (string, bool) {
	fp = strings.ToUpper(strings.Join(strings.Fields(fp), ""))
	if len(fp) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(fp); err != nil {
		return "", false
	}
	return fp, true
}
