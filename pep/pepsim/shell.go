package pepsim

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/azs-courier/azs-courier/pep/psrp"
)

// replyEnvelopeSize is the client's MaxEnvelopeSize the server fills
// Receive replies up to; pypsrp and our client send 153600 at first.
const replyEnvelopeSize = 153600

// shell is one runspace pool: a WinRS shell of the PrivilegedEndpoint
// configuration. Its fields are guarded by Server.mu.
type shell struct {
	id       string // ShellId as the client chose it
	rpid     psrp.GUID
	owner    string
	clientIP string
	state    psrp.RunspacePoolState
	frag     *psrp.Fragmenter // server object IDs, shared by pool and pipelines
	defrag   psrp.Defragmenter
	out      []string // base64 fragments waiting for a pool Receive
	pipes    map[string]*pipeline
	wake     chan struct{} // closed and replaced when output arrives or the runspace frees
	// The pool has one runspace (MinRunspaces = MaxRunspaces = 1, as the
	// client asks): holder is the pipeline running in it, waiting the
	// pipelines queued for it in order. A pipeline holds the runspace until
	// it finishes or is signalled (or the shell is deleted), as on Windows.
	holder  *pipeline
	waiting []*pipeline
	// modulesLoaded is set once the first command ran: PowerShell then
	// stops reporting "Preparing modules for first use.".
	modulesLoaded bool
	// sessionKey is the AES-256 key for SecureStrings, made when the client
	// sends its public key ([MS-PSRP] 3.2.5.4.3).
	sessionKey []byte
}

// pipeline is one PowerShell invocation: a WinRS command.
type pipeline struct {
	id        string // CommandId as the client chose it
	pid       psrp.GUID
	defrag    psrp.Defragmenter
	started   bool
	inputDone chan struct{}
	out       []string // base64 fragments waiting for a Receive
	done      bool     // the terminal PIPELINE_STATE is queued
	cancel    context.CancelFunc
	signal    string // the Signal code that ended it, if any
}

func (sh *shell) notify() {
	close(sh.wake)
	sh.wake = make(chan struct{})
}

// queue encodes body as a message from the server and appends its
// fragments to the pool's (p == nil) or the pipeline's output. Callers hold
// Server.mu.
func (sh *shell) queue(p *pipeline, body psrp.Body) {
	var pid psrp.GUID
	rpid := sh.rpid
	if p != nil {
		pid = p.pid
	}
	switch body.MessageType() {
	case psrp.SessionCapabilityType, // a nil RPID in every recording
		psrp.EncryptedSessionKeyType, psrp.PublicKeyRequestType: // [MS-PSRP] 3.2.5.4.4, 3.2.5.4.5
		rpid = psrp.GUID{}
	}
	m := psrp.NewMessage(psrp.DestinationClient, rpid, pid, body)
	raw, _ := m.MarshalBinary()
	for _, f := range sh.frag.Fragment(raw) {
		b, _ := f.AppendBinary(nil)
		enc := base64.StdEncoding.EncodeToString(b)
		if p != nil {
			p.out = append(p.out, enc)
		} else {
			sh.out = append(sh.out, enc)
		}
	}
	if p != nil {
		switch st := body.(type) {
		case psrp.PipelineState:
			p.done = p.done || st.State.Terminal()
		case rawBody:
			p.done = p.done || st.terminal
		}
	}
	sh.notify()
}

func (s *Server) lookupShell(req *request) (*shell, *wsmanFault) {
	id := req.selector("ShellId")
	sh := s.shells[strings.ToUpper(id)]
	if sh == nil {
		return nil, faultNoShell(id)
	}
	return sh, nil
}

// create opens a runspace pool from the creationXml of a Create request.
func (s *Server) create(req *request, cs *connState) (string, *wsmanFault) {
	body := req.Body.Shell
	switch {
	case body == nil:
		return "", faultSchema("The Create request has no rsp:Shell element.")
	case strings.TrimSpace(body.InputStreams) == "" || strings.TrimSpace(body.OutputStreams) == "":
		return "", faultInvalid("The WS-Management service cannot process the request because the input or output streams of the shell are missing. ")
	case strings.TrimSpace(body.CreationXML) == "":
		return "", faultInvalid("The WS-Management service cannot process the request because the creationXml for the PowerShell shell is missing. ")
	}
	v, comply, ok := req.optionComply("protocolversion")
	switch {
	case !ok || !strings.HasPrefix(v, "2."):
		return "", faultInvalid("The WS-Management service cannot process the request because the protocolversion option is missing or not 2.x. ")
	case !comply:
		// [MS-PSRP] 3.1.5.3.1: Name = ProtocolVersion, MustComply=True.
		return "", faultInvalid(`The WS-Management service cannot process the request because the protocolversion option does not carry MustComply="true". `)
	}
	idle := "PT7200.000S" // WinRM's default when the client asks for none
	if t := strings.TrimSpace(body.IdleTimeOut); t != "" {
		if _, err := operationTimeout(t); err != nil {
			return "", faultInvalid(fmt.Sprintf("The IdleTimeOut %q is not an xs:duration. ", t))
		}
		idle = t
	}
	rpid, err := psrp.ParseGUID(body.ShellID)
	if err != nil {
		return "", faultInvalid(fmt.Sprintf("The ShellId %q is not a GUID. ", body.ShellID))
	}
	data, err := decodeBase64(body.CreationXML)
	if err != nil {
		return "", faultInvalid("The creationXml is not valid base64. ")
	}
	sh := &shell{
		id:    strings.ToUpper(body.ShellID),
		rpid:  rpid,
		owner: cs.identity,
		frag:  psrp.NewFragmenter(replyEnvelopeSize),
		pipes: make(map[string]*pipeline),
		wake:  make(chan struct{}),
	}
	if host, _, err := net.SplitHostPort(cs.conn.RemoteAddr().String()); err == nil {
		sh.clientIP = host
	}
	msgs, err := sh.defrag.AddData(data)
	if err != nil {
		return "", faultInvalid(fmt.Sprintf("The creationXml does not hold PSRP fragments: %v. ", err))
	}
	var gotCap, gotInit bool
	for _, raw := range msgs {
		var m psrp.Message
		if err := m.UnmarshalBinary(raw); err != nil {
			return "", faultInvalid(fmt.Sprintf("The creationXml holds a bad PSRP message: %v. ", err))
		}
		if !psrp.SameID(m.RPID, rpid) {
			return "", faultInvalid("The creationXml messages name another runspace pool than the ShellId. ")
		}
		switch m.Type {
		case psrp.SessionCapabilityType:
			c, err := psrp.ParseSessionCapability(m.XML())
			if err != nil || !strings.HasPrefix(c.ProtocolVersion, "2.") {
				return "", faultInvalid("The client's SESSION_CAPABILITY is missing or not protocol 2.x. ")
			}
			gotCap = true
		case psrp.InitRunspacePoolType:
			if _, err := psrp.ParseInitRunspacePool(m.XML()); err != nil {
				return "", faultInvalid(fmt.Sprintf("The client's INIT_RUNSPACEPOOL is not valid: %v. ", err))
			}
			gotInit = true
		}
	}
	if !gotCap || !gotInit {
		return "", faultInvalid("The creationXml must hold SESSION_CAPABILITY and INIT_RUNSPACEPOOL. ")
	}

	s.mu.Lock()
	if s.shells[sh.id] != nil {
		s.mu.Unlock()
		return "", faultInvalid(fmt.Sprintf("A shell with ShellId %s already exists. ", sh.id))
	}
	s.shells[sh.id] = sh
	proto, _ := req.option("protocolversion")
	s.sessions = append(s.sessions, Session{ShellID: sh.id, Owner: sh.owner, Locale: req.Header.Locale.Lang,
		DataLocale: req.Header.DataLocale.Lang, ProtocolVersion: proto,
		OperationTimeout: req.Header.OperationTimeout, MaxEnvelopeSize: req.Header.MaxEnvelopeSize,
		IdleTimeout: strings.TrimSpace(body.IdleTimeOut)})
	sh.queue(nil, psrp.DefaultSessionCapability)
	sh.queue(nil, psrp.PSVersionTable(psVersionTable, psVersionOrder))
	if s.faults.BrokenPool {
		sh.state = psrp.PoolBroken
		sh.queue(nil, poolBroken())
	} else {
		sh.state = psrp.PoolOpened
		sh.queue(nil, psrp.RunspacePoolStateMessage{State: psrp.PoolOpened})
		if s.opts.RequestPublicKey {
			sh.queue(nil, psrp.PublicKeyRequest{})
		}
	}
	s.mu.Unlock()

	reply := `<x:ResourceCreated><a:Address>` + esc(s.url) + `</a:Address><a:ReferenceParameters><w:ResourceURI>` + ResourceURI +
		`</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">` + sh.id + `</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
		`<rsp:Shell xmlns:rsp="` + nsShell + `"><rsp:ShellId>` + sh.id + `</rsp:ShellId><rsp:ResourceUri>` + ResourceURI + `</rsp:ResourceUri>` +
		`<rsp:Owner>` + esc(sh.owner) + `</rsp:Owner><rsp:ClientIP>` + esc(sh.clientIP) + `</rsp:ClientIP><rsp:ProcessId>4242</rsp:ProcessId>` +
		`<rsp:IdleTimeOut>` + esc(idle) + `</rsp:IdleTimeOut><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>` +
		`<rsp:MaxIdleTimeOut>PT2147483.647S</rsp:MaxIdleTimeOut><rsp:Locale>en-US</rsp:Locale><rsp:DataLocale>en-US</rsp:DataLocale>` +
		`<rsp:CompressionMode>NoCompression</rsp:CompressionMode><rsp:ProfileLoaded>Yes</rsp:ProfileLoaded><rsp:Encoding>UTF8</rsp:Encoding>` +
		`<rsp:BufferMode>Block</rsp:BufferMode><rsp:State>Connected</rsp:State><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>` +
		`<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`
	return s.envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", req.Header.MessageID, reply, false), nil
}

// psVersionTable is what a Windows Server 2019 ERCS VM reports.
var (
	psVersionTable = map[string]string{
		"PSVersion": "5.1.17763.1971", "PSCompatibleVersions": "", "CLRVersion": "4.0.30319.42000",
		"BuildVersion": "10.0.17763.1971", "WSManStackVersion": "3.0", "PSRemotingProtocolVersion": "2.3",
		"SerializationVersion": "1.1.0.1",
	}
	psVersionOrder = []string{"PSVersion", "CLRVersion", "BuildVersion", "WSManStackVersion", "PSRemotingProtocolVersion", "SerializationVersion"}
)

// deleteShell closes a runspace pool and ends its pipelines.
func (s *Server) deleteShell(req *request) (string, *wsmanFault) {
	s.mu.Lock()
	sh, f := s.lookupShell(req)
	if f != nil {
		s.mu.Unlock()
		return "", f
	}
	delete(s.shells, sh.id)
	for _, p := range sh.pipes {
		if p.cancel != nil {
			p.cancel()
		}
	}
	sh.notify()
	s.mu.Unlock()
	return s.envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", req.Header.MessageID, "<s:Body></s:Body>", false), nil
}

// command creates a pipeline from the first CREATE_PIPELINE fragment(s).
func (s *Server) command(req *request) (string, *wsmanFault) {
	cl := req.Body.CommandLine
	if cl == nil {
		return "", faultSchema("The Command request has no rsp:CommandLine element.")
	}
	if cl.Command != nil && strings.TrimSpace(*cl.Command) != "" {
		return "", faultInvalid("The rsp:Command of a PowerShell pipeline must be empty. ")
	}
	pid, err := psrp.ParseGUID(cl.CommandID)
	if err != nil {
		return "", faultInvalid(fmt.Sprintf("The CommandId %q is not a GUID. ", cl.CommandID))
	}
	data, err := decodeBase64(cl.Arguments)
	if err != nil || len(data) == 0 {
		return "", faultInvalid("The rsp:Arguments must hold the CREATE_PIPELINE fragments in base64. ")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, f := s.lookupShell(req)
	if f != nil {
		return "", f
	}
	if sh.state != psrp.PoolOpened {
		return "", faultInvalid(fmt.Sprintf("The runspace pool is %s; no pipeline can start. ", sh.state))
	}
	id := strings.ToUpper(cl.CommandID)
	if sh.pipes[id] != nil {
		return "", faultInvalid(fmt.Sprintf("A command with CommandId %s already exists. ", id))
	}
	p := &pipeline{id: id, pid: pid, inputDone: make(chan struct{})}
	sh.pipes[id] = p
	if f := s.feed(sh, p, data); f != nil {
		delete(sh.pipes, id)
		return "", f
	}
	reply := `<rsp:CommandResponse><rsp:CommandId>` + id + `</rsp:CommandId></rsp:CommandResponse>`
	return s.envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse", req.Header.MessageID, reply, false), nil
}

// feed hands fragments to a pipeline: CREATE_PIPELINE starts it, input
// messages are accepted. Callers hold Server.mu.
func (s *Server) feed(sh *shell, p *pipeline, data []byte) *wsmanFault {
	msgs, err := p.defrag.AddData(data)
	if err != nil {
		return faultInvalid(fmt.Sprintf("Bad PSRP fragments: %v. ", err))
	}
	for _, raw := range msgs {
		var m psrp.Message
		if err := m.UnmarshalBinary(raw); err != nil {
			return faultInvalid(fmt.Sprintf("Bad PSRP message: %v. ", err))
		}
		if m.Destination != psrp.DestinationServer || !psrp.SameID(m.RPID, sh.rpid) || !psrp.SameID(m.PID, p.pid) {
			return faultInvalid("A PSRP message names another runspace pool or pipeline. ")
		}
		switch m.Type {
		case psrp.CreatePipelineType:
			if p.started {
				return faultInvalid("The pipeline was already created. ")
			}
			cp, err := psrp.ParseCreatePipeline(m.XML())
			if err != nil {
				return faultInvalid(fmt.Sprintf("The CREATE_PIPELINE message is not valid: %v. ", err))
			}
			p.started = true
			if cp.NoInput {
				close(p.inputDone)
			}
			ctx, cancel := context.WithCancel(s.ctx)
			p.cancel = cancel
			go s.run(ctx, sh, p, cp)
		case psrp.PipelineInputType:
			// The PEP cmdlets take no pipeline input; it is accepted and dropped.
		case psrp.EndOfPipelineInputType:
			select {
			case <-p.inputDone:
			default:
				close(p.inputDone)
			}
		default:
			s.log.Debug("pepsim: ignored message", "type", m.Type)
		}
	}
	return nil
}

// send takes fragments for the pool or a pipeline.
func (s *Server) send(req *request) (string, *wsmanFault) {
	if req.Body.Send == nil || len(req.Body.Send.Streams) == 0 {
		return "", faultSchema("The Send request has no rsp:Stream element.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, f := s.lookupShell(req)
	if f != nil {
		return "", f
	}
	for _, st := range req.Body.Send.Streams {
		if st.Name != "stdin" && st.Name != "pr" {
			return "", faultInvalid(fmt.Sprintf("The stream %q is not an input stream of this shell. ", st.Name))
		}
		data, err := decodeBase64(st.Data)
		if err != nil {
			return "", faultInvalid("The rsp:Stream is not valid base64. ")
		}
		if st.CommandID == "" {
			if f := s.poolMessages(sh, data); f != nil {
				return "", f
			}
			continue
		}
		p := sh.pipes[strings.ToUpper(st.CommandID)]
		if p == nil {
			return "", faultNoCommand()
		}
		if f := s.feed(sh, p, data); f != nil {
			return "", f
		}
	}
	return s.envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse", req.Header.MessageID, "<rsp:SendResponse/>", false), nil
}

// poolMessages handles messages sent to the pool: PUBLIC_KEY is answered
// with ENCRYPTED_SESSION_KEY ([MS-PSRP] 3.2.5.4.3); others the PEP client
// does not need (SET_MAX_RUNSPACES, ...) are dropped. Callers hold
// Server.mu.
func (s *Server) poolMessages(sh *shell, data []byte) *wsmanFault {
	msgs, err := sh.defrag.AddData(data)
	if err != nil {
		return faultInvalid(fmt.Sprintf("Bad PSRP fragments: %v. ", err))
	}
	for _, raw := range msgs {
		var m psrp.Message
		if err := m.UnmarshalBinary(raw); err != nil {
			return faultInvalid(fmt.Sprintf("Bad PSRP message: %v. ", err))
		}
		if m.Type != psrp.PublicKeyType {
			s.log.Debug("pepsim: ignored pool message", "type", m.Type)
			continue
		}
		k, err := psrp.ParsePublicKey(m.XML())
		if err != nil {
			return faultInvalid(fmt.Sprintf("The PUBLIC_KEY message is not valid: %v. ", err))
		}
		pub, err := psrp.ParsePublicKeyBlob(k.Blob)
		if err != nil {
			return faultInvalid(fmt.Sprintf("The PUBLIC_KEY message is not valid: %v. ", err))
		}
		if sh.sessionKey == nil {
			sh.sessionKey = make([]byte, 32)
			if _, err := io.ReadFull(s.opts.Rand, sh.sessionKey); err != nil {
				sh.sessionKey = nil
				return faultInternal()
			}
		}
		blob, err := psrp.EncryptSessionKey(pub, sh.sessionKey)
		if err != nil {
			return faultInvalid(fmt.Sprintf("The public key cannot take the session key: %v. ", err))
		}
		sh.queue(nil, psrp.EncryptedSessionKey{Blob: blob})
	}
	return nil
}

// receive is WinRS's long poll: it answers as soon as output is waiting,
// or with w:TimedOut after the request's OperationTimeout.
func (s *Server) receive(ctx context.Context, req *request) (string, *wsmanFault, error) {
	if req.Body.Receive == nil {
		return "", faultSchema("The Receive request has no rsp:Receive element."), nil
	}
	timeout, err := operationTimeout(req.Header.OperationTimeout)
	if err != nil {
		return "", faultInvalid(err.Error() + ". "), nil
	}
	cmdID := strings.ToUpper(strings.TrimSpace(req.Body.Receive.DesiredStream.CommandID))
	deadline := time.NewTimer(s.realTime(timeout))
	defer deadline.Stop()

	s.mu.Lock()
	armed := s.faultsArmed()
	if armed && cmdID != "" && take(&s.faults.DropReceives) {
		s.mu.Unlock()
		return "", nil, errDrop
	}
	if armed && take(&s.faults.TimedOut) {
		s.stats.TimedOut++
		s.mu.Unlock()
		return "", faultTimedOut(), nil
	}
	for {
		sh, f := s.lookupShell(req)
		if f != nil {
			s.mu.Unlock()
			return "", f, nil
		}
		var p *pipeline
		if cmdID != "" {
			if p = sh.pipes[cmdID]; p == nil {
				s.mu.Unlock()
				return "", faultNoCommand(), nil
			}
		}
		pending := &sh.out
		if p != nil {
			pending = &p.out
		}
		if len(*pending) > 0 || (p != nil && p.done) {
			reply := s.receiveReply(req.Header.MessageID, cmdID, pending, p, envelopeSize(req))
			s.mu.Unlock()
			return reply, nil, nil
		}
		wake := sh.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			s.mu.Lock()
			s.stats.TimedOut++
			s.mu.Unlock()
			return "", faultTimedOut(), nil
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-s.ctx.Done():
			return "", nil, errClosed
		}
		s.mu.Lock()
	}
}

// receiveReply takes as many waiting fragments as fit one envelope.
// Callers hold Server.mu.
func (s *Server) receiveReply(relates, cmdID string, pending *[]string, p *pipeline, maxEnvelope int) string {
	var b strings.Builder
	b.WriteString("<rsp:ReceiveResponse>")
	budget := maxEnvelope - 4096
	n := 0
	for _, frag := range *pending {
		if n > 0 && len(frag) > budget {
			break
		}
		budget -= len(frag) + 80
		n++
		if cmdID != "" {
			b.WriteString(`<rsp:Stream Name="stdout" CommandId="` + cmdID + `">` + frag + `</rsp:Stream>`)
		} else {
			b.WriteString(`<rsp:Stream Name="stdout">` + frag + `</rsp:Stream>`)
		}
	}
	*pending = (*pending)[n:]
	if p != nil && p.done && len(*pending) == 0 {
		b.WriteString(`<rsp:CommandState CommandId="` + cmdID + `" State="` + commandStateDone + `"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>`)
	}
	b.WriteString("</rsp:ReceiveResponse>")
	return s.envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse", relates, b.String(), false)
}

// envelopeSize is the request's MaxEnvelopeSize, the most the reply may
// hold; WinRM's 153600 when absent or unreadable.
func envelopeSize(req *request) int {
	n, err := strconv.Atoi(strings.TrimSpace(req.Header.MaxEnvelopeSize))
	if err != nil || n < 8192 {
		return replyEnvelopeSize
	}
	return n
}

// Signal codes ([MS-PSRP] 3.1.5.3.9; the plugin's spelling "crtl_c").
const (
	signalStop      = "powershell/signal/crtl_c"
	signalTerminate = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate"
)

// signal stops (crtl_c) or closes (any other code) a pipeline.
func (s *Server) signal(req *request) (string, *wsmanFault) {
	sg := req.Body.Signal
	if sg == nil || sg.CommandID == "" {
		return "", faultSchema("The Signal request needs rsp:Signal with a CommandId.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, f := s.lookupShell(req)
	if f != nil {
		return "", f
	}
	id := strings.ToUpper(sg.CommandID)
	p := sh.pipes[id]
	if p == nil {
		return "", faultNoCommand()
	}
	p.signal = strings.TrimSpace(sg.Code)
	if p.cancel != nil {
		p.cancel()
	}
	if strings.TrimSpace(sg.Code) == signalStop {
		if !p.done {
			sh.queue(p, pipelineEnded(psrp.PipelineStopped, stoppedError()))
		}
	} else {
		delete(sh.pipes, id)
		sh.notify()
	}
	return s.envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse", req.Header.MessageID, "<rsp:SignalResponse/>", false), nil
}

// errStopped ends a cmdlet whose pipeline was stopped or closed.
var errStopped = errors.New("pepsim: pipeline stopped")

// sleep waits d or until ctx ends.
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
		return errStopped
	}
}
