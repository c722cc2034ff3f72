package psrp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/azs-courier/azs-courier/pep/wsman"
)

// StateError reports a pool or pipeline in a state that does not allow the
// action tried.
type StateError struct {
	Action   string // what was tried, e.g. "open runspace pool"
	State    string // the state reached
	Expected string // the state required
	Record   *ErrorRecord
	Cause    error // for a pool the client found broken: why
}

// Error names the action and both states, and the server's reason.
func (e *StateError) Error() string {
	msg := fmt.Sprintf("psrp: %s: runspace pool is %s, want %s", e.Action, e.State, e.Expected)
	switch {
	case e.Record != nil:
		msg += ": " + e.Record.Error()
	case e.Cause != nil:
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the server's error record or the cause, if any.
func (e *StateError) Unwrap() error {
	if e.Record != nil {
		return e.Record
	}
	return e.Cause
}

// PoolOptions configures [Open].
type PoolOptions struct {
	// ID is the runspace pool ID, sent as the ShellId; zero picks a random one.
	ID GUID
	// NewPipelineID returns pipeline IDs; nil picks random ones.
	NewPipelineID func() GUID
	// MaxEnvelopeSize sizes fragments (default 153600).
	MaxEnvelopeSize int
	// NoTerminateSignal skips the Signal Terminate pypsrp ≥ 0.9 sends after
	// each pipeline; set it only to replay older recordings.
	NoTerminateSignal bool
	// KeyPair is the RSA key for the session key exchange; nil makes a
	// fresh one when a SecureString is first needed. Set it only to replay
	// a recording.
	KeyPair *rsa.PrivateKey
	// Logger receives debug lines; nil discards.
	Logger *slog.Logger
}

// RunspacePool is an open PowerShell runspace pool on a WinRS shell.
type RunspacePool struct {
	ID    GUID
	Shell *wsman.Shell
	// ServerCapability is the server's SESSION_CAPABILITY.
	ServerCapability SessionCapability
	// ApplicationPrivateData holds the server's PSVersionTable.
	ApplicationPrivateData Value

	opts   PoolOptions
	frag   *Fragmenter
	defrag Defragmenter
	log    *slog.Logger
	broken error // why the pool can no longer run pipelines, or nil

	// The session key for SecureStrings ([MS-PSRP] 3.1.1.2.7): the
	// client's key pair, whether its PUBLIC_KEY went out (once per pool),
	// and the AES key once the server sent it.
	keyPair    *rsa.PrivateKey
	keySent    bool
	sessionKey []byte
}

// signalTimeout bounds the Signal the client sends after a pipeline failed
// on its side or its context ended: the cleanup may run a little past the
// caller's deadline, never longer than this.
const signalTimeout = 5 * time.Second

// Err returns nil while the pool can run pipelines, else why it cannot: a
// pipeline that failed and could not be signalled afterwards, so the
// server may still be running it in the pool's only runspace ([MS-PSRP]
// 3.1.5.3.13). A pool with an error is to be closed and opened anew.
func (p *RunspacePool) Err() error { return p.broken }

// Open creates the shell with SESSION_CAPABILITY and INIT_RUNSPACEPOOL in
// its creationXml and receives until the pool is Opened. A Broken or Closed
// pool is a [*StateError] carrying the server's error record; the shell is
// then deleted.
func Open(ctx context.Context, c *wsman.Client, opts PoolOptions) (*RunspacePool, error) {
	if opts.ID.IsZero() {
		opts.ID = NewGUID()
	}
	if opts.MaxEnvelopeSize <= 0 {
		opts.MaxEnvelopeSize = 153600
	}
	p := &RunspacePool{ID: opts.ID, opts: opts, frag: NewFragmenter(opts.MaxEnvelopeSize), log: opts.Logger, keyPair: opts.KeyPair}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	capMsg, _ := NewMessage(DestinationServer, p.ID, GUID{}, DefaultSessionCapability).MarshalBinary()
	initMsg, _ := NewMessage(DestinationServer, p.ID, GUID{}, InitRunspacePool{MinRunspaces: 1, MaxRunspaces: 1}).MarshalBinary()
	shell, err := c.CreateShell(ctx, p.ID.String(), p.frag.Encode(capMsg, initMsg))
	if err != nil {
		return nil, fmt.Errorf("psrp: open runspace pool: %w", err)
	}
	p.Shell = shell
	if err := p.waitOpened(ctx); err != nil {
		p.deleteQuietly()
		return nil, err
	}
	return p, nil
}

func (p *RunspacePool) waitOpened(ctx context.Context) error {
	opened := false
	for !opened {
		resp, err := p.Shell.Receive(ctx, "")
		if err != nil {
			return fmt.Errorf("psrp: open runspace pool: %w", err)
		}
		if resp.NoData {
			continue
		}
		msgs, err := p.poolMessages(resp)
		if err != nil {
			return fmt.Errorf("psrp: open runspace pool: %w", err)
		}
		// Handle the whole reply: messages may follow RUNSPACEPOOL_STATE.
		for _, m := range msgs {
			done, err := p.handleOpening(ctx, m)
			if err != nil {
				return err
			}
			opened = opened || done
		}
	}
	if p.keySent && p.sessionKey == nil {
		// The server asked for our key while the pool opened; finish the
		// exchange now rather than leave its reply waiting.
		return p.ExchangeKey(ctx)
	}
	return nil
}

// poolMessages reassembles the pool-level messages of a Receive reply.
func (p *RunspacePool) poolMessages(resp *wsman.Response) ([]Message, error) {
	var out []Message
	for _, s := range resp.Streams {
		raws, err := p.defrag.AddData(s.Data)
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			var m Message
			if err := m.UnmarshalBinary(raw); err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}

func (p *RunspacePool) handleOpening(ctx context.Context, m Message) (bool, error) {
	if !m.RPID.IsZero() && !SameID(m.RPID, p.ID) {
		return false, fmt.Errorf("psrp: open runspace pool: message for pool %s, want %s", m.RPID, p.ID)
	}
	switch m.Type {
	case SessionCapabilityType:
		c, err := ParseSessionCapability(m.Data)
		if err != nil {
			return false, fmt.Errorf("psrp: open runspace pool: %w", err)
		}
		p.ServerCapability = c
	case ApplicationPrivateDataType:
		d, err := ParseApplicationPrivateData(m.Data)
		if err != nil {
			return false, fmt.Errorf("psrp: open runspace pool: %w", err)
		}
		p.ApplicationPrivateData = d.Data
	case RunspacePoolStateType:
		s, err := ParseRunspacePoolState(m.Data)
		if err != nil {
			return false, fmt.Errorf("psrp: open runspace pool: %w", err)
		}
		switch s.State {
		case PoolOpened:
			return true, nil
		case PoolBroken, PoolClosed:
			return true, &StateError{Action: "open runspace pool", State: s.State.String(), Expected: PoolOpened.String(), Record: s.Error}
		}
	case PublicKeyRequestType, EncryptedSessionKeyType:
		if err := p.handleKeyMessage(ctx, m); err != nil {
			return false, fmt.Errorf("psrp: open runspace pool: %w", err)
		}
	default:
		p.log.Debug("psrp: ignored message while opening", "type", m.Type)
	}
	return false, nil
}

// keyTransferTimeout bounds waiting for ENCRYPTED_SESSION_KEY, as
// PowerShell's session key transfer timer does ([MS-PSRP] 3.1.2).
const keyTransferTimeout = 60 * time.Second

// ExchangeKey makes sure the pool holds a session key for SecureStrings.
// Unless the server already asked for the client's key (PUBLIC_KEY_REQUEST,
// server-initiated transfer, [MS-PSRP] 4.1.6), it sends a fresh 2048-bit
// RSA public key (client-initiated, 4.1.5); then it receives on the pool
// until the ENCRYPTED_SESSION_KEY arrives. A failure breaks the pool
// ([MS-PSRP] 3.1.5.3.13: a fault on a pool message).
func (p *RunspacePool) ExchangeKey(ctx context.Context) error {
	if p.sessionKey != nil {
		return nil
	}
	if p.broken != nil {
		return &StateError{Action: "exchange session key", State: PoolBroken.String(), Expected: PoolOpened.String(), Cause: p.broken}
	}
	err := p.exchangeKey(ctx)
	if err != nil && ctx.Err() == nil {
		p.broken = err
	}
	return err
}

func (p *RunspacePool) exchangeKey(ctx context.Context) error {
	if !p.keySent {
		if err := p.sendPublicKey(ctx); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, keyTransferTimeout)
	defer cancel()
	for p.sessionKey == nil {
		resp, err := p.Shell.Receive(ctx, "")
		if err != nil {
			return fmt.Errorf("psrp: receive session key: %w", err)
		}
		if resp.NoData {
			continue
		}
		msgs, err := p.poolMessages(resp)
		if err != nil {
			return fmt.Errorf("psrp: receive session key: %w", err)
		}
		for _, m := range msgs {
			if err := p.handleKeyMessage(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// handleKeyMessage answers PUBLIC_KEY_REQUEST with PUBLIC_KEY (once per
// pool) and stores the key of ENCRYPTED_SESSION_KEY; other pool messages
// are ignored, as PowerShell's client does with those it has no use for.
func (p *RunspacePool) handleKeyMessage(ctx context.Context, m Message) error {
	switch m.Type {
	case PublicKeyRequestType:
		if p.keySent {
			return nil // [MS-PSRP] 3.1.5.4.3: sent only once per pool
		}
		return p.sendPublicKey(ctx)
	case EncryptedSessionKeyType:
		if p.keyPair == nil {
			return fmt.Errorf("%w: the server sent a session key before it was asked", ErrSessionKey)
		}
		k, err := ParseEncryptedSessionKey(m.Data)
		if err != nil {
			return fmt.Errorf("psrp: session key: %w", err)
		}
		key, err := DecryptSessionKey(p.keyPair, k.Blob)
		if err != nil {
			return err
		}
		p.sessionKey = key
	default:
		p.log.Debug("psrp: ignored pool message", "type", m.Type)
	}
	return nil
}

// sendPublicKey makes the client's key pair and sends PUBLIC_KEY to the
// pool.
func (p *RunspacePool) sendPublicKey(ctx context.Context) error {
	if p.keyPair == nil {
		k, err := rsa.GenerateKey(rand.Reader, SessionKeyBits)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrSessionKey, err)
		}
		p.keyPair = k
	}
	msg, _ := NewMessage(DestinationServer, p.ID, GUID{}, PublicKey{Blob: PublicKeyBlob(&p.keyPair.PublicKey)}).MarshalBinary()
	p.keySent = true
	if err := p.Shell.Send(ctx, "", "stdin", p.frag.Encode(msg)); err != nil {
		return fmt.Errorf("psrp: send public key: %w", err)
	}
	return nil
}

// SecureString returns plain as an <SS> value encrypted with the pool's
// session key, exchanging the key first if need be. The plain text is
// never kept in the value or sent.
func (p *RunspacePool) SecureString(ctx context.Context, plain string) (Value, error) {
	if err := p.ExchangeKey(ctx); err != nil {
		return Value{}, err
	}
	text, err := EncryptSecureString(p.sessionKey, plain)
	if err != nil {
		return Value{}, err
	}
	return Value{Kind: "SS", Text: text}, nil
}

// deleteQuietly deletes the shell with a short context of its own, for
// cleanup after a failure.
func (p *RunspacePool) deleteQuietly() {
	ctx, cancel := context.WithTimeout(context.Background(), signalTimeout)
	defer cancel()
	if err := p.Shell.Delete(ctx); err != nil {
		p.log.Debug("psrp: delete shell after failure", "err", err)
	}
}

// Close deletes the shell, closing the pool.
func (p *RunspacePool) Close(ctx context.Context) error {
	if err := p.Shell.Delete(ctx); err != nil {
		return fmt.Errorf("psrp: close runspace pool: %w", err)
	}
	return nil
}

// Record is an informational record a pipeline produced: progress,
// warning, verbose, debug or information.
type Record struct {
	Type     MessageType // ProgressRecordType, WarningRecordType, …
	Message  string
	Progress *ProgressRecord // set for progress records
}

// Result is what a finished pipeline produced.
type Result struct {
	Output []Value
	Errors []*ErrorRecord // non-terminating errors (the error stream)
	State  PSInvocationState
}

// InvokeOptions configures [RunspacePool.Invoke].
type InvokeOptions struct {
	// Input is sent as PIPELINE_INPUT messages followed by
	// END_OF_PIPELINE_INPUT; NoInput is set when it is nil.
	Input []Value
	// OnRecord receives progress, warning, verbose, debug and information
	// records as they arrive.
	OnRecord func(Record)
}

// Invoke runs one pipeline: CREATE_PIPELINE through Command (and Send for
// further fragments), optional input, then Receive until PIPELINE_STATE is
// terminal, re-polling on w:TimedOut. A Failed or Stopped pipeline returns
// the server's [*ErrorRecord] as the error, with the partial result.
//
// When a message for the pipeline fails on the client's side (a WS-Man
// fault, a transport error, a reply that cannot be decoded), Invoke sends
// Signal Terminate for it before returning ([MS-PSRP] 3.1.5.3.13): the
// server then ends the pipeline and frees the pool's runspace for the next
// command. If that Signal cannot be delivered, the pool is broken (see
// [RunspacePool.Err]). When ctx ends while the pipeline runs, Invoke sends
// the stop signal and returns ctx's error.
func (p *RunspacePool) Invoke(ctx context.Context, pipeline CreatePipeline, opts InvokeOptions) (*Result, error) {
	if p.broken != nil {
		return nil, &StateError{Action: "start pipeline " + commandNames(pipeline), State: PoolBroken.String(), Expected: PoolOpened.String(), Cause: p.broken}
	}
	pid := NewGUID()
	if p.opts.NewPipelineID != nil {
		pid = p.opts.NewPipelineID()
	}
	pipeline.NoInput = opts.Input == nil
	msg, _ := NewMessage(DestinationServer, p.ID, pid, pipeline).MarshalBinary()
	frags := p.frag.Fragment(msg)
	first, _ := frags[0].AppendBinary(nil)
	cmdID, err := p.Shell.Command(ctx, pid.String(), first)
	if err != nil {
		p.commandFailed(ctx, pid.String(), err)
		return nil, fmt.Errorf("psrp: start pipeline: %w", err)
	}
	pl := &pipelineRun{pool: p, id: pid, cmdID: cmdID, opts: opts}
	res, err := pl.run(ctx, frags[1:])
	switch {
	case err != nil && ended(ctx, err):
		pl.stop()
		if ctx.Err() == nil {
			return res, fmt.Errorf("psrp: pipeline %s: %w", commandNames(pipeline), err)
		}
		return res, fmt.Errorf("psrp: pipeline %s: %w", commandNames(pipeline), ctx.Err())
	case err != nil && (res == nil || !res.State.Terminal()):
		p.terminate(ctx, cmdID, err)
	case !p.opts.NoTerminateSignal && res.State.Terminal():
		if serr := p.Shell.Signal(ctx, cmdID, wsman.SignalTerminate); serr != nil {
			// The pipeline has ended and the runspace is free; only the
			// WinRS command object stays behind.
			p.log.Debug("psrp: terminate signal", "err", serr)
		}
	}
	return res, err
}

// terminate closes a pipeline that failed on the client's side with
// Signal Terminate, within signalTimeout of its own. If the Signal is not
// delivered the pool is marked broken.
func (p *RunspacePool) terminate(ctx context.Context, cmdID string, cause error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signalTimeout)
	defer cancel()
	if err := p.Shell.Signal(sctx, cmdID, wsman.SignalTerminate); err != nil {
		p.broken = fmt.Errorf("psrp: pipeline %s failed (%v) and could not be closed: %w", cmdID, cause, err)
		p.log.Debug("psrp: terminate after failure", "err", err)
	}
}

// ended reports whether err comes from ctx ending (the connection's
// deadline, set from ctx's, may fire a moment before ctx reports it).
func ended(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// commandFailed handles a Command that did not succeed. A fault means the
// server did not create the pipeline; an InvalidSelectors fault means the
// shell itself is gone. Without a reply the server may have created it,
// so it is signalled: InvalidSelectors then means there is none.
func (p *RunspacePool) commandFailed(ctx context.Context, cmdID string, cause error) {
	var f *wsman.Fault
	if errors.As(cause, &f) {
		if f.WSManCode == wsman.CodeInvalidSelectors {
			p.broken = fmt.Errorf("psrp: the shell is gone: %w", cause)
		}
		return
	}
	if ended(ctx, cause) {
		// The caller gave up before the server answered: whether the
		// pipeline started is unknown and there is no time to find out.
		// Deleting the shell ends it either way.
		p.broken = fmt.Errorf("psrp: Command %s was cut short (%v); the pipeline may be running", cmdID, cause)
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signalTimeout)
	defer cancel()
	if err := p.Shell.Signal(sctx, cmdID, wsman.SignalTerminate); err != nil && !(errors.As(err, &f) && f.WSManCode == wsman.CodeInvalidSelectors) {
		p.broken = fmt.Errorf("psrp: Command %s got no reply (%v) and could not be closed: %w", cmdID, cause, err)
	}
}

func commandNames(p CreatePipeline) string {
	var names []string
	for _, s := range p.Statements {
		for _, c := range s {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, " | ")
}

type pipelineRun struct {
	pool   *RunspacePool
	id     GUID
	cmdID  string
	opts   InvokeOptions
	defrag Defragmenter
}

func (pl *pipelineRun) run(ctx context.Context, rest []Fragment) (*Result, error) {
	p := pl.pool
	for _, f := range rest {
		b, _ := f.AppendBinary(nil)
		if err := p.Shell.Send(ctx, pl.cmdID, "stdin", b); err != nil {
			return nil, fmt.Errorf("psrp: send pipeline: %w", err)
		}
	}
	if pl.opts.Input != nil {
		var msgs [][]byte
		for _, v := range pl.opts.Input {
			b, _ := NewMessage(DestinationServer, p.ID, pl.id, PipelineInput{Value: v}).MarshalBinary()
			msgs = append(msgs, b)
		}
		eop, _ := NewMessage(DestinationServer, p.ID, pl.id, EndOfPipelineInput{}).MarshalBinary()
		msgs = append(msgs, eop)
		if err := p.Shell.Send(ctx, pl.cmdID, "stdin", p.frag.Encode(msgs...)); err != nil {
			return nil, fmt.Errorf("psrp: send pipeline input: %w", err)
		}
	}
	res := &Result{State: PipelineRunning}
	for {
		resp, err := p.Shell.Receive(ctx, pl.cmdID)
		if err != nil {
			return res, fmt.Errorf("psrp: receive pipeline output: %w", err)
		}
		if resp.NoData {
			continue
		}
		for _, s := range resp.Streams {
			if s.CommandID != "" && !strings.EqualFold(s.CommandID, pl.cmdID) {
				continue
			}
			msgs, err := pl.defrag.AddData(s.Data)
			if err != nil {
				return res, fmt.Errorf("psrp: receive pipeline output: %w", err)
			}
			for _, raw := range msgs {
				var m Message
				if err := m.UnmarshalBinary(raw); err != nil {
					return res, fmt.Errorf("psrp: receive pipeline output: %w", err)
				}
				if err := pl.handle(m, res); err != nil {
					return res, err
				}
			}
		}
		if res.State.Terminal() {
			return res, nil
		}
		if resp.CommandDone {
			return res, fmt.Errorf("psrp: pipeline ended without a final PIPELINE_STATE")
		}
	}
}

var errStateRecord = errors.New("psrp: pipeline failed without an error record")

func (pl *pipelineRun) handle(m Message, res *Result) error {
	// Accept either GUID byte order (pypsrp's 2018 recordings wrote RFC
	// order); a message for another pipeline is not ours.
	if !m.PID.IsZero() && !SameID(m.PID, pl.id) {
		pl.pool.log.Debug("psrp: message for another pipeline", "type", m.Type, "pid", m.PID)
		return nil
	}
	emit := func(r Record) {
		if pl.opts.OnRecord != nil {
			pl.opts.OnRecord(r)
		}
	}
	switch m.Type {
	case PipelineOutputType:
		v, err := UnmarshalCLIXML(m.Data)
		if err != nil {
			return fmt.Errorf("psrp: pipeline output: %w", err)
		}
		res.Output = append(res.Output, v)
	case ErrorRecordType:
		e, err := ParseErrorRecord(m.Data)
		if err != nil {
			return fmt.Errorf("psrp: error record: %w", err)
		}
		res.Errors = append(res.Errors, e)
	case PipelineStateType:
		s, err := ParsePipelineState(m.Data)
		if err != nil {
			return fmt.Errorf("psrp: pipeline state: %w", err)
		}
		res.State = s.State
		switch s.State {
		case PipelineFailed, PipelineStopped:
			switch {
			case s.Error != nil:
				return s.Error
			case len(res.Errors) > 0:
				return res.Errors[len(res.Errors)-1]
			}
			return fmt.Errorf("%w (state %s)", errStateRecord, s.State)
		}
	case ProgressRecordType:
		r, err := ParseProgressRecord(m.Data)
		if err != nil {
			return fmt.Errorf("psrp: progress record: %w", err)
		}
		emit(Record{Type: m.Type, Message: r.Activity + ": " + r.StatusDescription, Progress: &r})
	case WarningRecordType, VerboseRecordType, DebugRecordType:
		r, err := ParseInformationalRecord(m.Type, m.Data)
		if err != nil {
			return fmt.Errorf("psrp: %s: %w", m.Type, err)
		}
		emit(Record{Type: m.Type, Message: r.Message})
	case InformationRecordType:
		r, err := ParseInformationRecord(m.Data)
		if err != nil {
			return fmt.Errorf("psrp: information record: %w", err)
		}
		emit(Record{Type: m.Type, Message: r.Message})
	default:
		pl.pool.log.Debug("psrp: ignored message", "type", m.Type)
	}
	return nil
}

// stop sends the PowerShell stop signal with a short context of its own,
// after the caller's context ended. If it cannot be delivered the pool is
// marked broken: the pipeline may still hold the runspace.
func (pl *pipelineRun) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), signalTimeout)
	defer cancel()
	if err := pl.pool.Shell.Signal(ctx, pl.cmdID, wsman.SignalStop); err != nil {
		pl.pool.broken = fmt.Errorf("psrp: pipeline %s was cancelled and could not be stopped: %w", pl.cmdID, err)
		pl.pool.log.Debug("psrp: stop signal", "err", err)
	}
}
