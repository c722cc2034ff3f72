package wsman

import (
	"bytes"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Exchange is one request and its response in a recording, in pypsrp's
// format (tests/tests_pypsrp/responses/_template.yml): plain-text SOAP
// envelopes above any message encryption.
type Exchange struct {
	Request        string          `yaml:"request"`
	Response       string          `yaml:"response"`
	TransportError *TransportError `yaml:"transport_error,omitempty"`
}

// TransportError marks an exchange whose response came with an HTTP error
// status, such as a WS-Man fault on HTTP 500.
type TransportError struct {
	Protocol string `yaml:"protocol"`
	Code     int    `yaml:"code"`
}

// Recording is a whole recorded session.
type Recording struct {
	Messages []Exchange `yaml:"messages"`
}

// ReadRecording parses a recording. It accepts pypsrp's files and those
// written by [Recorder].
func ReadRecording(r io.Reader) (*Recording, error) {
	var rec Recording
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("wsman: read recording: %w", err)
	}
	if len(rec.Messages) == 0 {
		return nil, fmt.Errorf("wsman: read recording: no messages")
	}
	return &rec, nil
}

// ParseRecording parses a recording held in memory.
func ParseRecording(b []byte) (*Recording, error) { return ReadRecording(bytes.NewReader(b)) }

// Write writes the recording in pypsrp's YAML format.
func (r *Recording) Write(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("wsman: write recording: %w", err)
	}
	return enc.Close()
}
