package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/azs-courier/azs-courier/courier"
)

// IO holds the streams a command reads and writes. Commands never touch
// os.Stdin, os.Stdout or os.Stderr directly.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	InTTY  bool // In is an interactive terminal
	OutTTY bool // Out is an interactive terminal
}

// SystemIO returns the process's standard streams.
func SystemIO() *IO {
	return &IO{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
	}
}

// TestIO returns IO over buffers, for tests: what to feed as input, and what
// the command wrote to Out and ErrOut.
func TestIO() (ios *IO, in, out, errOut *bytes.Buffer) {
	in, out, errOut = new(bytes.Buffer), new(bytes.Buffer), new(bytes.Buffer)
	return &IO{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// Prompter asks the person at the terminal. Implementations must not echo
// passwords.
type Prompter interface {
	// Password asks for a secret without echoing it.
	Password(prompt string) (string, error)
	// Confirm asks a yes/no question; the default answer is no.
	Confirm(prompt string) (bool, error)
}

// ErrNoTerminal is returned by a Prompter that has no terminal to ask on.
var ErrNoTerminal = errors.New("app: no terminal to ask on")

// BuildInfo says which build is running.
type BuildInfo struct {
	Version string // e.g. "0.1.0" or "dev"
	Commit  string // VCS commit, if known
	SHA256  string // SHA-256 of the running executable; filled on the first write
}

// GUIOptions are the gui command's options, passed to Env.RunGUI.
type GUIOptions struct {
	Training bool // wire both sides to the built-in simulators
}

// Env is what commands and use cases get from the outside world. Fields with
// zero values get defaults from SystemEnv; tests fill them explicitly.
type Env struct {
	IO        *IO
	Prompter  Prompter
	Now       func() time.Time
	Getenv    func(string) string
	ConfigDir string // holds the custody ledger
	User      string // who is running (for manifests and the ledger)
	Machine   string // where (host name)
	Build     BuildInfo

	// RunGUI opens the GUI; main supplies it so that app need not import Fyne.
	RunGUI func(ctx context.Context, opts GUIOptions) error
}

// SystemEnv returns the Env of a real run.
func SystemEnv(build BuildInfo) *Env {
	ios := SystemIO()
	e := &Env{
		IO:       ios,
		Prompter: &termPrompter{io: ios},
		Now:      time.Now,
		Getenv:   os.Getenv,
		Build:    build,
	}
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
	return courier.OpenLedger(filepath.Join(e.ConfigDir, courier.LedgerFile))
}

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// termPrompter asks on the process's terminal.
type termPrompter struct{ io *IO }

func (p *termPrompter) Password(prompt string) (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", ErrNoTerminal
	}
	fmt.Fprint(p.io.ErrOut, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(p.io.ErrOut)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

func (p *termPrompter) Confirm(prompt string) (bool, error) {
	if !p.io.InTTY {
		return false, ErrNoTerminal
	}
	fmt.Fprintf(p.io.ErrOut, "%s [y/N] ", prompt)
	line, err := bufio.NewReader(p.io.In).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	line = strings.ToLower(strings.TrimSpace(line))
	return line == "y" || line == "yes", nil
}
