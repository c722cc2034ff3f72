package wsman

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Replay is a [Transport] that answers from a recording, in order. It
// checks that each request has the recorded action, passes both envelopes
// to Check for deeper comparison, and rewrites the recorded RelatesTo to
// the MessageID of the request it answers. It is a test seam for the PSRP
// state machines and the trace decoder.
type Replay struct {
	Recording *Recording
	// Check, when set, compares a request with the recorded one.
	Check func(i int, got, want *Envelope) error

	mu   sync.Mutex
	next int
}

var messageIDPattern = regexp.MustCompile(`(<[A-Za-z0-9]*:?RelatesTo[^>]*>)[^<]*(</)`)

// RoundTrip implements [Transport].
func (r *Replay) RoundTrip(ctx context.Context, envelope []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	i := r.next
	r.next++
	r.mu.Unlock()
	if i >= len(r.Recording.Messages) {
		return nil, fmt.Errorf("wsman replay: request %d beyond the %d recorded", i, len(r.Recording.Messages))
	}
	x := r.Recording.Messages[i]
	got, err := ParseEnvelope(envelope)
	if err != nil {
		return nil, fmt.Errorf("wsman replay: request %d: %w", i, err)
	}
	want, err := ParseEnvelope([]byte(x.Request))
	if err != nil {
		return nil, fmt.Errorf("wsman replay: recorded request %d: %w", i, err)
	}
	if got.Action != want.Action {
		return nil, fmt.Errorf("wsman replay: request %d: action %s, recorded %s", i, actionName(got.Action), actionName(want.Action))
	}
	if r.Check != nil {
		if err := r.Check(i, got, want); err != nil {
			return nil, fmt.Errorf("wsman replay: request %d (%s): %w", i, actionName(got.Action), err)
		}
	}
	resp := messageIDPattern.ReplaceAllString(x.Response, "${1}"+strings.ReplaceAll(got.MessageID, "$", "")+"${2}")
	return []byte(resp), nil
}

// Done reports whether every recorded exchange was used.
func (r *Replay) Done() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next == len(r.Recording.Messages)
}

// Used returns how many exchanges were served.
func (r *Replay) Used() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}
