package wsman

import (
	"context"
	"errors"
	"fmt"
)

// Transport sends one WS-Man envelope and returns the envelope that answers
// it. It is the seam between the protocol and the wire: the HTTP transport
// with NTLM sealing, the HTTPS transport, the [Recorder] and the [Replay]
// of a recording all implement it.
//
// RoundTrip must return the response envelope for an HTTP 200 and for an
// HTTP 4xx/5xx response whose body is a SOAP envelope (WS-Man faults travel
// as HTTP 500); interpreting faults is the caller's job ([Client.Invoke]).
// Any other outcome is an error, such as [*StatusError] for HTTP 401.
// RoundTrip must honour ctx's deadline and cancellation, must not modify or
// retain envelope, and must be safe for concurrent use. A transport that is
// configured to protect messages must fail rather than send an envelope
// unprotected.
type Transport interface {
	RoundTrip(ctx context.Context, envelope []byte) ([]byte, error)
}

// ErrUnauthorized reports that the server rejected the credentials.
var ErrUnauthorized = errors.New("wsman: access denied (HTTP 401): check the user name and password")

// ErrNoReply reports a server that accepted the connection and then sent
// nothing within the transport's response timeout: a stopped or hung
// host, or a network that drops the traffic. It is not a context deadline;
// those are reported as the context's error.
var ErrNoReply = errors.New("wsman: the server stopped answering")

// ErrResponseTooLarge reports a response whose header or body exceeds
// what a WS-Man server ever sends; the rest of it is not read.
var ErrResponseTooLarge = errors.New("wsman: response too large")

// StatusError is an HTTP response that carried no SOAP envelope.
type StatusError struct {
	StatusCode int
	Status     string
	Body       string // at most 512 bytes of the body, for diagnosis
}

// Error returns the status and a short body.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return "wsman: HTTP " + e.Status
	}
	return fmt.Sprintf("wsman: HTTP %s: %s", e.Status, e.Body)
}

// Is makes a 401 match [ErrUnauthorized].
func (e *StatusError) Is(target error) bool {
	return target == ErrUnauthorized && e.StatusCode == 401
}
