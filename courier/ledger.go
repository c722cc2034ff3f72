package courier

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// LedgerFile is the ledger's file name inside the configuration folder.
const LedgerFile = "custody-ledger.jsonl"

// Entry is one line of the custody ledger: what happened to which artefact,
// when, by whom, where, and how it ended. Seq, Prev and Hash are filled by
// Ledger.Append and chain each entry to the one before it.
type Entry struct {
	Seq     int       `json:"seq"`
	Time    time.Time `json:"time"`
	Step    string    `json:"step"`              // e.g. "inspect", "write", "token", "activate"
	Kind    Kind      `json:"kind,omitempty"`    // artefact kind, if any
	SHA256  string    `json:"sha256,omitempty"`  // artefact hash, if any
	CloudID string    `json:"cloudId,omitempty"` // stamp the artefact belongs to
	File    string    `json:"file,omitempty"`    // file read or written
	Outcome string    `json:"outcome"`           // "ok", or what failed
	Detail  string    `json:"detail,omitempty"`  // one line of context
	User    string    `json:"user,omitempty"`
	Machine string    `json:"machine,omitempty"`
	App     string    `json:"app,omitempty"` // app version
	Prev    string    `json:"prev"`          // Hash of the previous entry; "" for the first
	Hash    string    `json:"hash"`          // SHA-256 over this entry with Hash empty
}

// computeHash returns the chain hash of e: SHA-256 of its JSON with Hash empty.
func (e Entry) computeHash() string {
	e.Hash = ""
	b, _ := json.Marshal(e) // Entry has only marshalable fields
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Ledger is the append-only, hash-chained custody ledger kept in one
// JSON-lines file. Appends from several processes are serialised with a file
// lock. A Ledger is safe for concurrent use.
type Ledger struct {
	path string
}

// OpenLedger returns the ledger stored at path. The file and its folder are
// created on the first Append.
func OpenLedger(path string) *Ledger { return &Ledger{path: path} }

// Path returns the ledger file's path.
func (l *Ledger) Path() string { return l.path }

// Append chains e to the last entry and appends it. It returns the entry as
// written.
func (l *Ledger) Append(e Entry) (Entry, error) {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return e, fmt.Errorf("create ledger folder: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return e, fmt.Errorf("open ledger %s: %w", l.path, err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return e, fmt.Errorf("lock ledger %s: %w", l.path, err)
	}
	defer unlockFile(f)

	last, err := lastLine(f)
	if err != nil {
		return e, fmt.Errorf("read ledger %s: %w", l.path, err)
	}
	e.Seq, e.Prev = 1, ""
	if last != nil {
		var prev Entry
		if err := json.Unmarshal(last, &prev); err != nil {
			return e, fmt.Errorf("ledger %s: last entry is damaged (%v); run 'azs-courier ledger verify'", l.path, err)
		}
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	e.Hash = e.computeHash()
	line, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("encode ledger entry: %w", err)
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return e, fmt.Errorf("append to ledger %s: %w", l.path, err)
	}
	line = append(line, '\n')
	if end > 0 {
		// A file cut short of its final newline (an editor, a copy) must not
		// glue the new entry onto the last one.
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, end-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := f.Write(line); err != nil {
		return e, fmt.Errorf("append to ledger %s: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		return e, fmt.Errorf("sync ledger %s: %w", l.path, err)
	}
	return e, nil
}

// lastLine returns the last non-empty line of f, reading only its tail.
func lastLine(f *os.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	const chunk = 64 << 10
	var buf []byte
	for off := size; off > 0; {
		n := int64(chunk)
		if off < n {
			n = off
		}
		off -= n
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
			return nil, err
		}
		buf = append(b, buf...)
		t := bytes.TrimRight(buf, "\r\n")
		if i := bytes.LastIndexByte(t, '\n'); i >= 0 {
			return t[i+1:], nil
		}
		if off == 0 && len(t) > 0 {
			return t, nil
		}
		if len(buf) > 16<<20 {
			return nil, errors.New("last entry longer than 16 MiB")
		}
	}
	return nil, nil
}

// Entries returns every entry in order. A line that does not parse is an
// error naming its line number.
func (l *Ledger) Entries() ([]Entry, error) {
	f, err := os.Open(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", l.path, err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, &BreakError{Line: n, Reason: fmt.Sprintf("the line is not a ledger entry (%v)", err)}
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read ledger %s: %w", l.path, err)
	}
	return out, nil
}

// BreakError reports the first place where the ledger's chain is broken. It
// matches ErrIntegrity.
type BreakError struct {
	Line   int    // 1-based line number in the ledger file
	Seq    int    // the entry's sequence number, when it could be read
	Reason string // what is wrong there
}

func (e *BreakError) Error() string {
	return fmt.Sprintf("custody ledger broken at line %d: %s; the ledger was edited, reordered or entries were deleted — keep this file as evidence and start a new ledger", e.Line, e.Reason)
}

// Is reports whether target is ErrIntegrity.
func (e *BreakError) Is(target error) bool { return target == ErrIntegrity }

// Verify checks the whole chain and returns the number of entries. The first
// edited, deleted, inserted or reordered entry is reported as a *BreakError.
func (l *Ledger) Verify() (int, error) {
	entries, err := l.Entries()
	if err != nil {
		return len(entries), err
	}
	return VerifyEntries(entries)
}

// VerifyEntries checks the chain of entries as read from a ledger, line i+1
// holding entries[i].
func VerifyEntries(entries []Entry) (int, error) {
	prev := ""
	for i, e := range entries {
		line := i + 1
		if e.Seq != i+1 {
			return i, &BreakError{Line: line, Seq: e.Seq, Reason: fmt.Sprintf("sequence number %d where %d was expected", e.Seq, i+1)}
		}
		if e.Prev != prev {
			return i, &BreakError{Line: line, Seq: e.Seq, Reason: "it does not follow the entry before it (previous hash differs)"}
		}
		if h := e.computeHash(); h != e.Hash {
			return i, &BreakError{Line: line, Seq: e.Seq, Reason: "its content does not match its hash"}
		}
		prev = e.Hash
	}
	return len(entries), nil
}
