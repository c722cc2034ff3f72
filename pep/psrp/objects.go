package psrp

import (
	"fmt"
	"strconv"
	"strings"
)

// Body is the decoded data of one PSRP message type.
type Body interface {
	// MessageType is the type the body travels as.
	MessageType() MessageType
	// MarshalCLIXML returns the CLIXML data (without a byte order mark).
	MarshalCLIXML() []byte
}

// Type names used in the message bodies.
const (
	typeApartmentState      = "System.Management.Automation.Runspaces.ApartmentState"
	typePSThreadOptions     = "System.Management.Automation.Runspaces.PSThreadOptions"
	typeRemoteStreamOptions = "System.Management.Automation.Runspaces.RemoteStreamOptions"
	typePipelineResultTypes = "System.Management.Automation.Runspaces.PipelineResultTypes"
	typePSObjectList        = "System.Collections.Generic.List`1[[System.Management.Automation.PSObject, System.Management.Automation, Version=1.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
	typeErrorRecord         = "System.Management.Automation.ErrorRecord"
	typeProgressRecordType  = "System.Management.Automation.ProgressRecordType"
)

func members(vs ...Value) Value { return ObjValue(&Object{Members: vs}) }

func nullHostInfo(name string) Value {
	return Named(name, members(
		Named("_isHostNull", Bool(true)),
		Named("_isHostUINull", Bool(true)),
		Named("_isHostRawUINull", Bool(true)),
		Named("_useRunspaceHost", Bool(true)),
	))
}

// member returns the named member of v or an error naming it.
func member(v Value, what, name string) (Value, error) {
	m, ok := v.Member(name)
	if !ok {
		return Value{}, fmt.Errorf("%w: %s has no %s", ErrCLIXML, what, name)
	}
	return m, nil
}

func memberInt(v Value, what, name string) (int64, error) {
	m, err := member(v, what, name)
	if err != nil {
		return 0, err
	}
	n, err := m.Int()
	if err != nil {
		return 0, fmt.Errorf("%s.%s: %w", what, name, err)
	}
	return n, nil
}

func memberBool(v Value, name string) bool {
	m, ok := v.Member(name)
	return ok && m.Kind == "B" && strings.EqualFold(strings.TrimSpace(m.Text), "true")
}

// SessionCapability is the SESSION_CAPABILITY message both sides send first
// ([MS-PSRP] 2.2.2.1).
type SessionCapability struct {
	ProtocolVersion      string // "2.3"
	PSVersion            string // "2.0"
	SerializationVersion string // "1.1.0.1"
}

// DefaultSessionCapability is what pypsrp and PowerShell 5.1 send.
var DefaultSessionCapability = SessionCapability{ProtocolVersion: "2.3", PSVersion: "2.0", SerializationVersion: "1.1.0.1"}

// MessageType returns SessionCapabilityType.
func (SessionCapability) MessageType() MessageType { return SessionCapabilityType }

// MarshalCLIXML encodes the capability.
func (c SessionCapability) MarshalCLIXML() []byte {
	return members(
		Named("protocolversion", Value{Kind: "Version", Text: c.ProtocolVersion}),
		Named("PSVersion", Value{Kind: "Version", Text: c.PSVersion}),
		Named("SerializationVersion", Value{Kind: "Version", Text: c.SerializationVersion}),
	).MarshalCLIXML()
}

// ParseSessionCapability decodes SESSION_CAPABILITY data.
func ParseSessionCapability(data []byte) (SessionCapability, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return SessionCapability{}, err
	}
	c := SessionCapability{
		ProtocolVersion:      v.MemberStr("protocolversion"),
		PSVersion:            v.MemberStr("PSVersion"),
		SerializationVersion: v.MemberStr("SerializationVersion"),
	}
	if c.ProtocolVersion == "" {
		return c, fmt.Errorf("%w: SESSION_CAPABILITY has no protocolversion", ErrCLIXML)
	}
	return c, nil
}

// InitRunspacePool is the INIT_RUNSPACEPOOL message ([MS-PSRP] 2.2.2.2),
// always with a null host and no application arguments.
type InitRunspacePool struct {
	MinRunspaces, MaxRunspaces int32
}

// MessageType returns InitRunspacePoolType.
func (InitRunspacePool) MessageType() MessageType { return InitRunspacePoolType }

// MarshalCLIXML encodes the request.
func (p InitRunspacePool) MarshalCLIXML() []byte {
	return members(
		Named("MinRunspaces", Int32(p.MinRunspaces)),
		Named("MaxRunspaces", Int32(p.MaxRunspaces)),
		Named("PSThreadOptions", Enum(typePSThreadOptions, "Default", 0)),
		Named("ApartmentState", Enum(typeApartmentState, "UNKNOWN", 2)),
		nullHostInfo("HostInfo"),
		Named("ApplicationArguments", Nil()),
	).MarshalCLIXML()
}

// ParseInitRunspacePool decodes INIT_RUNSPACEPOOL data.
func ParseInitRunspacePool(data []byte) (InitRunspacePool, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return InitRunspacePool{}, err
	}
	lo, err := memberInt(v, "INIT_RUNSPACEPOOL", "MinRunspaces")
	if err != nil {
		return InitRunspacePool{}, err
	}
	hi, err := memberInt(v, "INIT_RUNSPACEPOOL", "MaxRunspaces")
	if err != nil {
		return InitRunspacePool{}, err
	}
	return InitRunspacePool{MinRunspaces: int32(lo), MaxRunspaces: int32(hi)}, nil
}

// ApplicationPrivateData is the APPLICATION_PRIVATE_DATA message
// ([MS-PSRP] 2.2.2.13): a dictionary, normally holding PSVersionTable.
type ApplicationPrivateData struct {
	Data Value // the ApplicationPrivateData member (a PSPrimitiveDictionary)
}

// MessageType returns ApplicationPrivateDataType.
func (ApplicationPrivateData) MessageType() MessageType { return ApplicationPrivateDataType }

// MarshalCLIXML encodes the data.
func (a ApplicationPrivateData) MarshalCLIXML() []byte {
	return members(Named("ApplicationPrivateData", a.Data)).MarshalCLIXML()
}

// PSVersionTable returns a dictionary of the PSVersionTable entries as
// strings, for a server to send.
func PSVersionTable(entries map[string]string, order []string) ApplicationPrivateData {
	const dict = "System.Management.Automation.PSPrimitiveDictionary"
	inner := &Object{TypeNames: []string{dict, "System.Collections.Hashtable", "System.Object"}, IsDict: true}
	for _, k := range order {
		inner.Dict = append(inner.Dict, DictEntry{Key: String(k), Value: Value{Kind: "Version", Text: entries[k]}})
	}
	outer := &Object{TypeNames: inner.TypeNames, IsDict: true, Dict: []DictEntry{{Key: String("PSVersionTable"), Value: ObjValue(inner)}}}
	return ApplicationPrivateData{Data: ObjValue(outer)}
}

// ParseApplicationPrivateData decodes APPLICATION_PRIVATE_DATA data.
func ParseApplicationPrivateData(data []byte) (ApplicationPrivateData, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return ApplicationPrivateData{}, err
	}
	d, err := member(v, "APPLICATION_PRIVATE_DATA", "ApplicationPrivateData")
	return ApplicationPrivateData{Data: d}, err
}

// RunspacePoolState is a value of the RunspacePoolState enumeration
// ([MS-PSRP] 2.2.3.4).
type RunspacePoolState int32

// Runspace pool states.
const (
	PoolBeforeOpen           RunspacePoolState = 0
	PoolOpening              RunspacePoolState = 1
	PoolOpened               RunspacePoolState = 2
	PoolClosed               RunspacePoolState = 3
	PoolClosing              RunspacePoolState = 4
	PoolBroken               RunspacePoolState = 5
	PoolNegotiationSent      RunspacePoolState = 6
	PoolNegotiationSucceeded RunspacePoolState = 7
	PoolConnecting           RunspacePoolState = 8
	PoolDisconnected         RunspacePoolState = 9
)

var poolStateNames = []string{"BeforeOpen", "Opening", "Opened", "Closed", "Closing", "Broken", "NegotiationSent", "NegotiationSucceeded", "Connecting", "Disconnected"}

// String returns the .NET name of the state.
func (s RunspacePoolState) String() string {
	if s >= 0 && int(s) < len(poolStateNames) {
		return poolStateNames[s]
	}
	return "RunspacePoolState(" + strconv.Itoa(int(s)) + ")"
}

// RunspacePoolStateMessage is the RUNSPACEPOOL_STATE message
// ([MS-PSRP] 2.2.2.9).
type RunspacePoolStateMessage struct {
	State RunspacePoolState
	Error *ErrorRecord // ExceptionAsErrorRecord, when the server gives one
}

// MessageType returns RunspacePoolStateType.
func (RunspacePoolStateMessage) MessageType() MessageType { return RunspacePoolStateType }

// MarshalCLIXML encodes the state.
func (s RunspacePoolStateMessage) MarshalCLIXML() []byte {
	ms := []Value{Named("RunspaceState", Int32(int32(s.State)))}
	if s.Error != nil {
		ms = append(ms, Named("ExceptionAsErrorRecord", s.Error.Value()))
	}
	return members(ms...).MarshalCLIXML()
}

// ParseRunspacePoolState decodes RUNSPACEPOOL_STATE data.
func ParseRunspacePoolState(data []byte) (RunspacePoolStateMessage, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return RunspacePoolStateMessage{}, err
	}
	n, err := memberInt(v, "RUNSPACEPOOL_STATE", "RunspaceState")
	if err != nil {
		return RunspacePoolStateMessage{}, err
	}
	s := RunspacePoolStateMessage{State: RunspacePoolState(n)}
	if e, ok := v.Member("ExceptionAsErrorRecord"); ok && !e.IsNil() {
		s.Error = ErrorRecordFromValue(e)
	}
	return s, nil
}

// Parameter is one argument of a command: a named parameter, a switch
// (Value Nil) or, with an empty Name, a positional argument.
type Parameter struct {
	Name  string
	Value Value
}

// Command is one command of a pipeline ([MS-PSRP] 2.2.3.12).
type Command struct {
	Name       string // cmdlet name, or script text when IsScript
	IsScript   bool   // the PEP refuses scripts; the client never sets this
	Parameters []Parameter
}

// CreatePipeline is the CREATE_PIPELINE message ([MS-PSRP] 2.2.2.10). Each
// statement is a pipeline of commands; more than one statement travels in
// ExtraCmds as pypsrp and PowerShell send them.
type CreatePipeline struct {
	NoInput    bool
	Statements [][]Command
}

// MessageType returns CreatePipelineType.
func (CreatePipeline) MessageType() MessageType { return CreatePipelineType }

func (c Command) value() Value {
	none := func(name string) Value { return Named(name, Enum(typePipelineResultTypes, "None", 0)) }
	args := make([]Value, 0, len(c.Parameters))
	for _, p := range c.Parameters {
		n := Nil()
		if p.Name != "" {
			n = String(p.Name)
		}
		args = append(args, members(Named("N", n), Named("V", p.Value)))
	}
	return members(
		Named("Cmd", String(c.Name)),
		Named("IsScript", Bool(c.IsScript)),
		Named("UseLocalScope", Nil()),
		none("MergeMyResult"), none("MergeToResult"), none("MergePreviousResults"),
		Named("Args", ObjValue(&Object{TypeNames: []string{typePSObjectList, "System.Object"}, ListKind: "LST", List: args})),
		none("MergeError"), none("MergeWarning"), none("MergeVerbose"), none("MergeDebug"), none("MergeInformation"),
	)
}

func commandList(cmds []Command) Value {
	items := make([]Value, 0, len(cmds))
	for _, c := range cmds {
		items = append(items, c.value())
	}
	return ObjValue(&Object{TypeNames: []string{typePSObjectList, "System.Object"}, ListKind: "LST", List: items})
}

// MarshalCLIXML encodes the request in pypsrp's exact layout.
func (p CreatePipeline) MarshalCLIXML() []byte {
	extra := Nil()
	var first []Command
	if len(p.Statements) > 0 {
		first = p.Statements[0]
	}
	if len(p.Statements) > 1 {
		stmts := make([]Value, 0, len(p.Statements))
		for _, s := range p.Statements {
			stmts = append(stmts, members(Named("Cmds", commandList(s))))
		}
		extra = ObjValue(&Object{TypeNames: []string{typePSObjectList, "System.Object"}, ListKind: "LST", List: stmts})
	}
	ps := members(
		Named("IsNested", Bool(false)),
		Named("ExtraCmds", extra),
		Named("Cmds", commandList(first)),
		Named("History", Nil()),
		Named("RedirectShellErrorOutputPipe", Bool(false)),
	)
	return members(
		Named("NoInput", Bool(p.NoInput)),
		Named("ApartmentState", Enum(typeApartmentState, "UNKNOWN", 2)),
		Named("RemoteStreamOptions", Enum(typeRemoteStreamOptions, "AddInvocationInfo", 15)),
		Named("AddToHistory", Bool(false)),
		nullHostInfo("HostInfo"),
		Named("PowerShell", ps),
		Named("IsNested", Bool(false)),
	).MarshalCLIXML()
}

// ParseCreatePipeline decodes CREATE_PIPELINE data, as a server does.
func ParseCreatePipeline(data []byte) (CreatePipeline, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return CreatePipeline{}, err
	}
	ps, err := member(v, "CREATE_PIPELINE", "PowerShell")
	if err != nil {
		return CreatePipeline{}, err
	}
	p := CreatePipeline{NoInput: memberBool(v, "NoInput")}
	if extra, ok := ps.Member("ExtraCmds"); ok && !extra.IsNil() && extra.target() != nil {
		for _, st := range extra.target().List {
			cmds, err := member(st, "ExtraCmds statement", "Cmds")
			if err != nil {
				return p, err
			}
			s, err := parseCommands(cmds)
			if err != nil {
				return p, err
			}
			p.Statements = append(p.Statements, s)
		}
		return p, nil
	}
	cmds, err := member(ps, "PowerShell", "Cmds")
	if err != nil {
		return p, err
	}
	s, err := parseCommands(cmds)
	if err != nil {
		return p, err
	}
	p.Statements = [][]Command{s}
	return p, nil
}

func parseCommands(list Value) ([]Command, error) {
	o := list.target()
	if o == nil {
		return nil, fmt.Errorf("%w: Cmds is not a list", ErrCLIXML)
	}
	var cmds []Command
	for _, cv := range o.List {
		name, err := member(cv, "command", "Cmd")
		if err != nil {
			return nil, err
		}
		c := Command{Name: name.Str(), IsScript: memberBool(cv, "IsScript")}
		if args, ok := cv.Member("Args"); ok && args.target() != nil {
			for _, a := range args.target().List {
				n, _ := a.Member("N")
				val, _ := a.Member("V")
				val.Name = ""
				pname := ""
				if !n.IsNil() {
					pname = n.Str()
				}
				c.Parameters = append(c.Parameters, Parameter{Name: pname, Value: val})
			}
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

// PipelineInput is the PIPELINE_INPUT message: one input object.
type PipelineInput struct{ Value Value }

// MessageType returns PipelineInputType.
func (PipelineInput) MessageType() MessageType { return PipelineInputType }

// MarshalCLIXML encodes the object.
func (p PipelineInput) MarshalCLIXML() []byte { return p.Value.MarshalCLIXML() }

// EndOfPipelineInput is the END_OF_PIPELINE_INPUT message; its data is empty.
type EndOfPipelineInput struct{}

// MessageType returns EndOfPipelineInputType.
func (EndOfPipelineInput) MessageType() MessageType { return EndOfPipelineInputType }

// MarshalCLIXML returns no data.
func (EndOfPipelineInput) MarshalCLIXML() []byte { return nil }

// PipelineOutput is the PIPELINE_OUTPUT message: one output object.
type PipelineOutput struct{ Value Value }

// MessageType returns PipelineOutputType.
func (PipelineOutput) MessageType() MessageType { return PipelineOutputType }

// MarshalCLIXML encodes the object.
func (p PipelineOutput) MarshalCLIXML() []byte { return p.Value.MarshalCLIXML() }

// PSInvocationState is a value of the PSInvocationState enumeration
// ([MS-PSRP] 2.2.3.5).
type PSInvocationState int32

// Pipeline states.
const (
	PipelineNotStarted   PSInvocationState = 0
	PipelineRunning      PSInvocationState = 1
	PipelineStopping     PSInvocationState = 2
	PipelineStopped      PSInvocationState = 3
	PipelineCompleted    PSInvocationState = 4
	PipelineFailed       PSInvocationState = 5
	PipelineDisconnected PSInvocationState = 6
)

var pipelineStateNames = []string{"NotStarted", "Running", "Stopping", "Stopped", "Completed", "Failed", "Disconnected"}

// String returns the .NET name of the state.
func (s PSInvocationState) String() string {
	if s >= 0 && int(s) < len(pipelineStateNames) {
		return pipelineStateNames[s]
	}
	return "PSInvocationState(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether the pipeline has finished.
func (s PSInvocationState) Terminal() bool {
	return s == PipelineStopped || s == PipelineCompleted || s == PipelineFailed
}

// PipelineState is the PIPELINE_STATE message ([MS-PSRP] 2.2.2.21).
type PipelineState struct {
	State PSInvocationState
	Error *ErrorRecord // ExceptionAsErrorRecord on Failed or Stopped
}

// MessageType returns PipelineStateType.
func (PipelineState) MessageType() MessageType { return PipelineStateType }

// MarshalCLIXML encodes the state.
func (s PipelineState) MarshalCLIXML() []byte {
	ms := []Value{Named("PipelineState", Int32(int32(s.State)))}
	if s.Error != nil {
		ms = append(ms, Named("ExceptionAsErrorRecord", s.Error.Value()))
	}
	return members(ms...).MarshalCLIXML()
}

// ParsePipelineState decodes PIPELINE_STATE data.
func ParsePipelineState(data []byte) (PipelineState, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return PipelineState{}, err
	}
	n, err := memberInt(v, "PIPELINE_STATE", "PipelineState")
	if err != nil {
		return PipelineState{}, err
	}
	s := PipelineState{State: PSInvocationState(n)}
	if e, ok := v.Member("ExceptionAsErrorRecord"); ok && !e.IsNil() {
		s.Error = ErrorRecordFromValue(e)
	}
	return s, nil
}

// ErrorRecord is a PowerShell error record ([MS-PSRP] 2.2.3.15), from an
// ERROR_RECORD message or a state message's ExceptionAsErrorRecord. It is a
// Go error.
type ErrorRecord struct {
	Message               string // what PowerShell prints: ErrorDetails, else the exception message
	ExceptionType         string // most derived exception type, e.g. System.Management.Automation.ParseException
	FullyQualifiedErrorID string // e.g. ScriptsNotAllowed
	Category              int32  // ErrorCategory enumeration value
	CategoryMessage       string // e.g. "ParserError: (…) [], ParseException"
	Reason                string // ErrorCategory_Reason
	TargetName            string // ErrorCategory_TargetName
	TargetObject          string
	Command               string // InvocationInfo MyCommand, when present
}

// Error returns the PowerShell message and the FullyQualifiedErrorId.
func (e *ErrorRecord) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.CategoryMessage
	}
	// `throw "text"` makes the text its own FullyQualifiedErrorId; saying it
	// twice would only confuse.
	if e.FullyQualifiedErrorID != "" && e.FullyQualifiedErrorID != msg {
		return msg + " (" + e.FullyQualifiedErrorID + ")"
	}
	return msg
}

// MessageType returns ErrorRecordType.
func (*ErrorRecord) MessageType() MessageType { return ErrorRecordType }

// MarshalCLIXML encodes the record as an ERROR_RECORD message body.
func (e *ErrorRecord) MarshalCLIXML() []byte { return e.Value().MarshalCLIXML() }

// Value returns the record as a serialized System.Management.Automation.ErrorRecord.
func (e *ErrorRecord) Value() Value {
	excType := e.ExceptionType
	if excType == "" {
		excType = "System.Management.Automation.RuntimeException"
	}
	exTS := excType + ": " + e.Message
	exc := &Object{
		TypeNames: []string{excType, "System.Exception", "System.Object"},
		ToString:  &exTS,
		Props: []Value{
			Named("Message", String(e.Message)),
			Named("HResult", Int32(-2146233087)),
		},
	}
	ts := e.Message
	ms := []Value{
		Named("writeErrorStream", Bool(true)),
		Named("Exception", ObjValue(exc)),
		Named("TargetObject", stringOrNil(e.TargetObject)),
		Named("FullyQualifiedErrorId", String(e.FullyQualifiedErrorID)),
	}
	if e.Command != "" {
		cmd := "System.Management.Automation.InvocationInfo"
		ms = append(ms, Named("InvocationInfo", ObjValue(&Object{
			TypeNames: []string{cmd, "System.Object"}, ToString: &cmd,
			Props: []Value{Named("MyCommand", String(e.Command)), Named("InvocationName", String(e.Command))},
		})))
	} else {
		ms = append(ms, Named("InvocationInfo", Nil()))
	}
	ms = append(ms,
		Named("ErrorCategory_Category", Int32(e.Category)),
		Named("ErrorCategory_Activity", String(e.Command)),
		Named("ErrorCategory_Reason", String(e.Reason)),
		Named("ErrorCategory_TargetName", String(e.TargetName)),
		Named("ErrorCategory_TargetType", String(targetType(e.TargetObject))),
		Named("ErrorCategory_Message", String(e.CategoryMessage)),
		Named("SerializeExtendedInfo", Bool(false)),
	)
	return ObjValue(&Object{TypeNames: []string{typeErrorRecord, "System.Object"}, ToString: &ts, Members: ms})
}

func stringOrNil(s string) Value {
	if s == "" {
		return Nil()
	}
	return String(s)
}

func targetType(obj string) string {
	if obj == "" {
		return ""
	}
	return "String"
}

// ErrorRecordFromValue reads an error record from its serialized form.
func ErrorRecordFromValue(v Value) *ErrorRecord {
	e := &ErrorRecord{
		FullyQualifiedErrorID: v.MemberStr("FullyQualifiedErrorId"),
		CategoryMessage:       v.MemberStr("ErrorCategory_Message"),
		Reason:                v.MemberStr("ErrorCategory_Reason"),
		TargetName:            v.MemberStr("ErrorCategory_TargetName"),
		TargetObject:          v.MemberStr("TargetObject"),
	}
	if c, ok := v.Member("ErrorCategory_Category"); ok {
		n, _ := c.Int()
		e.Category = int32(n)
	}
	exc, _ := v.Member("Exception")
	if o := exc.target(); o != nil && len(o.TypeNames) > 0 {
		e.ExceptionType = o.TypeNames[0]
	}
	if inv, ok := v.Member("InvocationInfo"); ok {
		e.Command = inv.MemberStr("MyCommand")
	}
	if e.Command == "" {
		e.Command = v.MemberStr("InvocationInfo_MyCommand")
	}
	switch {
	case v.MemberStr("ErrorDetails_Message") != "":
		e.Message = v.MemberStr("ErrorDetails_Message")
	case exc.MemberStr("Message") != "":
		e.Message = exc.MemberStr("Message")
	case v.target() != nil && v.target().ToString != nil:
		e.Message = *v.target().ToString
	}
	return e
}

// ParseErrorRecord decodes ERROR_RECORD data.
func ParseErrorRecord(data []byte) (*ErrorRecord, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return nil, err
	}
	if _, ok := v.Member("FullyQualifiedErrorId"); !ok {
		return nil, fmt.Errorf("%w: ERROR_RECORD has no FullyQualifiedErrorId", ErrCLIXML)
	}
	return ErrorRecordFromValue(v), nil
}

// InformationalRecord is a DEBUG_RECORD, VERBOSE_RECORD or WARNING_RECORD
// message ([MS-PSRP] 2.2.2.22–24).
type InformationalRecord struct {
	Type    MessageType // DebugRecordType, VerboseRecordType or WarningRecordType
	Message string
}

// MessageType returns the record's type.
func (r InformationalRecord) MessageType() MessageType { return r.Type }

// MarshalCLIXML encodes the record.
func (r InformationalRecord) MarshalCLIXML() []byte {
	kind := map[MessageType]string{DebugRecordType: "Debug", VerboseRecordType: "Verbose", WarningRecordType: "Warning"}[r.Type]
	msg := r.Message
	return ObjValue(&Object{
		TypeNames: []string{"System.Management.Automation." + kind + "Record", "System.Management.Automation.InformationalRecord", "System.Object"},
		ToString:  &msg,
		Members: []Value{
			Named("InformationalRecord_Message", String(r.Message)),
			Named("InformationalRecord_SerializeInvocationInfo", Bool(false)),
		},
	}).MarshalCLIXML()
}

// ParseInformationalRecord decodes a debug, verbose or warning record.
func ParseInformationalRecord(t MessageType, data []byte) (InformationalRecord, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return InformationalRecord{}, err
	}
	msg := v.MemberStr("InformationalRecord_Message")
	if msg == "" {
		msg = v.Str()
	}
	return InformationalRecord{Type: t, Message: msg}, nil
}

// ProgressRecord is the PROGRESS_RECORD message ([MS-PSRP] 2.2.2.25).
type ProgressRecord struct {
	Activity          string
	ActivityID        int32
	StatusDescription string
	CurrentOperation  string
	ParentActivityID  int32 // -1 for none
	PercentComplete   int32 // -1 when unknown
	Completed         bool  // RecordType Completed rather than Processing
	SecondsRemaining  int32 // -1 when unknown
}

// MessageType returns ProgressRecordType.
func (ProgressRecord) MessageType() MessageType { return ProgressRecordType }

// MarshalCLIXML encodes the record.
func (r ProgressRecord) MarshalCLIXML() []byte {
	kind, n := "Processing", int32(0)
	if r.Completed {
		kind, n = "Completed", 1
	}
	return members(
		Named("Activity", String(r.Activity)),
		Named("ActivityId", Int32(r.ActivityID)),
		Named("StatusDescription", String(r.StatusDescription)),
		Named("CurrentOperation", stringOrNil(r.CurrentOperation)),
		Named("ParentActivityId", Int32(r.ParentActivityID)),
		Named("PercentComplete", Int32(r.PercentComplete)),
		Named("Type", Enum(typeProgressRecordType, kind, n)),
		Named("SecondsRemaining", Int32(r.SecondsRemaining)),
	).MarshalCLIXML()
}

// ParseProgressRecord decodes PROGRESS_RECORD data.
func ParseProgressRecord(data []byte) (ProgressRecord, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return ProgressRecord{}, err
	}
	num := func(name string) int32 {
		m, _ := v.Member(name)
		n, err := m.Int()
		if err != nil {
			return -1
		}
		return int32(n)
	}
	typ, _ := v.Member("Type")
	n, _ := typ.Int()
	return ProgressRecord{
		Activity:          v.MemberStr("Activity"),
		ActivityID:        num("ActivityId"),
		StatusDescription: v.MemberStr("StatusDescription"),
		CurrentOperation:  v.MemberStr("CurrentOperation"),
		ParentActivityID:  num("ParentActivityId"),
		PercentComplete:   num("PercentComplete"),
		Completed:         n == 1,
		SecondsRemaining:  num("SecondsRemaining"),
	}, nil
}

// InformationRecord is the INFORMATION_RECORD message ([MS-PSRP] 2.2.2.26),
// as written by Write-Information and Write-Host.
type InformationRecord struct {
	Message string // MessageData as text
	Source  string
	Tags    []string
}

// MessageType returns InformationRecordType.
func (InformationRecord) MessageType() MessageType { return InformationRecordType }

// MarshalCLIXML encodes the record.
func (r InformationRecord) MarshalCLIXML() []byte {
	tags := make([]Value, 0, len(r.Tags))
	for _, t := range r.Tags {
		tags = append(tags, String(t))
	}
	return members(
		Named("MessageData", String(r.Message)),
		Named("SerializeExtendedInfo", Bool(false)),
		Named("Source", String(r.Source)),
		Named("Tags", ObjValue(&Object{
			TypeNames: []string{"System.Collections.Generic.List`1[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]", "System.Object"},
			ListKind:  "LST", List: tags,
		})),
	).MarshalCLIXML()
}

// ParseInformationRecord decodes INFORMATION_RECORD data.
func ParseInformationRecord(data []byte) (InformationRecord, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return InformationRecord{}, err
	}
	r := InformationRecord{Message: v.MemberStr("MessageData"), Source: v.MemberStr("Source")}
	if tags, ok := v.Member("Tags"); ok && tags.target() != nil {
		for _, t := range tags.target().List {
			r.Tags = append(r.Tags, t.Str())
		}
	}
	return r, nil
}
