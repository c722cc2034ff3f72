package wsman

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Recorder is a [Transport] that passes envelopes to Next and appends each
// exchange, in plain text, to W in pypsrp's recording format (the --trace
// file). It sits above any sealing, so it never sees the Authorization
// header; strings listed in Redact (the password) are replaced by "***"
// before anything is written, as a second guard.
type Recorder struct {
	Next   Transport
	W      io.Writer
	Redact []string

	mu      sync.Mutex
	started bool
	err     error
}

// RoundTrip implements [Transport].
func (r *Recorder) RoundTrip(ctx context.Context, envelope []byte) ([]byte, error) {
	resp, err := r.Next.RoundTrip(ctx, envelope)
	x := Exchange{Request: r.redact(string(envelope))}
	switch {
	case err != nil:
		x.Response = "# transport error: " + r.redact(err.Error())
	default:
		x.Response = r.redact(string(resp))
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

func (r *Recorder) redact(s string) string {
	for _, secret := range r.Redact {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
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
