package psrp

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/azs-courier/azs-courier/pep/wsman"
)

// TraceMessage is one PSRP message, or one WS-Man fault, found in a
// recording: what `azs-courier trace show --json` prints, one per line.
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
}

// DecodeRecording reassembles and decodes every PSRP message of a
// recording (ours or pypsrp's), in order, with WS-Man faults in between.
// IDs are printed as the shell and command IDs when a message carries them
// in either byte order.
func DecodeRecording(rec *wsman.Recording) ([]TraceMessage, error) {
	var client, server Defragmenter
	var out []TraceMessage
	var shellID string
	for i, x := range rec.Messages {
		var reqCommand string
		for _, side := range []struct {
			from string
			text string
			d    *Defragmenter
		}{{"client", x.Request, &client}, {"server", x.Response, &server}} {
			if strings.HasPrefix(strings.TrimSpace(side.text), "#") || strings.TrimSpace(side.text) == "" {
				continue // a transport error noted by the recorder
			}
			env, err := wsman.ParseEnvelope([]byte(side.text))
			if err != nil {
				return out, fmt.Errorf("psrp: exchange %d (%s): %w", i, side.from, err)
			}
			action := actionName(env.Action)
			// Responses carry no selectors: use the request's IDs.
			if env.ShellID != "" {
				shellID = env.ShellID
			}
			env.ShellID = shellID
			if side.from == "client" {
				reqCommand = env.CommandID
			} else if env.CommandID == "" {
				env.CommandID = reqCommand
			}
			if env.Fault != nil {
				code := env.Fault.Subcode
				if env.Fault.WSManCode != 0 {
					code = strconv.FormatUint(uint64(env.Fault.WSManCode), 10)
				}
				msg := env.Fault.Message
				if msg == "" {
					msg = env.Fault.Reason
				}
				out = append(out, TraceMessage{Exchange: i, From: side.from, Action: action, Type: "WSMAN_FAULT", Code: code, Message: strings.TrimSpace(msg)})
				continue
			}
			for _, s := range env.Streams {
				raws, err := side.d.AddData(s.Data)
				if err != nil {
					return out, fmt.Errorf("psrp: exchange %d (%s): %w", i, side.from, err)
				}
				for _, raw := range raws {
					out = append(out, traceMessage(i, side.from, action, env, s, raw))
				}
			}
		}
	}
	return out, nil
}

func actionName(a string) string {
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		return a[i+1:]
	}
	return a
}

func traceMessage(i int, from, action string, env *wsman.Envelope, s wsman.Stream, raw []byte) TraceMessage {
	tm := TraceMessage{Exchange: i, From: from, Action: action}
	var m Message
	if err := m.UnmarshalBinary(raw); err != nil {
		tm.Type, tm.Error = "INVALID", err.Error()
		return tm
	}
	tm.Type = m.Type.String()
	tm.RPID = idText(m.RPID, env.ShellID)
	cmd := s.CommandID
	if cmd == "" {
		cmd = env.CommandID
	}
	if !m.PID.IsZero() {
		tm.PID = idText(m.PID, cmd)
	}
	if len(m.XML()) == 0 {
		return tm
	}
	v, err := UnmarshalCLIXML(m.Data)
	if err != nil {
		tm.Error = err.Error()
		return tm
	}
	tm.Value = v.JSON()
	return tm
}

// idText prints id as the envelope's textual ID when it is the same GUID in
// either byte order (the 2018 recordings wrote RFC order).
func idText(id GUID, envID string) string {
	if g, err := ParseGUID(envID); err == nil && SameID(id, g) {
		return g.String()
	}
	return id.String()
}

// maxJSONDepth bounds the JSON form of deeply nested or self-referencing
// objects.
const maxJSONDepth = 64

// JSON returns v as plain JSON values: strings, numbers (int64 or
// float64), booleans, nil, arrays for lists, objects for dictionaries and
// for objects (their adapted and extended properties, "_toString" for
// ToString and "_value" for a wrapped primitive such as an enum's number).
// References are followed up to a fixed depth.
func (v Value) JSON() any { return v.json(0) }

func (v Value) json(depth int) any {
	if depth > maxJSONDepth {
		return "…"
	}
	switch v.Kind {
	case "", "Nil":
		return nil
	case "Obj", "Ref":
		if v.Obj == nil {
			return nil
		}
		return v.Obj.json(depth + 1)
	case "B":
		return strings.EqualFold(strings.TrimSpace(v.Text), "true")
	case "I16", "I32", "I64", "SB", "By", "U16", "U32", "U64":
		if n, err := strconv.ParseInt(strings.TrimSpace(v.Text), 10, 64); err == nil {
			return n
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v.Text), 10, 64); err == nil {
			return n
		}
	case "Db", "Sg", "D":
		if f, err := strconv.ParseFloat(strings.TrimSpace(v.Text), 64); err == nil {
			return f
		}
	case "C":
		if n, err := strconv.ParseUint(strings.TrimSpace(v.Text), 10, 16); err == nil {
			return string(utf16.Decode([]uint16{uint16(n)}))
		}
	case "BA":
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v.Text)); err == nil {
			return base64.StdEncoding.EncodeToString(b)
		}
	}
	return v.Text
}

func (o *Object) json(depth int) any {
	hasProps := len(o.Props) > 0 || len(o.Members) > 0
	if (o.ListKind != "" || o.List != nil) && !hasProps && !o.IsDict {
		items := make([]any, 0, len(o.List))
		for _, it := range o.List {
			items = append(items, it.json(depth))
		}
		return items
	}
	if o.IsDict && !hasProps {
		m := make(map[string]any, len(o.Dict))
		for _, en := range o.Dict {
			m[en.Key.Str()] = en.Value.json(depth)
		}
		return m
	}
	if !hasProps && o.Primitive != nil && o.ToString == nil {
		return o.Primitive.json(depth)
	}
	m := map[string]any{}
	for _, group := range [][]Value{o.Props, o.Members} {
		for _, p := range group {
			m[p.Name] = p.json(depth)
		}
	}
	if o.ToString != nil {
		m["_toString"] = *o.ToString
	}
	if o.Primitive != nil {
		inner := o.Primitive.json(depth)
		if im, ok := inner.(map[string]any); ok && o.Primitive.Kind == "Obj" {
			// A PSObject wrapping its base object: show one object.
			for k, val := range im {
				if _, taken := m[k]; !taken {
					m[k] = val
				}
			}
		} else {
			m["_value"] = inner
		}
	}
	if len(o.List) > 0 {
		items := make([]any, 0, len(o.List))
		for _, it := range o.List {
			items = append(items, it.json(depth))
		}
		m["_items"] = items
	}
	if len(o.Dict) > 0 {
		d := make(map[string]any, len(o.Dict))
		for _, en := range o.Dict {
			d[en.Key.Str()] = en.Value.json(depth)
		}
		m["_entries"] = d
	}
	return m
}
