package pepsim

import (
	"github.com/azs-courier/azs-courier/pep/psrp"
)

// rawBody is a message body the simulator builds as a CLIXML value, for
// records whose layout follows the recorded Windows replies more closely
// than the client-side types need to.
type rawBody struct {
	typ      psrp.MessageType
	value    psrp.Value
	terminal bool // a PIPELINE_STATE that ends the pipeline
}

func (b rawBody) MessageType() psrp.MessageType { return b.typ }
func (b rawBody) MarshalCLIXML() []byte         { return b.value.MarshalCLIXML() }

// ErrorCategory values ([MS-PSRP] 2.2.3.15 / System.Management.Automation.ErrorCategory).
const (
	catNotSpecified     = 0
	catInvalidArgument  = 5
	catInvalidData      = 6
	catInvalidOperation = 7
	catObjectNotFound   = 13
	catOperationStopped = 14
	catParserError      = 17
	catResourceBusy     = 19
)

var categoryNames = map[int32]string{
	catNotSpecified: "NotSpecified", catInvalidArgument: "InvalidArgument", catInvalidData: "InvalidData",
	catInvalidOperation: "InvalidOperation", catObjectNotFound: "ObjectNotFound",
	catOperationStopped: "OperationStopped", catParserError: "ParserError", catResourceBusy: "ResourceBusy",
}

// psError describes one PowerShell error record.
type psError struct {
	Exception    []string // exception type chain, most derived first, without System.Object
	Message      string
	FQID         string // FullyQualifiedErrorId
	Category     int32
	Reason       string       // ErrorCategory_Reason: the exception's short type name
	TargetObject string       // "" writes Nil
	Activity     string       // ErrorCategory_Activity: the command, or ""
	Extra        []psrp.Value // more ErrorRecord members
	// ExceptionProps are the exception type's own properties (e.g.
	// CommandName), listed after ErrorRecord as PowerShell does.
	ExceptionProps []psrp.Value
}

// The simulated server has no .NET stack; records carry a fixed one so
// their layout matches the recorded Windows replies.
const (
	simulatedSite  = "Void Invoke() (simulated privileged endpoint)"
	simulatedStack = "   at AzureStack.Simulator.PrivilegedEndpoint.Invoke()"
)

// Exception type chains as PowerShell serializes them.
var (
	excParse = []string{"System.Management.Automation.ParseException", "System.Management.Automation.RuntimeException",
		"System.SystemException", "System.Exception"}
	excCommandNotFound = []string{"System.Management.Automation.CommandNotFoundException",
		"System.Management.Automation.RuntimeException", "System.SystemException", "System.Exception"}
	excParameterValidation = []string{"System.Management.Automation.ParameterBindingValidationException",
		"System.Management.Automation.ParameterBindingException", "System.Management.Automation.RuntimeException",
		"System.SystemException", "System.Exception"}
	excParameterBinding = []string{"System.Management.Automation.ParameterBindingException",
		"System.Management.Automation.RuntimeException", "System.SystemException", "System.Exception"}
	excRuntime         = []string{"System.Management.Automation.RuntimeException", "System.SystemException", "System.Exception"}
	excPipelineStopped = []string{"System.Management.Automation.PipelineStoppedException",
		"System.Management.Automation.RuntimeException", "System.SystemException", "System.Exception"}
	excBroken = []string{"System.Management.Automation.Remoting.PSRemotingTransportException",
		"System.Management.Automation.RuntimeException", "System.SystemException", "System.Exception"}
)

// ellipsize shortens a target name as PowerShell's ErrorCategoryInfo does:
// more than 40 characters become the first 15, "...", the last 15.
func ellipsize(s string) string {
	r := []rune(s)
	if len(r) <= 40 {
		return s
	}
	return string(r[:15]) + "..." + string(r[len(r)-15:])
}

func str(s string) psrp.Value {
	if s == "" {
		return psrp.Nil()
	}
	return psrp.String(s)
}

func named(name string, v psrp.Value) psrp.Value { return psrp.Named(name, v) }

// value returns the serialized ErrorRecord in the layout of the recorded
// Windows replies: writeErrorStream (only in ERROR_RECORD), Exception with
// its adapted properties, TargetObject, FullyQualifiedErrorId,
// InvocationInfo, the ErrorCategory_* members and SerializeExtendedInfo.
func (e psError) value(errorStream bool) psrp.Value {
	excTS := e.Exception[0] + ": " + e.Message + "\r\n" + simulatedStack
	tail := []psrp.Value{
		named("Data", psrp.ObjValue(&psrp.Object{TypeNames: []string{"System.Collections.ListDictionaryInternal", "System.Object"}, IsDict: true})),
		named("InnerException", psrp.Nil()),
		named("TargetSite", psrp.String(simulatedSite)),
		named("StackTrace", psrp.String(simulatedStack)),
		named("HelpLink", psrp.Nil()),
		named("Source", psrp.String("System.Management.Automation")),
		named("HResult", psrp.Int32(-2146233087)),
	}
	var props []psrp.Value
	thrown := psrp.Bool(e.Exception[0] == excRuntime[0])
	if e.Exception[0] == excParse[0] {
		// ParseException lists its properties in this order (recorded).
		props = append(props, named("Errors", psrp.Nil()), named("Message", psrp.String(e.Message)),
			named("ErrorRecord", psrp.String(e.Message)), named("WasThrownFromThrowStatement", thrown))
	} else {
		props = append(props, named("ErrorRecord", psrp.String(e.Message)))
		props = append(props, e.ExceptionProps...)
		props = append(props, named("WasThrownFromThrowStatement", thrown), named("Message", psrp.String(e.Message)))
	}
	exc := &psrp.Object{
		TypeNames: append(append([]string(nil), e.Exception...), "System.Object"),
		ToString:  &excTS,
		Props:     append(props, tail...),
	}
	target := e.TargetObject
	targetType := ""
	if target != "" {
		targetType = "String"
	}
	ts := e.Message
	var ms []psrp.Value
	if errorStream {
		ms = append(ms, named("writeErrorStream", psrp.Bool(true)))
	}
	ms = append(ms,
		named("Exception", psrp.ObjValue(exc)),
		named("TargetObject", str(target)),
		named("FullyQualifiedErrorId", psrp.String(e.FQID)),
		named("InvocationInfo", psrp.Nil()),
		named("ErrorCategory_Category", psrp.Int32(e.Category)),
		named("ErrorCategory_Activity", psrp.String(e.Activity)),
		named("ErrorCategory_Reason", psrp.String(e.Reason)),
		named("ErrorCategory_TargetName", psrp.String(target)),
		named("ErrorCategory_TargetType", psrp.String(targetType)),
		named("ErrorCategory_Message", psrp.String(e.categoryMessage())),
		named("SerializeExtendedInfo", psrp.Bool(false)),
	)
	ms = append(ms, e.Extra...)
	return psrp.ObjValue(&psrp.Object{
		TypeNames: []string{"System.Management.Automation.ErrorRecord", "System.Object"},
		ToString:  &ts,
		Members:   ms,
	})
}

// categoryMessage is ErrorCategoryInfo.ToString():
// "Category: (target:Type) [activity], Reason".
func (e psError) categoryMessage() string {
	name := categoryNames[e.Category]
	if name == "" {
		name = "NotSpecified"
	}
	t := ""
	if e.TargetObject != "" {
		t = "String"
	}
	return name + ": (" + ellipsize(e.TargetObject) + ":" + t + ") [" + e.Activity + "], " + e.Reason
}

// errorRecordBody is an ERROR_RECORD message (a non-terminating error).
func errorRecordBody(e psError) psrp.Body {
	return rawBody{typ: psrp.ErrorRecordType, value: e.value(true)}
}

// pipelineEnded is a terminal PIPELINE_STATE carrying the error as
// ExceptionAsErrorRecord, as the recorded ScriptsNotAllowed failure does.
func pipelineEnded(state psrp.PSInvocationState, e psError) psrp.Body {
	v := psrp.ObjValue(&psrp.Object{Members: []psrp.Value{
		named("PipelineState", psrp.Int32(int32(state))),
		named("ExceptionAsErrorRecord", e.value(false)),
	}})
	return rawBody{typ: psrp.PipelineStateType, value: v, terminal: true}
}

// scriptsNotAllowed is the error a NoLanguage JEA runspace gives a script.
func scriptsNotAllowed(script string) psError {
	return psError{
		Exception:    excParse,
		Message:      "The syntax is not supported by this runspace. This can occur if the runspace is in no-language mode.",
		FQID:         "ScriptsNotAllowed",
		Category:     catParserError,
		Reason:       "ParseException",
		TargetObject: script,
	}
}

// commandNotFound is the error for a command the JEA role does not expose.
func commandNotFound(name string) psError {
	return psError{
		Exception: excCommandNotFound,
		Message: "The term '" + name + "' is not recognized as the name of a cmdlet, function, script file, or operable program. " +
			"Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
		FQID:           "CommandNotFoundException",
		Category:       catObjectNotFound,
		Reason:         "CommandNotFoundException",
		TargetObject:   name,
		ExceptionProps: []psrp.Value{named("CommandName", psrp.String(name))},
	}
}

// thrown is the record of `throw "message"` inside a PEP function:
// PowerShell uses the message as the FullyQualifiedErrorId.
func thrown(msg string) psError {
	return psError{
		Exception:    excRuntime,
		Message:      msg,
		FQID:         msg,
		Category:     catOperationStopped,
		Reason:       "RuntimeException",
		TargetObject: msg,
	}
}

// AnotherActionInProgress is the PEP's error text when an ECE action plan
// (update, secret rotation, log collection, ...) is already running.
const AnotherActionInProgress = "Cannot invoke action plan because another action is in progress"

func stoppedError() psError {
	return psError{
		Exception: excPipelineStopped,
		Message:   "The pipeline has been stopped.",
		FQID:      "PipelineStopped",
		Category:  catOperationStopped,
		Reason:    "PipelineStoppedException",
	}
}

// poolBroken is the RUNSPACEPOOL_STATE Broken message of a pool the
// server could not open.
func poolBroken() psrp.Body {
	e := psError{
		Exception: excBroken,
		Message:   "The PrivilegedEndpoint session could not be initialized: the JEA role capability files failed to load.",
		FQID:      "PSSessionStateBroken",
		Category:  catOperationStopped,
		Reason:    "PSRemotingTransportException",
	}
	v := psrp.ObjValue(&psrp.Object{Members: []psrp.Value{
		named("RunspaceState", psrp.Int32(int32(psrp.PoolBroken))),
		named("ExceptionAsErrorRecord", e.value(false)),
	}})
	return rawBody{typ: psrp.RunspacePoolStateType, value: v}
}
