package wsman

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

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
	// NewMessageID returns a fresh "uuid:…" MessageID; nil uses random IDs.
	NewMessageID func() string
}

// Option is one wsman:Option of a request's OptionSet.
type Option struct{ Name, Value string }

// Request describes one WS-Man request.
type Request struct {
	Action  string
	ShellID string // ShellId selector; empty for Create
	Options []Option
	// Body adds the body elements; nil sends an empty body.
	Body func(m *soap.SoapMessage)
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

// Envelope builds the SOAP envelope for r with masterzen's soap package and
// returns it with its MessageID.
func (c *Client) Envelope(r Request) ([]byte, string) {
	resource, locale, timeout, size := c.defaults()
	id := c.messageID()
	msg := soap.NewMessage()
	h := msg.Header().To(c.To).ReplyTo(anonymous).MaxEnvelopeSize(size).Id(id).
		Locale(locale).Timeout(isoDuration(timeout)).Action(r.Action).ResourceURI(resource)
	if r.ShellID != "" {
		h.ShellId(r.ShellID)
	}
	for _, o := range r.Options {
		h.AddOption(soap.NewHeaderOption(o.Name, o.Value))
	}
	h.Build() // the header must exist before the body
	if r.Body != nil {
		r.Body(msg)
	} else {
		msg.NewBody()
	}
	return []byte(msg.String()), id
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
