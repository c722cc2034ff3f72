package wsman

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/masterzen/simplexml/dom"
	"github.com/masterzen/winrm/soap"
)

// PrivilegedEndpoint is the ResourceURI of the Azure Stack Hub PEP session
// configuration.
const PrivilegedEndpoint = "http://schemas.microsoft.com/powershell/PrivilegedEndpoint"

const anonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

// Client sends WS-Man requests through a [Transport]. Its zero value is not
// usable; set Transport and To. Defaults apply to zero fields.
type Client struct {
	Transport Transport
	// To is the endpoint URL written in wsa:To.
	To string
	// ResourceURI defaults to [PrivilegedEndpoint].
	ResourceURI string
	// Locale fills wsman:Locale and wsmv:DataLocale; the PEP needs en-US.
	Locale string
	// OperationTimeout is the server-side wait of a Receive (default 20 s).
	OperationTimeout time.Duration
	// MaxEnvelopeSize is the largest response envelope (default 153600).
	MaxEnvelopeSize int
	// IdleTimeout is the rsp:IdleTimeOut a Create asks for: how long the
	// server keeps an idle shell. Default one hour, as the module's
	// New-PSSessionOption -IdleTimeout (3600 * 1000).
	IdleTimeout time.Duration
	// NewMessageID returns a fresh "uuid:…" MessageID; nil uses random IDs.
	NewMessageID func() string
}

// Option is one wsman:Option of a request's OptionSet. MustComply asks the
// server to fail the request rather than ignore an option it cannot honour.
type Option struct {
	Name, Value string
	MustComply  bool
}

// Request describes one WS-Man request.
type Request struct {
	Action  string
	ShellID string // ShellId selector; empty for Create
	Options []Option
	// Body adds the body elements to the s:Body element; nil sends an empty
	// body.
	Body func(body *dom.Element)
}

func (c *Client) idleTimeout() time.Duration {
	if c.IdleTimeout <= 0 {
		return time.Hour
	}
	return c.IdleTimeout
}

func (c *Client) defaults() (resource, locale string, timeout time.Duration, size int) {
	resource, locale, timeout, size = c.ResourceURI, c.Locale, c.OperationTimeout, c.MaxEnvelopeSize
	if resource == "" {
		resource = PrivilegedEndpoint
	}
	if locale == "" {
		locale = "en-US"
	}
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	if size <= 0 {
		size = 153600
	}
	return
}

// Envelope builds the SOAP envelope for r and returns it with its
// MessageID. It is built with masterzen's dom and the soap package's
// namespaces, but not with soap's header builder: that one writes
// mustUnderstand without the SOAP prefix (an attribute a SOAP processor
// does not recognise as the SOAP one) and cannot put MustComply on an
// option. The header follows pypsrp's and the recorded Windows clients':
// s:mustUnderstand="true" on Action, MaxEnvelopeSize, ReplyTo/Address,
// ResourceURI and OptionSet, "false" on the locales.
func (c *Client) Envelope(r Request) ([]byte, string) {
	resource, locale, timeout, size := c.defaults()
	id := c.messageID()
	doc := dom.CreateDocument()
	env := dom.CreateElement("Envelope")
	doc.SetRoot(env)
	soap.AddUsualNamespaces(env)
	soap.DOM_NS_SOAP_ENV.SetTo(env)

	h := child(env, "Header", soap.DOM_NS_SOAP_ENV)
	setText(child(h, "To", soap.DOM_NS_ADDRESSING), c.To)
	setText(mustUnderstand(child(child(h, "ReplyTo", soap.DOM_NS_ADDRESSING), "Address", soap.DOM_NS_ADDRESSING), true), anonymous)
	setText(mustUnderstand(child(h, "MaxEnvelopeSize", soap.DOM_NS_WSMAN_DMTF), true), fmt.Sprint(size))
	setText(child(h, "OperationTimeout", soap.DOM_NS_WSMAN_DMTF), isoDuration(timeout))
	setText(child(h, "MessageID", soap.DOM_NS_ADDRESSING), id)
	mustUnderstand(child(h, "Locale", soap.DOM_NS_WSMAN_DMTF), false).SetAttr("xml:lang", escapeAttr(locale))
	mustUnderstand(child(h, "DataLocale", soap.DOM_NS_WSMAN_MSFT), false).SetAttr("xml:lang", escapeAttr(locale))
	setText(mustUnderstand(child(h, "Action", soap.DOM_NS_ADDRESSING), true), r.Action)
	if r.ShellID != "" {
		sel := child(child(h, "SelectorSet", soap.DOM_NS_WSMAN_DMTF), "Selector", soap.DOM_NS_WSMAN_DMTF)
		sel.SetAttr("Name", "ShellId")
		setText(sel, r.ShellID)
	}
	setText(mustUnderstand(child(h, "ResourceURI", soap.DOM_NS_WSMAN_DMTF), true), resource)
	if len(r.Options) > 0 {
		set := mustUnderstand(child(h, "OptionSet", soap.DOM_NS_WSMAN_DMTF), true)
		for _, o := range r.Options {
			e := child(set, "Option", soap.DOM_NS_WSMAN_DMTF)
			if o.MustComply {
				e.SetAttr("MustComply", "true")
			}
			e.SetAttr("Name", escapeAttr(o.Name))
			setText(e, o.Value)
		}
	}
	body := child(env, "Body", soap.DOM_NS_SOAP_ENV)
	if r.Body != nil {
		r.Body(body)
	}
	return []byte(doc.String()), id
}

// child appends an element in namespace ns to parent.
func child(parent *dom.Element, name string, ns dom.Namespace) *dom.Element {
	e := dom.CreateElement(name)
	parent.AddChild(e)
	ns.SetTo(e)
	return e
}

// mustUnderstand sets the SOAP envelope's mustUnderstand attribute, with
// the envelope's prefix (declared on the root by soap.AddUsualNamespaces).
func mustUnderstand(e *dom.Element, v bool) *dom.Element {
	e.SetAttr(soap.NSP_SOAP_ENV+":mustUnderstand", fmt.Sprint(v))
	return e
}

// setText sets e's text, XML-escaped (dom writes content as it is given).
func setText(e *dom.Element, s string) *dom.Element {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return e.SetContent(b.String())
}

// escapeAttr escapes s for an attribute value.
func escapeAttr(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&#34;")
}

func isoDuration(d time.Duration) string {
	return fmt.Sprintf("PT%gS", d.Seconds())
}

func (c *Client) messageID() string {
	if c.NewMessageID != nil {
		return c.NewMessageID()
	}
	return "uuid:" + randomUUID()
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}

// ErrRelatesTo reports a response that answers another request.
var ErrRelatesTo = errors.New("wsman: response RelatesTo does not match the request's MessageID")

// Invoke sends r and returns the parsed response. It is the single exit of
// every WS-Man request: it checks that RelatesTo answers our MessageID,
// returns SOAP faults as [*Fault] errors, and treats w:TimedOut as "no data
// yet": the result then has NoData set and the error is nil.
func (c *Client) Invoke(ctx context.Context, r Request) (*Response, error) {
	if c.Transport == nil {
		return nil, errors.New("wsman: client has no transport")
	}
	body, id := c.Envelope(r)
	raw, err := c.Transport.RoundTrip(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("wsman: %s: %w", actionName(r.Action), err)
	}
	env, err := ParseEnvelope(raw)
	if err != nil {
		return nil, fmt.Errorf("wsman: %s response: %w", actionName(r.Action), err)
	}
	if env.Fault != nil {
		if env.Fault.TimedOut() {
			return &Response{Envelope: env, NoData: true}, nil
		}
		return &Response{Envelope: env}, fmt.Errorf("wsman: %s: %w", actionName(r.Action), env.Fault)
	}
	if env.RelatesTo != "" && !strings.EqualFold(env.RelatesTo, id) {
		return nil, fmt.Errorf("%w: sent %s, got %s", ErrRelatesTo, id, env.RelatesTo)
	}
	if env.RelatesTo == "" {
		return nil, fmt.Errorf("%w: response has no RelatesTo", ErrRelatesTo)
	}
	return &Response{Envelope: env}, nil
}

// Response is a parsed answer to [Client.Invoke].
type Response struct {
	*Envelope
	// NoData is set when the server answered w:TimedOut: nothing to
	// receive yet, poll again.
	NoData bool
}

// actionName returns the last path element of an action URI.
func actionName(action string) string {
	if i := strings.LastIndexByte(action, '/'); i >= 0 {
		return action[i+1:]
	}
	return action
}
