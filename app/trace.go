package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/pep/psrp"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// maxTrace is the largest recording ReadTrace reads.
const maxTrace = 256 << 20

// TraceMessage is one PSRP message (or WS-Man fault) of a recorded PEP
// exchange; its JSON is what `trace show --json` prints.
type TraceMessage struct {
	Exchange int    `json:"exchange"`         // index of the request/response pair
	From     string `json:"from"`             // "client" or "server"
	Action   string `json:"action,omitempty"` // WS-Man action of the envelope, e.g. Receive
	Type     string `json:"type"`             // e.g. PIPELINE_OUTPUT, or WSMAN_FAULT
	RPID     string `json:"rpid,omitempty"`
	PID      string `json:"pid,omitempty"`
	// Value is the CLIXML as JSON: strings, numbers, booleans, arrays, and
	// objects of their properties with ToString as "_toString".
	Value any `json:"value,omitempty"`
	// Code and Message describe a WS-Man fault.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Error is set when the message could not be decoded.
	Error string `json:"error,omitempty"`
	// Failure is "message (FullyQualifiedErrorId)" for an error record or a
	// failed state, for the text form.
	Failure string `json:"-"`
}

// ReadTrace decodes a recording written by --trace, or a pypsrp test
// recording, into its PSRP messages. A recording damaged part way returns
// the messages decoded before the damage with the error.
func ReadTrace(ctx context.Context, src Source) ([]TraceMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var data []byte
	var err error
	if src.R != nil {
		data, err = io.ReadAll(io.LimitReader(src.R, maxTrace+1))
		if err == nil && len(data) > maxTrace {
			err = fmt.Errorf("more than %d MiB", maxTrace>>20)
		}
	} else {
		data, err = courier.ReadRegular(src.Path, maxTrace)
	}
	if err != nil {
		return nil, fmt.Errorf("read trace %s: %w", src, err)
	}
	rec, err := wsman.ParseRecording(data)
	if err != nil {
		return nil, fmt.Errorf("trace %s is not a recording (%v); give a file written by --trace or a pypsrp recording", src, err)
	}
	msgs, err := psrp.DecodeRecording(rec)
	out := make([]TraceMessage, len(msgs))
	for i, m := range msgs {
		out[i] = TraceMessage{Exchange: m.Exchange, From: m.From, Action: m.Action, Type: m.Type, RPID: m.RPID, PID: m.PID,
			Value: m.Value, Code: m.Code, Message: m.Message, Error: m.Error, Failure: errorSummary(m.Value)}
	}
	if err != nil {
		return out, fmt.Errorf("trace %s is damaged after %d messages: %w; the file was cut or edited", src, len(msgs), err)
	}
	return out, nil
}

// errorSummary returns "message (FullyQualifiedErrorId)" for an error
// record value or a state value carrying ExceptionAsErrorRecord, so the
// text form shows failures however long the value is.
func errorSummary(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if inner, ok := m["ExceptionAsErrorRecord"].(map[string]any); ok {
		m = inner
	}
	id, _ := m["FullyQualifiedErrorId"].(string)
	if id == "" {
		return ""
	}
	msg, _ := m["_toString"].(string)
	if exc, ok := m["Exception"].(map[string]any); ok {
		if s, ok := exc["Message"].(string); ok && s != "" {
			msg = s
		}
	}
	return OneLine(msg) + " (" + id + ")"
}

// OpenTrace creates the --trace file at path: a new file readable by its
// owner only (0600), never through a symbolic link. An existing file is
// refused unless force is set; then it is removed first (a link itself, not
// what it points to), so the new trace never inherits another file's
// permissions or target.
func OpenTrace(path string, force bool) (io.WriteCloser, error) {
	if force {
		if st, err := os.Lstat(path); err == nil && !st.IsDir() {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("replace the trace file %s: %w", path, err)
			}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("the trace file %s already exists; choose a new name, or pass --force-trace to replace it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("the trace file %s cannot be created: %w", path, courier.WriteError(filepath.Dir(path), err))
	}
	return f, nil
}
