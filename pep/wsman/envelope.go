package wsman

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// WS-Man actions used by the PowerShell remoting shell.
const (
	ActionCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	ActionDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	ActionCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	ActionSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	ActionReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	ActionSignal  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	ActionFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
)

// Namespaces.
const (
	nsSOAP       = "http://www.w3.org/2003/05/soap-envelope"
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsPowerShell = "http://schemas.microsoft.com/powershell"
	nsWSManFault = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
)

// Parsing uses encoding/xml rather than masterzen/winrm: its soap package
// only builds envelopes, and its response parsers (xpath over the cmd
// shell's fixed layout) know neither creationXml, nor PSRP streams without
// a CommandId, nor WS-Man faults with their WSManFault details.

// Envelope is the parsed form of a WS-Man SOAP envelope: the header fields
// the PowerShell shell uses and the PSRP payloads of the body. The parser
// matches on local names so either prefix style reads the same.
type Envelope struct {
	Action      string
	MessageID   string
	RelatesTo   string
	To          string
	ResourceURI string
	ShellID     string            // from the ShellId selector, or the body's rsp:Shell
	Options     map[string]string // wsman:OptionSet
	// Streams holds the PSRP payloads in document order: creationXml,
	// rsp:Arguments, rsp:Stream and the Receive response streams.
	Streams []Stream
	// CommandID is rsp:CommandId (CommandResponse) or the CommandLine's
	// CommandId attribute, or the CommandId of Receive/Signal.
	CommandID string
	// CommandDone is set when rsp:CommandState reports Done.
	CommandDone bool
	// SignalCode is the rsp:Code of a Signal.
	SignalCode string
	// Fault is set when the body is a SOAP fault.
	Fault *Fault
}

// Stream is one base64 payload of an envelope.
type Stream struct {
	Element   string // "creationXml", "Arguments" or "Stream"
	Name      string // Name attribute of rsp:Stream (stdin, stdout, pr)
	CommandID string // CommandId attribute, empty for pool streams
	Data      []byte // decoded bytes
}

// ParseEnvelope parses a SOAP envelope. It fails on malformed XML or bad
// base64, never on unknown elements.
func ParseEnvelope(b []byte) (*Envelope, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	env := &Envelope{}
	var path []string
	var text strings.Builder
	var cur xml.StartElement
	var faultXML []byte
	inFault := false
	var faultDepth int
	var faultBuf bytes.Buffer
	var faultEnc *xml.Encoder
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			return nil, fmt.Errorf("wsman: parse envelope: %w", err)
		}
		if inFault {
			if err := faultEnc.EncodeToken(xml.CopyToken(tok)); err != nil {
				return nil, fmt.Errorf("wsman: parse envelope: %w", err)
			}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			cur = t
			text.Reset()
			switch t.Name.Local {
			case "Fault":
				if len(path) == 3 && path[1] == "Body" && !inFault {
					inFault, faultDepth = true, len(path)
					faultBuf.Reset()
					faultEnc = xml.NewEncoder(&faultBuf)
					if err := faultEnc.EncodeToken(xml.CopyToken(t)); err != nil {
						return nil, fmt.Errorf("wsman: parse envelope: %w", err)
					}
				}
			case "Shell":
				if id := attrValue(t, "ShellId"); id != "" && env.ShellID == "" {
					env.ShellID = id
				}
			case "CommandLine", "DesiredStream", "Signal":
				if id := attrValue(t, "CommandId"); id != "" {
					env.CommandID = id
				}
			case "CommandState":
				if strings.HasSuffix(attrValue(t, "State"), "/CommandState/Done") {
					env.CommandDone = true
				}
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(path) == 0 {
				return nil, fmt.Errorf("wsman: parse envelope: unbalanced %s", t.Name.Local)
			}
			val := strings.TrimSpace(text.String())
			inHeader := len(path) >= 2 && path[1] == "Header"
			switch name := path[len(path)-1]; {
			case inHeader && name == "Action":
				env.Action = val
			case inHeader && name == "MessageID":
				env.MessageID = val
			case inHeader && name == "RelatesTo":
				env.RelatesTo = val
			case inHeader && name == "To":
				env.To = val
			case inHeader && name == "ResourceURI":
				env.ResourceURI = val
			case inHeader && name == "Selector" && attrValue(cur, "Name") == "ShellId":
				env.ShellID = val
			case inHeader && name == "Option":
				if env.Options == nil {
					env.Options = map[string]string{}
				}
				env.Options[attrValue(cur, "Name")] = val
			case !inHeader && name == "Selector" && attrValue(cur, "Name") == "ShellId" && env.ShellID == "":
				env.ShellID = val
			case !inHeader && name == "CommandId":
				env.CommandID = val
			case !inHeader && name == "Code" && len(path) >= 2 && path[len(path)-2] == "Signal":
				env.SignalCode = val
			case !inHeader && (name == "creationXml" || name == "Arguments" || name == "Stream"):
				data, err := decodeBase64(val)
				if err != nil {
					return nil, fmt.Errorf("wsman: parse envelope: %s: %w", name, err)
				}
				env.Streams = append(env.Streams, Stream{Element: name, Name: attrValue(cur, "Name"), CommandID: attrValue(cur, "CommandId"), Data: data})
			}
			if inFault && len(path) == faultDepth {
				inFault = false
				if err := faultEnc.Flush(); err != nil {
					return nil, fmt.Errorf("wsman: parse envelope: %w", err)
				}
				faultXML = append([]byte(nil), faultBuf.Bytes()...)
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	if len(path) != 0 {
		return nil, fmt.Errorf("wsman: parse envelope: unexpected end inside <%s>", path[len(path)-1])
	}
	if faultXML != nil {
		f, err := parseFault(faultXML)
		if err != nil {
			return nil, err
		}
		env.Fault = f
	}
	return env, nil
}

func attrValue(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
