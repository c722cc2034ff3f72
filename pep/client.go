package pep

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/azs-courier/azs-courier/pep/psrp"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// Event reports progress of a PEP operation: PowerShell progress, warning
// and verbose records, and the client's own steps (connecting, retrying).
type Event struct {
	Step     string  // the operation, e.g. "New-RegistrationToken"
	Message  string  // for people
	Fraction float64 // 0..1 when known, else -1
	Level    string  // "info", "progress", "warning" or "verbose"
}

// Options configures [Dial]. The password is a value passed in; it is used
// for NTLM and never logged or traced.
type Options struct {
	// Hosts are the ERCS addresses, HOST or HOST:PORT, tried in order.
	Hosts []string
	// User is DOMAIN\CloudAdmin.
	User     string
	Password string
	// HTTPS uses https://HOST:5986/wsman with certificate verification
	// against RootCAs (nil: the system pool).
	HTTPS   bool
	RootCAs *x509.CertPool

	// OperationTimeout is the WS-Man receive wait (default 20 s);
	// DialTimeout bounds connecting to one host (default 15 s).
	OperationTimeout time.Duration
	DialTimeout      time.Duration
	// IdleTimeout is how long the PEP may stay silent on a request beyond
	// OperationTimeout (a Receive is held that long by design) before the
	// client gives up with [ErrStopped]; default 10 s, so a stopped PEP
	// fails a request after 30 s. Deadlines of the callers' contexts apply
	// on top: every call honours its context's deadline.
	IdleTimeout time.Duration
	// Attempts and RetryDelay are the module's retry loop (3 × 10 s); a
	// zero RetryDelay is used as is (tests), a negative one means 10 s.
	Attempts   int
	RetryDelay time.Duration

	// Transcripts, when set, makes Close export the session transcripts to
	// a share; see [Client.CloseWithTranscripts].
	Transcripts *TranscriptExport

	// OnEvent receives progress; nil drops events.
	OnEvent func(Event)
	// Trace, when set, receives the decrypted exchange in pypsrp's
	// recording format (the password is redacted).
	Trace io.Writer
	// Logger receives debug lines; nil discards.
	Logger *slog.Logger
	// Dial replaces the TCP dialer (tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock compared with the PEP's; nil means time.Now.
	Now func() time.Time
}

// TranscriptExport is where Close-PrivilegedEndpoint copies the session
// transcripts: a share path and the account that may write there. The
// password is a value passed in (from a prompt or the environment); it
// reaches the PEP only as a SecureString encrypted with the session key
// and is never logged or traced.
type TranscriptExport struct {
	Path     string // \\server\share\folder
	User     string // DOMAIN\user of the share
	Password string
}

// validate checks the export before anything is sent.
func (t TranscriptExport) validate() error {
	rest, ok := strings.CutPrefix(t.Path, `\\`)
	server, share, _ := strings.Cut(rest, `\`)
	share, _, _ = strings.Cut(share, `\`)
	switch {
	case !ok || server == "" || share == "":
		return validationf("the transcripts path %q is not a share path like \\\\server\\share\\folder", t.Path)
	case strings.TrimSpace(t.User) == "":
		return validationf("no account for the transcripts share")
	case t.Password == "":
		return validationf("no password for the transcripts share account %s", t.User)
	}
	return nil
}

// MaxClockSkew is how far apart this machine's clock and the PEP's may be
// before [Dial] warns: manifests and the ledger record UTC times that
// officers compare across the air gap.
const MaxClockSkew = 5 * time.Minute

// Client is an open session on the privileged endpoint. Its methods must
// not be called concurrently.
type Client struct {
	opts  Options
	host  string // the ERCS address that worked
	tr    *wsman.HTTPTransport
	pool  *psrp.RunspacePool
	log   *slog.Logger
	stamp *StampInformation
	skew  time.Duration
	rec   *wsman.Recorder // the trace, when one is written

	mu     sync.Mutex
	closed bool
}

// Dial opens a PEP session on the first ERCS address that answers, trying
// the addresses in order, with the module's retries (3 attempts, 10 s
// apart, no wait after the last). What waiting cannot mend (wrong
// credentials, a certificate that does not verify) is not retried, and an
// address that accepted the connection but stopped answering is not tried
// again. It warns (an Event) when the PEP's clock is more than
// MaxClockSkew from this machine's.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if len(opts.Hosts) == 0 {
		return nil, &Error{Op: "open PEP session", Err: errors.New("no ERCS address given"), Advice: "pass --pep HOST[,HOST…] with the ERCS VM IP addresses"}
	}
	if _, _, ok := strings.Cut(opts.User, `\`); !ok {
		return nil, &Error{Op: "open PEP session", Err: fmt.Errorf("user %q is not DOMAIN\\name", opts.User), Advice: `use the stamp's PEP account, e.g. AZS\CloudAdmin`}
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	if opts.RetryDelay < 0 {
		opts.RetryDelay = 10 * time.Second
	}
	if opts.OperationTimeout <= 0 {
		opts.OperationTimeout = 20 * time.Second
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 15 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Trace == nil {
		opts.Trace = traceFrom(ctx)
	}
	c := &Client{opts: opts, log: opts.Logger}
	if err := c.connect(ctx, opts.Hosts); err != nil {
		return nil, err
	}
	return c, nil
}

// Host returns the ERCS address of the open session, for the caller to
// remember and try first next time.
func (c *Client) Host() string { return c.host }

func (c *Client) event(step, msg string, fraction float64, level string) {
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(Event{Step: step, Message: msg, Fraction: fraction, Level: level})
	}
}

// connect tries each host in order, up to Attempts rounds. A host that
// stopped answering is not tried again in later rounds, and failures that
// cannot change (credentials, certificates, ...) end the loop at once.
func (c *Client) connect(ctx context.Context, hosts []string) error {
	var lastErr error
	stopped := map[string]bool{}
	for attempt := 1; attempt <= c.opts.Attempts; attempt++ {
		for _, h := range hosts {
			if stopped[h] {
				continue
			}
			c.event("connect", fmt.Sprintf("Initializing session with privileged endpoint: %s. Attempt %d of %d", h, attempt, c.opts.Attempts), -1, "info")
			err := c.open(ctx, h)
			if err == nil {
				c.host = h
				c.checkClock()
				return nil
			}
			lastErr = classify("open PEP session", h, err)
			c.log.Debug("pep: open session failed", "host", h, "err", err)
			if errors.Is(lastErr, ErrStopped) {
				stopped[h] = true
			} else if ctx.Err() != nil || !retryable(err) {
				return lastErr
			}
			c.event("connect", fmt.Sprintf("Creation of session with %s failed: %v", h, err), -1, "warning")
		}
		if len(stopped) == len(hosts) {
			break
		}
		if attempt < c.opts.Attempts {
			if err := sleep(ctx, c.opts.RetryDelay); err != nil {
				return lastErr
			}
		}
	}
	var pe *Error
	if len(hosts) > 1 && errors.As(lastErr, &pe) {
		// Name every address tried; the cause shown is the last one's.
		return &Error{Op: pe.Op, Host: strings.Join(hosts, ", "), Err: fmt.Errorf("none answered; %s: %w", pe.Host, pe.Err), Advice: pe.Advice}
	}
	return lastErr
}

// checkClock compares this machine's clock with the PEP's Date header and
// warns when they are more than MaxClockSkew apart.
func (c *Client) checkClock() {
	skew, ok := c.tr.ClockSkew()
	if !ok {
		return
	}
	c.skew = skew
	if skew.Abs() <= MaxClockSkew {
		return
	}
	side := "ahead of"
	if skew < 0 {
		side = "behind"
	}
	c.event("connect", fmt.Sprintf("The PEP's clock is %s %s this machine's clock (more than %s): the UTC times in manifests and the ledger will not match the stamp's; correct this machine's clock, or note the difference", skew.Abs().Round(time.Second), side, MaxClockSkew), -1, "warning")
}

// ClockSkew returns how far the PEP's clock was ahead of this machine's
// (negative: behind) when the session opened, from its HTTP Date header,
// to one second; 0 if the PEP sent no Date.
func (c *Client) ClockSkew() time.Duration { return c.skew }

// endpoint returns the WS-Man URL of HOST[:PORT].
func (c *Client) endpoint(host string) (string, error) {
	scheme, port := "http", "5985"
	if c.opts.HTTPS {
		scheme, port = "https", "5986"
	}
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		h, p = strings.Trim(host, "[]"), port
	}
	if h == "" {
		return "", fmt.Errorf("empty host in %q", host)
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("bad port in %q", host)
	}
	return scheme + "://" + net.JoinHostPort(h, p) + "/wsman", nil
}

func (c *Client) open(ctx context.Context, host string) error {
	url, err := c.endpoint(host)
	if err != nil {
		return err
	}
	tr, err := wsman.NewHTTPTransport(url, wsman.HTTPOptions{User: c.opts.User, Password: c.opts.Password, RootCAs: c.opts.RootCAs})
	if err != nil {
		return err
	}
	tr.DialTimeout = c.opts.DialTimeout
	tr.ResponseTimeout = c.opts.OperationTimeout + c.opts.IdleTimeout
	tr.Dial = c.opts.Dial
	tr.Now = c.opts.Now
	var t wsman.Transport = tr
	if c.opts.Trace != nil {
		// One recorder for the client's whole life, so that a reopened
		// session continues the same recording.
		if c.rec == nil {
			secrets := []string{c.opts.Password}
			if c.opts.Transcripts != nil {
				secrets = append(secrets, c.opts.Transcripts.Password)
			}
			c.rec = &wsman.Recorder{W: c.opts.Trace, Redact: secrets, Scrub: psrp.ScrubSecureStrings}
		}
		c.rec.Next = tr
		t = c.rec
	}
	wc := &wsman.Client{Transport: t, To: url, OperationTimeout: c.opts.OperationTimeout}
	pool, err := psrp.Open(ctx, wc, psrp.PoolOptions{Logger: c.log})
	if err != nil {
		tr.Close()
		return err
	}
	if c.tr != nil {
		c.tr.Close()
	}
	c.tr, c.pool = tr, pool
	return nil
}

// Stats returns the wire counters of the current connection.
func (c *Client) Stats() (requests, handshakes int, sent, recv int64) {
	if c.tr == nil || c.tr.Stats == nil {
		return 0, 0, 0, 0
	}
	return c.tr.Stats.Snapshot()
}

// EnableStats starts counting requests and bytes on the current transport.
func (c *Client) EnableStats() {
	if c.tr != nil {
		c.tr.Stats = &wsman.Stats{}
	}
}

// invoke runs one cmdlet with named parameters and returns its output. The
// error stream's records fail the call, as PowerShell's Invoke-Command with
// -ErrorAction Stop would. An unusable session is reopened first.
func (c *Client) invoke(ctx context.Context, step, cmdlet string, params ...psrp.Parameter) ([]psrp.Value, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, &Error{Op: cmdlet, Host: c.host, Err: errors.New("the PEP session is closed")}
	}
	if c.pool.Err() != nil {
		// The session is unusable (a pipeline could not be signalled or was
		// cut short): open a new one first.
		if err := c.reconnect(ctx); err != nil {
			return nil, err
		}
	}
	res, err := c.pool.Invoke(ctx, psrp.CreatePipeline{Statements: [][]psrp.Command{{{Name: cmdlet, Parameters: params}}}}, psrp.InvokeOptions{
		OnRecord: func(r psrp.Record) { c.record(step, r) },
	})
	if err == nil && len(res.Errors) > 0 {
		err = res.Errors[0]
	}
	if err != nil {
		return nil, classify(cmdlet, c.host, err)
	}
	return res.Output, nil
}

// record turns a progress, warning, verbose, debug or information record
// into an event. A record whose text is blank, such as PowerShell's
// "Preparing modules for first use." progress with a one-space status,
// gives none: it would be printed as an empty line.
func (c *Client) record(step string, r psrp.Record) {
	msg := r.Message
	if r.Type == psrp.ProgressRecordType && r.Progress != nil {
		msg = r.Progress.StatusDescription
	}
	if strings.TrimSpace(msg) == "" {
		return
	}
	switch r.Type {
	case psrp.ProgressRecordType:
		f := -1.0
		if p := r.Progress; p != nil && p.PercentComplete >= 0 && p.PercentComplete <= 100 {
			f = float64(p.PercentComplete) / 100
		}
		c.event(step, msg, f, "progress")
	case psrp.WarningRecordType:
		c.event(step, r.Message, -1, "warning")
	case psrp.VerboseRecordType, psrp.DebugRecordType:
		c.event(step, r.Message, -1, "verbose")
	default:
		c.event(step, r.Message, -1, "info")
	}
}

// retry runs op with the module's retry loop: Attempts tries, RetryDelay
// apart (the module also sleeps after the last failure; we do not), with
// the module's warning and "Waiting ..." lines. Failures that cannot change
// by waiting are not retried (see retryable). The session is reused when
// it is still usable (a failed pipeline the client signalled); when it is
// not, invoke reopens it, starting with the host that worked.
func (c *Client) retry(ctx context.Context, step, warning string, op func() error) error {
	var err error
	for attempt := 1; attempt <= c.opts.Attempts; attempt++ {
		if attempt > 1 {
			c.event(step, fmt.Sprintf("%s. Attempt %d of %d", step, attempt, c.opts.Attempts), -1, "info")
		}
		if err = op(); err == nil || ctx.Err() != nil || !retryable(err) {
			return err
		}
		c.event(step, warning+" "+oneLine(err.Error()), -1, "warning")
		if attempt == c.opts.Attempts {
			break
		}
		c.event(step, fmt.Sprintf("Waiting %d seconds and trying again...", int(c.opts.RetryDelay.Round(time.Second)/time.Second)), -1, "info")
		if serr := sleep(ctx, c.opts.RetryDelay); serr != nil {
			return err
		}
	}
	return err
}

// reconnect releases the unusable session on the server if it is still
// there (briefly) and opens a new one, starting with the host that worked.
func (c *Client) reconnect(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_ = c.pool.Close(dctx)
	cancel()
	return c.connect(ctx, append([]string{c.host}, without(c.opts.Hosts, c.host)...))
}

func isPowerShellError(err error) bool {
	var rec *psrp.ErrorRecord
	return errors.As(err, &rec)
}

func without(hosts []string, h string) []string {
	var out []string
	for _, x := range hosts {
		if x != h {
			out = append(out, x)
		}
	}
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close runs Close-PrivilegedEndpoint, then deletes the shell. With
// Options.Transcripts it exports the session transcripts as
// [Client.CloseWithTranscripts] does. It is safe to call more than once. A
// failure of Close-PrivilegedEndpoint does not stop the Delete; both
// errors are reported. When the session is unusable (the PEP stopped
// answering, a pipeline could not be signalled), Close only tries the
// Delete, for at most 5 seconds.
func (c *Client) Close(ctx context.Context) error {
	return c.close(ctx, c.opts.Transcripts)
}

// CloseWithTranscripts closes the session as Close does, running
// Close-PrivilegedEndpoint -TranscriptsPathDestination t.Path -Credential
// (t.User, t.Password): the PEP copies the session transcripts to that
// share, as the PEP documentation asks at the end of every session. The
// password travels only as a SecureString encrypted with the session key
// exchanged for it ([MS-PSRP] 2.2.5.1.24) and is kept out of traces. A
// failed export is an error matching [ErrTranscripts]; the session is
// deleted all the same.
func (c *Client) CloseWithTranscripts(ctx context.Context, t TranscriptExport) error {
	return c.close(ctx, &t)
}

func (c *Client) close(ctx context.Context, t *TranscriptExport) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	var cerr error
	switch {
	case c.pool.Err() == nil && t != nil:
		cerr = c.exportTranscripts(ctx, *t)
	case c.pool.Err() == nil:
		_, cerr = c.invoke(ctx, "close", "Close-PrivilegedEndpoint")
	case t != nil:
		cerr = &Error{Op: "Close-PrivilegedEndpoint", Host: c.host, Err: transcriptsError{c.pool.Err()},
			Advice: "the transcripts could not be exported because the PEP session had failed; open a new session to export them"}
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	dctx, cancel := ctx, context.CancelFunc(func() {})
	if c.pool.Err() != nil {
		// The PEP stopped answering or left a pipeline running: try to
		// release the session, briefly.
		dctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	}
	derr := c.pool.Close(dctx)
	cancel()
	c.tr.Close()
	if derr != nil {
		derr = classify("close PEP session", c.host, derr)
	}
	return errors.Join(cerr, derr)
}

// exportTranscripts runs Close-PrivilegedEndpoint with the transcript
// share and its credential.
func (c *Client) exportTranscripts(ctx context.Context, t TranscriptExport) error {
	const cmd = "Close-PrivilegedEndpoint"
	if err := t.validate(); err != nil {
		return &Error{Op: cmd, Err: transcriptsError{err}, Advice: `give the share as \\server\share\folder and its account as DOMAIN\user, with the password`}
	}
	if c.rec != nil {
		c.rec.Hide(t.Password)
	}
	c.event("close", "Exporting the session transcripts to "+t.Path, -1, "info")
	pw, err := c.pool.SecureString(ctx, t.Password)
	if err != nil {
		return c.transcriptsFailed(classify(cmd, c.host, err))
	}
	_, err = c.invoke(ctx, "close", cmd,
		psrp.Parameter{Name: "TranscriptsPathDestination", Value: psrp.String(t.Path)},
		psrp.Parameter{Name: "Credential", Value: psrp.PSCredential(t.User, pw)},
	)
	if err != nil {
		return c.transcriptsFailed(err)
	}
	c.event("close", "The session transcripts were exported to "+t.Path, -1, "info")
	return nil
}

// transcriptsFailed marks err as a failed transcript export.
func (c *Client) transcriptsFailed(err error) error {
	var pe *Error
	if !errors.As(err, &pe) {
		return &Error{Op: "Close-PrivilegedEndpoint", Host: c.host, Err: transcriptsError{err}}
	}
	e := *pe
	e.Err = transcriptsError{pe.Err}
	if e.Advice == "" || isPowerShellError(pe.Err) {
		e.Advice = "the PEP could not copy the transcripts: check the share path, that the ERCS VM can reach the share, and that the account may write to it"
	}
	return &e
}
