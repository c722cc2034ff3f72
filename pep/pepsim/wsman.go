package pepsim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WS-Man namespaces and actions ([MS-WSMV], DSP0226).
const (
	nsSOAP    = "http://www.w3.org/2003/05/soap-envelope"
	nsAddr    = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsWSMan   = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsShell   = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsPS      = "http://schemas.microsoft.com/powershell"
	anonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

	actionCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actionCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actionSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	actionReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actionSignal  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	actionFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

	commandStateDone = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
)

// request is the part of a WS-Man request envelope the simulator reads.
type request struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action           string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		MessageID        string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		ResourceURI      string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
		OperationTimeout string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
		MaxEnvelopeSize  string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
		Locale           struct {
			Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Locale"`
		DataLocale struct {
			Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd DataLocale"`
		Selectors []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet>Selector"`
		Options []struct {
			Name       string `xml:"Name,attr"`
			MustComply string `xml:"MustComply,attr"`
			Value      string `xml:",chardata"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet>Option"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Shell *struct {
			ShellID       string `xml:"ShellId,attr"`
			IdleTimeOut   string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell IdleTimeOut"`
			InputStreams  string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell InputStreams"`
			OutputStreams string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell OutputStreams"`
			CreationXML   string `xml:"http://schemas.microsoft.com/powershell creationXml"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
		CommandLine *struct {
			CommandID string  `xml:"CommandId,attr"`
			Command   *string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
			Arguments string  `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
				Value     string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

func (r *request) selector(name string) string {
	for _, s := range r.Header.Selectors {
		if strings.EqualFold(s.Name, name) {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

func (r *request) option(name string) (string, bool) {
	v, _, ok := r.optionComply(name)
	return v, ok
}

// optionComply returns an option's value and whether it carries
// MustComply="true".
func (r *request) optionComply(name string) (value string, mustComply, ok bool) {
	for _, o := range r.Header.Options {
		if o.Name == name { // the PowerShell plugin matches case-sensitively
			return strings.TrimSpace(o.Value), strings.EqualFold(strings.TrimSpace(o.MustComply), "true"), true
		}
	}
	return "", false, false
}

// parseRequest decodes a WS-Man request envelope and checks the headers
// every request needs.
func parseRequest(b []byte) (*request, *wsmanFault) {
	var r request
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	if err := d.Decode(&r); err != nil {
		return nil, faultSchema(fmt.Sprintf("The WS-Management service cannot process the request because the XML is not valid: %v.", err))
	}
	switch {
	case r.Header.Action == "":
		return nil, faultSchema("The WS-Management service cannot process the request because the header wsa:Action is missing.")
	case r.Header.MessageID == "":
		return nil, faultSchema("The WS-Management service cannot process the request because the header wsa:MessageID is missing.")
	}
	if f := checkMustUnderstand(b); f != nil {
		return nil, f
	}
	return &r, nil
}

// checkMustUnderstand refuses a header element whose mustUnderstand
// attribute is not the SOAP envelope's (SOAP 1.2 part 1, 5.2.3): an
// unqualified mustUnderstand, as masterzen's soap package writes it, is an
// unknown attribute to a SOAP processor, so the header it was meant to
// guard would go unchecked.
func checkMustUnderstand(b []byte) *wsmanFault {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth := 0
	inHeader := false
	for {
		tok, err := d.Token()
		if err != nil {
			return nil // parseRequest already accepted the XML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Space == nsSOAP && t.Name.Local == "Header" {
				inHeader = true
				continue
			}
			if !inHeader {
				continue
			}
			for _, a := range t.Attr {
				if a.Name.Local == "mustUnderstand" && a.Name.Space != nsSOAP {
					return faultSchema(fmt.Sprintf("The WS-Management service cannot process the request because the %s header carries a mustUnderstand attribute outside the SOAP envelope namespace %s.", t.Name.Local, nsSOAP))
				}
			}
		case xml.EndElement:
			depth--
			if depth == 1 && inHeader {
				return nil
			}
		}
	}
}

// operationTimeout parses an xs:duration such as PT20S or PT20.000S; ""
// means WinRM's default of 60 s. It is capped at 10 minutes.
func operationTimeout(s string) (time.Duration, error) {
	if s == "" {
		return 60 * time.Second, nil
	}
	t, ok := strings.CutPrefix(strings.TrimSpace(s), "PT")
	if !ok {
		return 0, fmt.Errorf("OperationTimeout %q is not PTnS", s)
	}
	var d time.Duration
	for _, unit := range []struct {
		suffix string
		scale  time.Duration
	}{{"H", time.Hour}, {"M", time.Minute}, {"S", time.Second}} {
		i := strings.Index(t, unit.suffix)
		if i < 0 {
			continue
		}
		f, err := strconv.ParseFloat(t[:i], 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("OperationTimeout %q is not PTnS", s)
		}
		d += time.Duration(f * float64(unit.scale))
		t = t[i+1:]
	}
	if t != "" || d <= 0 {
		return 0, fmt.Errorf("OperationTimeout %q is not PTnS", s)
	}
	return min(d, 10*time.Minute), nil
}

// wsmanFault is a SOAP fault as WinRM writes it.
type wsmanFault struct {
	Status  int    // HTTP status, 500 for every WS-Man fault
	Code    string // s:Sender or s:Receiver
	Subcode string // w:TimedOut, w:InvalidSelectors, ...
	Reason  string
	Detail  string // optional w:FaultDetail URI
	WSMan   uint32 // WSManFault Code
	Message string // WSManFault Message
}

func faultSchema(msg string) *wsmanFault {
	return &wsmanFault{Code: "s:Sender", Subcode: "w:SchemaValidationError", WSMan: 2150858817,
		Reason:  "The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. ",
		Message: msg}
}

func faultTimedOut() *wsmanFault {
	const text = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
	return &wsmanFault{Code: "s:Receiver", Subcode: "w:TimedOut", WSMan: 2150858793, Reason: text, Message: text}
}

func faultNoCommand() *wsmanFault {
	return &wsmanFault{Code: "s:Sender", Subcode: "w:InvalidSelectors", WSMan: 2150858843,
		Reason:  "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ",
		Detail:  "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
		Message: "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. Either the command has completed execution or the client specified an invalid command identifier. "}
}

func faultNoShell(id string) *wsmanFault {
	return &wsmanFault{Code: "s:Sender", Subcode: "w:InvalidSelectors", WSMan: 2150858843,
		Reason:  "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ",
		Detail:  "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
		Message: fmt.Sprintf("The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation. ", id)}
}

func faultResourceURI(uri string) *wsmanFault {
	return &wsmanFault{Code: "s:Sender", Subcode: "w:DestinationUnreachable", WSMan: 2150858770,
		Reason:  "The WS-Management service cannot process the request because the resource URI is not valid or the resource cannot be found. ",
		Detail:  "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI",
		Message: fmt.Sprintf("The WS-Management service cannot process the request. Cannot find the %s session configuration in the WSMan: drive on the AZS-ERCS01 computer. ", uri)}
}

func faultInvalid(msg string) *wsmanFault {
	return &wsmanFault{Code: "s:Sender", Subcode: "w:InvalidParameter", WSMan: 2150858882,
		Reason: "The parameter is incorrect. ", Message: msg}
}

func faultAction(action string) *wsmanFault {
	return &wsmanFault{Code: "s:Sender", Subcode: "a:ActionNotSupported", WSMan: 2150858783,
		Reason:  "The action is not supported by the service. ",
		Message: fmt.Sprintf("The WS-Management service cannot process the request. The action %s is not supported for this resource. ", action)}
}

func faultInternal() *wsmanFault {
	return &wsmanFault{Code: "s:Receiver", Subcode: "w:InternalError", WSMan: 2147500037,
		Reason:  "The service cannot comply with the request due to internal processing errors. ",
		Message: "The WS-Management service encountered an internal error while processing the request. "}
}

// handleWSMan serves one decrypted WS-Man message and returns the HTTP
// status and the reply envelope. It returns errDrop when a fault asks for
// the connection to be dropped, and the context's error when the client
// went away during a long poll.
func (s *Server) handleWSMan(ctx context.Context, cs *connState, body []byte) (int, []byte, error) {
	req, f := parseRequest(body)
	if f != nil {
		return s.fault("", f)
	}
	relates := req.Header.MessageID
	if req.Header.ResourceURI != ResourceURI {
		return s.fault(relates, faultResourceURI(req.Header.ResourceURI))
	}
	s.mu.Lock()
	if s.stats.Actions == nil {
		s.stats.Actions = map[string]int{}
	}
	s.stats.Actions[req.Header.Action[strings.LastIndexByte(req.Header.Action, '/')+1:]]++
	inject := s.faultsArmed() && take500(&s.faults, req.Header.Action)
	s.mu.Unlock()
	if inject {
		return s.fault(relates, faultInternal())
	}
	s.log.Debug("pepsim: request", "action", req.Header.Action, "shell", req.selector("ShellId"))

	var reply string
	switch req.Header.Action {
	case actionCreate:
		reply, f = s.create(req, cs)
	case actionDelete:
		reply, f = s.deleteShell(req)
	case actionCommand:
		reply, f = s.command(req)
	case actionSend:
		reply, f = s.send(req)
	case actionReceive:
		var err error
		reply, f, err = s.receive(ctx, req)
		if err != nil {
			return 0, nil, err
		}
	case actionSignal:
		reply, f = s.signal(req)
	default:
		f = faultAction(req.Header.Action)
	}
	if f != nil {
		return s.fault(relates, f)
	}
	return http.StatusOK, []byte(reply), nil
}

// faultsArmed reports whether the pipeline faults may fire: at once, or
// once more than Faults.AfterCommands pipelines have started. Callers hold
// Server.mu.
func (s *Server) faultsArmed() bool {
	return s.faults.AfterCommands == 0 || s.stats.Actions["Command"] > s.faults.AfterCommands
}

// take500 reports whether an injected internal-error fault fires for action.
func take500(f *Faults, action string) bool {
	if f.InternalErrors == 0 {
		return false
	}
	if f.InternalErrorAction != "" && !strings.HasSuffix(action, "/"+f.InternalErrorAction) {
		return false
	}
	return take(&f.InternalErrors)
}

func (s *Server) fault(relates string, f *wsmanFault) (int, []byte, error) {
	var b strings.Builder
	b.WriteString(`<s:Body><s:Fault><s:Code><s:Value>`)
	b.WriteString(f.Code)
	b.WriteString(`</s:Value><s:Subcode><s:Value>`)
	b.WriteString(f.Subcode)
	b.WriteString(`</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">`)
	b.WriteString(esc(f.Reason))
	b.WriteString(`</s:Text></s:Reason><s:Detail>`)
	if f.Detail != "" {
		b.WriteString(`<w:FaultDetail>` + f.Detail + `</w:FaultDetail>`)
	}
	fmt.Fprintf(&b, `<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="%d" Machine="127.0.0.1"><f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body>`,
		f.WSMan, esc(f.Message))
	return http.StatusInternalServerError, []byte(s.envelope(actionFault, relates, b.String(), true)), nil
}

// envelope wraps a body in the response envelope WinRM writes (namespace
// prefixes a, x, w, rsp, p as in the recorded replies).
func (s *Server) envelope(action, relates, body string, fault bool) string {
	var b strings.Builder
	b.WriteString(`<s:Envelope xml:lang="en-US" xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddr + `" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"`)
	if fault {
		b.WriteString(` xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"`)
	}
	b.WriteString(` xmlns:w="` + nsWSMan + `"`)
	if !fault {
		b.WriteString(` xmlns:rsp="` + nsShell + `"`)
	}
	b.WriteString(` xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>`)
	b.WriteString(action)
	b.WriteString(`</a:Action><a:MessageID>uuid:` + s.newID() + `</a:MessageID><p:ActivityId>` + s.newID() + `</p:ActivityId><a:To>` + anonymous + `</a:To>`)
	if relates != "" {
		b.WriteString(`<a:RelatesTo>` + esc(relates) + `</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header>`)
	if strings.HasPrefix(body, "<s:Body") {
		b.WriteString(body)
	} else {
		b.WriteString(`<s:Body>` + body + `</s:Body>`)
	}
	b.WriteString(`</s:Envelope>`)
	return b.String()
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// decodeBase64 decodes a base64 element, ignoring white space inside it.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("the element is not valid base64")
	}
	return b, nil
}
