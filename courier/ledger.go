package courier

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	Hash    string    `json:"hash"`          // SHA-256 over this entry with Hash and Sig empty
	Signer  string    `json:"signer"`        // fingerprint of the installation key that signed it
	Sig     string    `json:"sig"`           // base64 Ed25519 signature of Hash
}

// computeHash returns the chain hash of e: SHA-256 of its JSON with Hash
// and Sig empty (Signer is covered).
func (e Entry) computeHash() string {
	e.Hash, e.Sig = "", ""
	b, _ := json.Marshal(e) // Entry has only marshalable fields
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// MaxLedgerLine is the longest ledger line accepted, in bytes: an entry is
// a few hundred; a longer line is damage or an attack, not an entry.
const MaxLedgerLine = 1 << 20

// lockWait is how long Append waits for another process's lock.
const lockWait = 10 * time.Second

// Ledger is the append-only, hash-chained, signed custody ledger kept in
// one JSON-lines file. Each entry carries the hash of the one before it and
// is signed with the installation's key, so an entry edited, removed or
// reordered, and a ledger rewritten with its chain recomputed, both fail
// Verify; an anchor written down earlier (Head) finds a ledger cut short.
// Appends from several processes are serialised with a file lock. A Ledger
// is safe for concurrent use.
type Ledger struct {
	path    string
	keyPath string
	wait    time.Duration // for another process's lock
}

// OpenLedger returns the ledger stored at path, signed with the
// installation key at keyPath (see LoadIdentity). The files and their
// folder are created on the first Append.
func OpenLedger(path, keyPath string) *Ledger {
	return &Ledger{path: path, keyPath: keyPath, wait: lockWait}
}

// Path returns the ledger file's path.
func (l *Ledger) Path() string { return l.path }

// LedgerError is a ledger that could not be written: the step it was to
// record must fail, since nothing may happen unrecorded.
type LedgerError struct {
	Path string
	Err  error
}

func (e *LedgerError) Error() string {
	return fmt.Sprintf("the custody ledger %s could not record this step: %v", e.Path, e.Err)
}

func (e *LedgerError) Unwrap() error { return e.Err }

// Append chains e to the last entry, signs it and appends it; it returns
// the entry as written. A torn last line (a crash or a full disk in the
// middle of an earlier append) is first moved to a quarantine file beside
// the ledger and recorded in a "recovered" entry. Errors are *LedgerError.
func (l *Ledger) Append(e Entry) (Entry, error) {
	out, err := l.append(e)
	if err != nil {
		return out, &LedgerError{Path: l.path, Err: err}
	}
	return out, nil
}

// Check reports, before a step that cannot be undone (an activation, a
// registration), whether Append would work: the signing key loads (it is
// made on first use), and the ledger opens for writing, takes its lock and
// ends in an entry. Errors are *LedgerError.
func (l *Ledger) Check() error {
	_, f, _, _, err := l.open()
	if err != nil {
		return &LedgerError{Path: l.path, Err: err}
	}
	unlockFile(f)
	f.Close()
	return nil
}

// open loads the signing key, opens and locks the ledger and reads its end.
// The caller unlocks and closes f.
func (l *Ledger) open() (*Identity, *os.File, tail, *Entry, error) {
	id, err := LoadIdentity(l.keyPath)
	if err != nil {
		return nil, nil, tail{}, nil, err
	}
	dir := filepath.Dir(l.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, tail{}, nil, WriteError(NearestFolder(dir), err)
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, tail{}, nil, WriteError(dir, err)
	}
	if err := lockWithin(f, l.wait); err != nil {
		f.Close()
		return nil, nil, tail{}, nil, err
	}
	fail := func(err error) (*Identity, *os.File, tail, *Entry, error) {
		unlockFile(f)
		f.Close()
		return nil, nil, tail{}, nil, err
	}
	t, err := readTail(f)
	if err != nil {
		return fail(err)
	}
	var prev *Entry
	if t.last != nil {
		prev = new(Entry)
		if err := json.Unmarshal(t.last, prev); err != nil {
			return fail(fmt.Errorf("its last entry is damaged (%v); run 'azs-courier ledger verify'", err))
		}
	}
	return id, f, t, prev, nil
}

func (l *Ledger) append(e Entry) (Entry, error) {
	id, f, t, prev, err := l.open()
	if err != nil {
		return e, err
	}
	defer f.Close()
	defer unlockFile(f)
	if t.torn != nil {
		rec, err := l.setAside(f, t, prev, id, e)
		if err != nil {
			return e, err
		}
		prev = &rec
	}
	return writeEntry(f, prev, id, e)
}

// setAside moves the torn bytes at the end of f to a quarantine file,
// truncates f to the last whole line and appends an entry recording it.
func (l *Ledger) setAside(f *os.File, t tail, prev *Entry, id *Identity, like Entry) (Entry, error) {
	sum := sha256.Sum256(t.torn)
	q := l.path + ".torn-" + time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(sum[:4])
	if err := WriteFileAtomic(q, t.torn, false); err != nil {
		return Entry{}, fmt.Errorf("set aside its torn last line: %w", err)
	}
	if err := f.Truncate(t.tornAt); err != nil {
		return Entry{}, fmt.Errorf("cut its torn last line: %w", err)
	}
	rec := Entry{Time: like.Time, Step: "recovered", Outcome: "ok", User: like.User, Machine: like.Machine, App: like.App,
		Detail: fmt.Sprintf("a torn last line left by an interrupted write (%d bytes, SHA-256 %s) was moved to %s", len(t.torn), hex.EncodeToString(sum[:]), filepath.Base(q))}
	return writeEntry(f, prev, id, rec)
}

// writeEntry chains e to prev, signs it and writes it at the end of f. A
// failed write is cut off again, so a full disk leaves no torn line.
func writeEntry(f *os.File, prev *Entry, id *Identity, e Entry) (Entry, error) {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return e, fmt.Errorf("find its end: %w", err)
	}
	e.Seq, e.Prev = 1, ""
	if prev != nil {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	e.Signer, e.Sig = id.Fingerprint(), ""
	e.Hash = e.computeHash()
	e.Sig = base64.StdEncoding.EncodeToString(id.Sign(domainLedger, []byte(e.Hash)))
	line, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("encode the entry: %w", err)
	}
	if len(line) >= MaxLedgerLine {
		return e, fmt.Errorf("the entry is %s long, over the %s a ledger line may have; shorten the file name or detail", sizeString(int64(len(line))), sizeString(MaxLedgerLine))
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
	if _, err := f.WriteAt(line, end); err != nil {
		f.Truncate(end)
		return e, WriteError(filepath.Dir(f.Name()), err)
	}
	if err := f.Sync(); err != nil {
		f.Truncate(end)
		return e, WriteError(filepath.Dir(f.Name()), fmt.Errorf("sync: %w", err))
	}
	return e, nil
}

// lockWithin takes f's lock, waiting up to wait for another process to
// release it.
func lockWithin(f *os.File, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		ok, err := tryLockFile(f)
		if err != nil {
			return fmt.Errorf("lock it: %w", err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("another azs-courier process has held its lock for %v; close the other window or command, or end a hung one, and try again", wait)
		}
		time.Sleep(delay)
	}
}

// NearestFolder returns dir, or the nearest folder above it that exists:
// the place a failure to create dir is about.
func NearestFolder(dir string) string {
	for {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}

// tail is what Append needs of the ledger's end: the last whole line and
// any torn bytes after it.
type tail struct {
	size   int64
	last   []byte // the last whole, non-blank line; nil for an empty ledger
	torn   []byte // bytes after the last newline that are no entry; nil if none
	tornAt int64  // where torn begins
}

// readTail reads the end of f: a window that grows from 64 KiB until it
// holds the last whole line and any torn bytes after it, at most two
// maximal lines (each is shorter than MaxLedgerLine).
func readTail(f *os.File) (tail, error) {
	st, err := f.Stat()
	if err != nil {
		return tail{}, fmt.Errorf("read it: %w", err)
	}
	size := st.Size()
	for n := min(size, 64<<10); ; n = min(size, 2*n, 2*MaxLedgerLine+2) {
		start := size - n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return tail{size: size}, fmt.Errorf("read it: %w", err)
		}
		t, short := parseTail(buf, start, size)
		switch {
		case !short:
			return t, nil
		case n == min(size, 2*MaxLedgerLine+2):
			return t, fmt.Errorf("its last line is longer than %s, or its end is blank lines; run 'azs-courier ledger verify'", sizeString(MaxLedgerLine))
		}
	}
}

// parseTail finds the last whole line and any torn bytes in buf, the end
// of a file of size bytes from start; short reports a window too small to
// hold them.
func parseTail(buf []byte, start, size int64) (t tail, short bool) {
	t.size = size
	// Bytes after the last newline: a line an earlier append did not finish,
	// or a whole entry whose newline was lost (kept: Append adds one).
	if i := bytes.LastIndexByte(buf, '\n'); i < len(buf)-1 && len(bytes.TrimSpace(buf[i+1:])) > 0 {
		seg := buf[i+1:]
		var e Entry
		if json.Unmarshal(seg, &e) != nil {
			if i < 0 && start > 0 {
				return t, true
			}
			t.torn, t.tornAt = append([]byte(nil), seg...), start+int64(i+1)
			buf = buf[:i+1]
		}
	}
	trimmed := bytes.TrimRight(buf, "\r\n \t")
	if len(trimmed) == 0 {
		if start > 0 {
			return t, true // blank lines: look further back
		}
		return t, false
	}
	i := bytes.LastIndexByte(trimmed, '\n')
	if i < 0 && start > 0 {
		return t, true
	}
	t.last = append([]byte(nil), trimmed[i+1:]...)
	return t, false
}

// Tear is a torn last line: bytes an interrupted append left after the
// last whole entry. It is not tampering; the next Append sets it aside.
type Tear struct {
	Offset int64
	Length int
}

// Contents is the ledger as read: its entries in order and, if the last
// line is torn, the tear.
type Contents struct {
	Entries []Entry
	Tear    *Tear
}

// Entries returns every entry in order. A line that does not parse is a
// *BreakError naming its line number, except a torn last line, which is
// left out (see Read).
func (l *Ledger) Entries() ([]Entry, error) {
	c, err := l.Read()
	return c.Entries, err
}

// Read returns the ledger's entries and any torn last line.
func (l *Ledger) Read() (Contents, error) {
	var c Contents
	f, err := os.Open(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("open ledger %s: %w", l.path, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for n := 1; ; n++ {
		line, err := readLine(r, MaxLedgerLine)
		if errors.Is(err, errLongLine) {
			return c, &BreakError{Line: n, Reason: fmt.Sprintf("the line is longer than %s, which no entry is", sizeString(MaxLedgerLine))}
		}
		if err != nil && err != io.EOF {
			return c, fmt.Errorf("read ledger %s: %w", l.path, err)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			var e Entry
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				if err == io.EOF { // no newline after it: a torn last line
					c.Tear = &Tear{Offset: off, Length: len(line)}
					return c, nil
				}
				return c, &BreakError{Line: n, Reason: fmt.Sprintf("the line is not a ledger entry (%v)", jerr)}
			}
			c.Entries = append(c.Entries, e)
		}
		off += int64(len(line))
		if err == io.EOF {
			return c, nil
		}
	}
}

var errLongLine = errors.New("line too long")

// readLine reads one line with its newline (none at the end of the file,
// where it returns io.EOF), at most max bytes.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max {
			return nil, errLongLine
		}
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
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

// Check is the outcome of verifying a ledger.
type Check struct {
	Entries   int    // entries verified
	Signer    string // fingerprint of the key that signed them ("" for an empty ledger)
	Recovered []int  // sequence numbers of entries recording a recovered tear
	Tear      *Tear  // a torn last line not yet set aside
	Head      Anchor // the last entry
}

// Verify checks the whole chain and every signature against the
// installation key, and with anchor set (COUNT:HASH, see Head) that the
// entry written down then is still there. The first edited, deleted,
// inserted, reordered or re-signed entry is a *BreakError; a ledger cut
// short of an anchor is an *AnchorError. Both match ErrIntegrity.
func (l *Ledger) Verify(anchor *Anchor) (Check, error) {
	c, err := l.Read()
	chk := Check{Entries: len(c.Entries), Tear: c.Tear}
	if err != nil {
		return chk, err
	}
	var pub []byte
	if len(c.Entries) > 0 {
		if _, err := os.Lstat(l.keyPath); errors.Is(err, fs.ErrNotExist) {
			return chk, fmt.Errorf("the custody ledger is signed, but this installation's signing key %s is missing; restore it from a backup to verify the ledger", l.keyPath)
		}
		id, err := readIdentity(l.keyPath)
		if err != nil {
			return chk, err
		}
		pub = id.Public()
	}
	return VerifyEntries(c.Entries, pub, c.Tear, anchor)
}

// VerifyEntries checks entries as read from a ledger (line i+1 holding
// entries[i]): the chain, each signature by pub, and anchor when set.
func VerifyEntries(entries []Entry, pub ed25519.PublicKey, tear *Tear, anchor *Anchor) (Check, error) {
	chk := Check{Tear: tear}
	fp := ""
	if pub != nil {
		fp = Fingerprint(pub)
	}
	prev := ""
	for i, e := range entries {
		line := i + 1
		broken := func(reason string) (Check, error) {
			chk.Entries = i
			return chk, &BreakError{Line: line, Seq: e.Seq, Reason: reason}
		}
		switch {
		case e.Seq != i+1:
			return broken(fmt.Sprintf("sequence number %d where %d was expected", e.Seq, i+1))
		case e.Prev != prev:
			return broken("it does not follow the entry before it (previous hash differs)")
		case e.computeHash() != e.Hash:
			return broken("its content does not match its hash")
		case e.Sig == "":
			return broken("it is not signed")
		case e.Signer != fp:
			return broken(fmt.Sprintf("it names the signing key %s, not this installation's %s", GroupHex(e.Signer), GroupHex(fp)))
		}
		sig, err := base64.StdEncoding.DecodeString(e.Sig)
		if err != nil || !VerifySignature(pub, domainLedger, []byte(e.Hash), sig) {
			return broken("its signature does not hold: it was rewritten and its chain recomputed")
		}
		if e.Step == "recovered" {
			chk.Recovered = append(chk.Recovered, e.Seq)
		}
		prev = e.Hash
	}
	chk.Entries = len(entries)
	if len(entries) > 0 {
		chk.Signer = fp
		chk.Head = Anchor{Count: len(entries), Hash: entries[len(entries)-1].Hash}
	}
	if anchor != nil {
		if err := anchor.check(entries); err != nil {
			return chk, err
		}
	}
	return chk, nil
}

// Anchor names a ledger entry by its position and hash, written as
// COUNT:HASH. Written down (or printed on a custody sheet) it lets a later
// Verify tell that no entry up to it was removed or replaced, which the
// chain alone cannot: a ledger cut short is still a valid chain.
type Anchor struct {
	Count int
	Hash  string
}

// String returns COUNT:HASH.
func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.Count, a.Hash) }

// ParseAnchor reads COUNT:HASH, the hash in hex of any case, spaces allowed
// (it may have been copied in groups).
func ParseAnchor(s string) (Anchor, error) {
	count, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	hash = strings.ToLower(strings.Join(strings.Fields(hash), ""))
	if _, herr := hex.DecodeString(hash); !ok || err != nil || n < 1 || herr != nil || len(hash) != 64 {
		return Anchor{}, fmt.Errorf("anchor %q is not COUNT:HASH (an entry number and 64 hex digits, as 'ledger anchor' prints it)", s)
	}
	return Anchor{Count: n, Hash: hash}, nil
}

// AnchorError is a ledger that no longer holds the entry an anchor names.
// It matches ErrIntegrity.
type AnchorError struct {
	Anchor Anchor
	Found  string // what the ledger holds instead
}

func (e *AnchorError) Error() string {
	return fmt.Sprintf("the custody ledger does not hold the anchored entry %d (%s…): %s; keep this file as evidence", e.Anchor.Count, short(e.Anchor.Hash), e.Found)
}

// Is reports whether target is ErrIntegrity.
func (e *AnchorError) Is(target error) bool { return target == ErrIntegrity }

func (a Anchor) check(entries []Entry) error {
	switch {
	case len(entries) == 0:
		return &AnchorError{Anchor: a, Found: "the ledger is empty: it was emptied or replaced"}
	case len(entries) < a.Count:
		return &AnchorError{Anchor: a, Found: fmt.Sprintf("it has only %d entries: it was cut short", len(entries))}
	case entries[a.Count-1].Hash != a.Hash:
		return &AnchorError{Anchor: a, Found: fmt.Sprintf("entry %d has the hash %s…: the ledger was replaced or rewritten", a.Count, short(entries[a.Count-1].Hash))}
	}
	return nil
}

// short returns the first 16 characters of a hash, for messages.
func short(h string) string { return h[:min(16, len(h))] }
