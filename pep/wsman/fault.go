package wsman

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// WSManFault codes with a meaning for the client.
const (
	// CodeTimedOut is w:TimedOut (0x80338029): a Receive found no output
	// within OperationTimeout. It means "no data yet", not failure.
	CodeTimedOut = 2150858793
	// CodeInvalidSelectors is w:InvalidSelectors (0x8033805B), e.g. an
	// unknown ShellId or CommandId.
	CodeInvalidSelectors = 2150858843
)

// Fault is a SOAP fault returned by the WS-Man service, usually with
// HTTP 500.
type Fault struct {
	Code      string // SOAP code, e.g. s:Receiver
	Subcode   string // e.g. w:TimedOut
	Reason    string // s:Reason/s:Text
	WSManCode uint32 // WSManFault Code attribute, e.g. 2150858793
	Machine   string // WSManFault Machine attribute
	Message   string // WSManFault/Message, or the provider fault text
	Detail    string // w:FaultDetail URI
}

// Error returns the fault's reason or message with its codes.
func (f *Fault) Error() string {
	msg := strings.TrimSpace(f.Message)
	if msg == "" {
		msg = strings.TrimSpace(f.Reason)
	}
	sub := f.Subcode
	if sub == "" {
		sub = f.Code
	}
	if f.WSManCode != 0 {
		return fmt.Sprintf("wsman fault %s (%d) from %s: %s", sub, f.WSManCode, orUnknown(f.Machine), msg)
	}
	return fmt.Sprintf("wsman fault %s: %s", sub, msg)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown machine"
	}
	return s
}

// TimedOut reports whether the fault is w:TimedOut: no output yet.
func (f *Fault) TimedOut() bool {
	return f.WSManCode == CodeTimedOut || strings.HasSuffix(f.Subcode, ":TimedOut")
}

// IsTimedOut reports whether err holds a w:TimedOut fault.
func IsTimedOut(err error) bool {
	var f *Fault
	return errors.As(err, &f) && f.TimedOut()
}

type faultXML struct {
	Code struct {
		Value   string `xml:"Value"`
		Subcode struct {
			Value string `xml:"Value"`
		} `xml:"Subcode"`
	} `xml:"Code"`
	Reason struct {
		Text []string `xml:"Text"`
	} `xml:"Reason"`
	Detail struct {
		FaultDetail string `xml:"FaultDetail"`
		WSManFault  *struct {
			Code    string `xml:"Code,attr"`
			Machine string `xml:"Machine,attr"`
			Message struct {
				Text     string `xml:",chardata"`
				Provider struct {
					Text string `xml:",innerxml"`
				} `xml:"ProviderFault"`
			} `xml:"Message"`
		} `xml:"WSManFault"`
	} `xml:"Detail"`
}

func parseFault(b []byte) (*Fault, error) {
	var x faultXML
	if err := xml.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("wsman: parse fault: %w", err)
	}
	f := &Fault{
		Code:    strings.TrimSpace(x.Code.Value),
		Subcode: strings.TrimSpace(x.Code.Subcode.Value),
		Reason:  strings.TrimSpace(strings.Join(x.Reason.Text, " ")),
		Detail:  strings.TrimSpace(x.Detail.FaultDetail),
	}
	if w := x.Detail.WSManFault; w != nil {
		f.Machine = w.Machine
		if n, err := strconv.ParseUint(strings.TrimSpace(w.Code), 10, 32); err == nil {
			f.WSManCode = uint32(n)
		}
		f.Message = strings.TrimSpace(w.Message.Text)
		if f.Message == "" {
			f.Message = strings.TrimSpace(stripTags(w.Message.Provider.Text))
		}
	}
	return f, nil
}

// stripTags returns the text content of an XML fragment.
func stripTags(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '<':
			depth++
		case r == '>' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
