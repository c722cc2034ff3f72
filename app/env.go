package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/azs-courier/azs-courier/courier"
)

// BuildInfo says which build is running.
type BuildInfo struct {
	Version string // e.g. "0.1.0" or "dev"
	Commit  string // VCS commit, if known
	SHA256  string // SHA-256 of the running executable; filled on the first write
}

// GUIOptions are the gui command's options, passed from the CLI to the GUI.
type GUIOptions struct {
	Training bool // wire both sides to the built-in simulators
}

// Env is what the use cases get from the outside world: who and where they
// run, the clock, the configuration folder and where warnings go. Fields
// with zero values get defaults from SystemEnv; tests fill them explicitly.
type Env struct {
	Now       func() time.Time
	Getenv    func(string) string
	ConfigDir string // holds the custody ledger, signing key, trusted keys and site policy
	// PolicyPath names the site policy to apply (--policy); "" means
	// policy.json in ConfigDir, when there is one.
	PolicyPath string
	User       string // who is running (for manifests and the ledger)
	Machine    string // where (host name)
	Build      BuildInfo

	// Warn shows a warning to the person running the program (the CLI
	// prints it on standard error); nil writes it to standard error.
	Warn func(msg string)
	// Logger receives detail worth showing with --verbose (temporary
	// folders that could not be removed, retries); nil discards it.
	Logger *slog.Logger
}

// SystemEnv returns the Env of a real run.
func SystemEnv(build BuildInfo) *Env {
	e := &Env{Now: time.Now, Getenv: os.Getenv, Build: build}
	e.ConfigDir = DefaultConfigDir(os.Getenv)
	if u, err := user.Current(); err == nil {
		e.User = u.Username
	}
	e.Machine, _ = os.Hostname()
	return e
}

// executableHash returns the SHA-256 of the running program, recorded in
// manifests so that a reviewer can tie a file to the approved binary.
func executableHash() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DefaultConfigDir returns AZS_COURIER_CONFIG_DIR when set, else the
// "azs-courier" folder in the user's configuration folder.
func DefaultConfigDir(getenv func(string) string) string {
	if d := getenv("AZS_COURIER_CONFIG_DIR"); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "azs-courier")
	}
	return filepath.Join(os.TempDir(), "azs-courier")
}

// Ledger returns the custody ledger in the configuration folder.
func (e *Env) Ledger() *courier.Ledger {
	return courier.OpenLedger(filepath.Join(e.ConfigDir, courier.LedgerFile), e.IdentityPath())
}

// IdentityPath returns the installation's signing key file.
func (e *Env) IdentityPath() string { return filepath.Join(e.ConfigDir, courier.IdentityFile) }

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// warn shows msg to the user as a warning.
func (e *Env) warn(msg string) {
	if e.Warn != nil {
		e.Warn(msg)
		return
	}
	fmt.Fprintf(os.Stderr, "warning: %s\n", msg)
}

// logger returns e.Logger, or a logger that discards.
func (e *Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}
