package wsman

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Recorder is a [Transport] that passes envelopes to Next and appends each
// exchange, in plain text, to W in pypsrp's recording format (the --trace
// file). It sits above any sealing, so it never sees the Authorization
// header, and the client never puts the password in an envelope. As a
// second guard, an envelope that holds a string listed in Redact (the
// password), in its text or in a decoded PSRP payload, is not written:
// a "# redacted" line takes its place. Replacing the string in place would
// corrupt base64 payloads where a short password occurs by chance.
// Scrub, when set, then rewrites each envelope that is written, e.g. to
// blank SecureString contents (psrp.ScrubSecureStrings).
type Recorder struct {
	Next   Transport
	W      io.Writer
	Redact []string
	Scrub  func(envelope []byte) []byte

	mu      sync.Mutex
	hidden  []string // secrets added by Hide
	started bool
	err     error
}

// Hide adds a secret to Redact for the exchanges that follow, such as a
// password the client learns after the session opened. It is safe to call
// while RoundTrip runs.
func (r *Recorder) Hide(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hidden = append(r.hidden, secret)
}

// RoundTrip implements [Transport].
func (r *Recorder) RoundTrip(ctx context.Context, envelope []byte) ([]byte, error) {
	resp, err := r.Next.RoundTrip(ctx, envelope)
	x := Exchange{Request: r.clean(envelope)}
	switch {
	case err != nil:
		x.Response = "# transport error: " + r.redact(err.Error())
	default:
		x.Response = r.clean(resp)
		if bytes.Contains(resp, []byte("Fault>")) {
			if env, perr := ParseEnvelope(resp); perr == nil && env.Fault != nil {
				x.TransportError = &TransportError{Protocol: "http", Code: 500}
			}
		}
	}
	if werr := r.write(x); werr != nil && err == nil {
		return resp, fmt.Errorf("wsman: write trace: %w", werr)
	}
	return resp, err
}

// payloadText matches the content of the base64 payload elements.
var payloadText = regexp.MustCompile(`(<(?:[A-Za-z0-9_]+:)?(?:creationXml|Arguments|Stream)\b[^>]*>)[^<]*(</)`)

const redacted = "# redacted: this envelope held a secret"

// clean returns an envelope as it is written: redacted if it holds a
// secret, else scrubbed.
func (r *Recorder) clean(envelope []byte) string {
	s := r.redact(string(envelope))
	if s != redacted && r.Scrub != nil {
		s = string(r.Scrub([]byte(s)))
	}
	return s
}

func (r *Recorder) redact(s string) string {
	r.mu.Lock()
	secrets := append(append([]string(nil), r.Redact...), r.hidden...)
	r.mu.Unlock()
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		if strings.Contains(payloadText.ReplaceAllString(s, "$1$2"), secret) {
			return redacted
		}
		if env, err := ParseEnvelope([]byte(s)); err == nil {
			for _, st := range env.Streams {
				if bytes.Contains(st.Data, []byte(secret)) {
					return redacted
				}
			}
		} else if strings.Contains(s, secret) {
			return redacted // not an envelope: plain text check only
		}
	}
	return s
}

func (r *Recorder) write(x Exchange) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	var b bytes.Buffer
	if !r.started {
		b.WriteString("messages:\n")
		r.started = true
	}
	item, err := yaml.Marshal([]Exchange{x})
	if err != nil {
		r.err = err
		return err
	}
	b.Write(item)
	_, r.err = r.W.Write(b.Bytes())
	return r.err
}
