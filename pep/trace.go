package pep

import (
	"context"
	"io"
)

type traceKey struct{}

// WithTrace returns a context that makes [Dial] record the session's
// decrypted WS-Man exchange to w in pypsrp's recording format, when
// Options.Trace is not set. Like net/http/httptrace, it lets a caller deep
// in the stack switch tracing on without threading an option through every
// layer. The password is redacted; nothing above the HTTP layer carries
// the Authorization header.
func WithTrace(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, traceKey{}, w)
}

func traceFrom(ctx context.Context) io.Writer {
	w, _ := ctx.Value(traceKey{}).(io.Writer)
	return w
}
