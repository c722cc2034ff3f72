package psrp

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestGUIDByteOrder(t *testing.T) {
	// The worked example of psrp-winrm.md §2.4 (test_psrp_multiple_invocations.yml).
	g, err := ParseGUID("B2DDE5BA-F22F-4493-9B8E-8B565073F563")
	if err != nil {
		t.Fatal(err)
	}
	m := Message{Destination: DestinationServer, Type: SessionCapabilityType, RPID: g}
	b, _ := m.MarshalBinary()
	want := []byte{0x02, 0, 0, 0, 0x02, 0x00, 0x01, 0x00, 0xba, 0xe5, 0xdd, 0xb2, 0x2f, 0xf2, 0x93, 0x44, 0x9b, 0x8e, 0x8b, 0x56, 0x50, 0x73, 0xf5, 0x63}
	if !bytes.Equal(b[:24], want) {
		t.Errorf("header = %x, want %x", b[:24], want)
	}
	var back Message
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.RPID != g || back.RPID.String() != "B2DDE5BA-F22F-4493-9B8E-8B565073F563" {
		t.Errorf("RPID = %v, want %v", back.RPID, g)
	}
	if !SameID(g.Swapped(), g) || SameID(NewGUID(), g) {
		t.Error("SameID does not accept exactly both byte orders")
	}
	for _, bad := range []string{"", "B2DDE5BA", "B2DDE5BA-F22F-4493-9B8E-8B565073F56Z", "B2DDE5BAF22F44939B8E8B565073F563xxxx"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) succeeded, want error", bad)
		}
	}
}

func TestFragmentRoundTrip(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789"), 10)
	for _, size := range []int{1, 7, 99, 100, 101, 0} {
		f := Fragmenter{BlobSize: size}
		wire := f.Encode(msg, []byte("second"))
		var d Defragmenter
		got, err := d.AddData(wire)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(got) != 2 || !bytes.Equal(got[0], msg) || string(got[1]) != "second" {
			t.Errorf("size %d: got %q, want the two messages back", size, got)
		}
		frags, _ := ParseFragments(wire)
		if frags[0].ObjectID != 1 || frags[len(frags)-1].ObjectID != 2 {
			t.Errorf("size %d: object IDs %d..%d, want 1..2", size, frags[0].ObjectID, frags[len(frags)-1].ObjectID)
		}
	}
}

func TestFragmentErrors(t *testing.T) {
	good := (&Fragmenter{BlobSize: 4}).Encode([]byte("abcdefgh"))
	frags, _ := ParseFragments(good)
	tests := []struct {
		name  string
		frags []Fragment
	}{
		{"missing start", []Fragment{frags[1]}},
		{"out of order", []Fragment{frags[0], {ObjectID: 1, FragmentID: 2, End: true, Blob: []byte("x")}}},
		{"started twice", []Fragment{frags[0], frags[0]}},
		{"start not zero", []Fragment{{ObjectID: 3, FragmentID: 1, Start: true}}},
	}
	for _, tt := range tests {
		var d Defragmenter
		var err error
		for _, f := range tt.frags {
			if _, err = d.Add(f); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrFragment) {
			t.Errorf("%s: got %v, want ErrFragment", tt.name, err)
		}
	}
	for _, n := range []int{1, 20, 22, len(good) - 1} {
		if _, err := ParseFragments(good[:n]); !errors.Is(err, ErrFragment) {
			t.Errorf("truncated to %d: got %v, want ErrFragment", n, err)
		}
	}
	d := Defragmenter{MaxMessageSize: 5}
	var err error
	for _, f := range frags {
		if _, err = d.Add(f); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrFragment) {
		t.Errorf("oversized message: got %v, want ErrFragment", err)
	}
}

func TestNewFragmenterFitsEnvelope(t *testing.T) {
	for _, env := range []int{153600, 512000, 8192} {
		f := NewFragmenter(env)
		if f.BlobSize > MaxBlobSize || (f.BlobSize+FragmentHeaderSize)*4/3+1280 > env {
			t.Errorf("envelope %d: blob %d does not fit", env, f.BlobSize)
		}
	}
}

func TestEscapeString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\nb", "a_x000D__x000A_b"},
		{"actual_x000A_string\nnewline: \U00010437", "actual_x005F_x000A_string_x000A_newline: _xD801__xDC37_"},
		{"tab\there", "tab_x0009_here"},
		{"_X_y", "_x005F_X_y"},
		{"\u0085", "_x0085_"},
		{"こんにちは", "こんにちは"},
	}
	for _, tt := range tests {
		if got := EscapeString(tt.in); got != tt.want {
			t.Errorf("EscapeString(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := UnescapeString(tt.want); got != tt.in {
			t.Errorf("UnescapeString(%q) = %q, want %q", tt.want, got, tt.in)
		}
	}
	if got := UnescapeString("_xD801_"); got != "\uFFFD" {
		t.Errorf("lone surrogate = %q, want U+FFFD", got)
	}
}

func TestCLIXMLRoundTrip(t *testing.T) {
	ts := "x & <y>"
	inner := &Object{TypeNames: []string{"T.A", "System.Object"}, ToString: &ts, Props: []Value{Named("P", String("p"))}}
	v := ObjValue(&Object{
		TypeNames: []string{"System.Collections.Hashtable", "System.Object"},
		IsDict:    true,
		Dict:      []DictEntry{{Key: String("k\"1"), Value: Int64(-5)}, {Key: String("inner"), Value: ObjValue(inner)}},
		Members: []Value{
			Named("list", ObjValue(&Object{TypeNames: []string{"T.A", "System.Object"}, ListKind: "LST", List: []Value{Bool(true), Nil(), String("")}})),
			Named("again", Value{Kind: "Ref", Obj: inner}),
			Named("g", Value{Kind: "G", Text: "B2DDE5BA-F22F-4493-9B8E-8B565073F563"}),
		},
	})
	b := v.MarshalCLIXML()
	back, err := UnmarshalCLIXML(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if again := back.MarshalCLIXML(); !bytes.Equal(again, b) {
		t.Errorf("second encoding differs:\n%s\n%s", again, b)
	}
	if !bytes.Contains(b, []byte(`<TNRef RefId="1" />`)) || !bytes.Contains(b, []byte(`<Ref N="again" RefId="1" />`)) {
		t.Errorf("type or object reference not written: %s", b)
	}
	ref, _ := back.Member("again")
	if got := ref.MemberStr("P"); got != "p" {
		t.Errorf("reference resolves to P=%q, want p", got)
	}
	if got := back.Obj.Dict[0].Key.Str(); got != `k"1` {
		t.Errorf("dict key = %q, want k\"1", got)
	}
}

func TestUnmarshalCLIXMLErrors(t *testing.T) {
	deep := bytes.Repeat([]byte("<Obj><MS>"), maxDepth+5)
	for _, in := range []string{"", "<S>unterminated", "<Obj><MS><S>a</S>", "text", "<S>a</S><S>b</S>", "<I32><S>x</S></I32>", "<Obj>text</Obj>", string(deep)} {
		if _, err := UnmarshalCLIXML([]byte(in)); !errors.Is(err, ErrCLIXML) {
			t.Errorf("UnmarshalCLIXML(%.30q) = %v, want ErrCLIXML", in, err)
		}
	}
}

// TestBodiesRoundTrip encodes every message body the client and the server
// use and parses it back.
func TestBodiesRoundTrip(t *testing.T) {
	rpid, pid := NewGUID(), NewGUID()
	failure := &ErrorRecord{
		Message: "Another action is in progress.", FullyQualifiedErrorID: "ActionInProgress,New-RegistrationToken",
		Category: 7, CategoryMessage: "InvalidOperation: (:) [New-RegistrationToken], InvalidOperationException",
		ExceptionType: "System.InvalidOperationException", Reason: "InvalidOperationException", TargetObject: "x", TargetName: "x", Command: "New-RegistrationToken",
	}
	pipeline := CreatePipeline{NoInput: true, Statements: [][]Command{{
		{Name: "New-RegistrationToken", Parameters: []Parameter{
			{Name: "BillingModel", Value: String("Capacity")},
			{Name: "UsageReportingEnabled", Value: Bool(false)},
			{Name: "TimeoutInSeconds", Value: Int32(1800)},
			{Name: "Force", Value: Nil()},
			{Value: String("positional")},
		}},
		{Name: "Select-Object"},
	}, {{Name: "Get-Date"}}}}
	tests := []struct {
		body  Body
		parse func([]byte) (any, error)
	}{
		{DefaultSessionCapability, func(b []byte) (any, error) { return ParseSessionCapability(b) }},
		{InitRunspacePool{MinRunspaces: 1, MaxRunspaces: 1}, func(b []byte) (any, error) { return ParseInitRunspacePool(b) }},
		{RunspacePoolStateMessage{State: PoolOpened}, func(b []byte) (any, error) { return ParseRunspacePoolState(b) }},
		{RunspacePoolStateMessage{State: PoolBroken, Error: failure}, func(b []byte) (any, error) { return ParseRunspacePoolState(b) }},
		{pipeline, func(b []byte) (any, error) { return ParseCreatePipeline(b) }},
		{PipelineState{State: PipelineCompleted}, func(b []byte) (any, error) { return ParsePipelineState(b) }},
		{PipelineState{State: PipelineFailed, Error: failure}, func(b []byte) (any, error) { return ParsePipelineState(b) }},
		{failure, func(b []byte) (any, error) { return ParseErrorRecord(b) }},
		{InformationalRecord{Type: WarningRecordType, Message: "usage reporting is off"}, func(b []byte) (any, error) { return ParseInformationalRecord(WarningRecordType, b) }},
		{InformationalRecord{Type: VerboseRecordType, Message: "v"}, func(b []byte) (any, error) { return ParseInformationalRecord(VerboseRecordType, b) }},
		{InformationalRecord{Type: DebugRecordType, Message: "d"}, func(b []byte) (any, error) { return ParseInformationalRecord(DebugRecordType, b) }},
		{ProgressRecord{Activity: "New-RegistrationToken", ActivityID: 1, StatusDescription: "Collecting", CurrentOperation: "op", ParentActivityID: -1, PercentComplete: 40, SecondsRemaining: -1}, func(b []byte) (any, error) { return ParseProgressRecord(b) }},
		{InformationRecord{Message: "hello", Source: "Write-Host", Tags: []string{"PSHOST"}}, func(b []byte) (any, error) { return ParseInformationRecord(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.body.MessageType().String(), func(t *testing.T) {
			dest := DestinationClient
			switch tt.body.MessageType() {
			case InitRunspacePoolType, CreatePipelineType:
				dest = DestinationServer
			}
			m := NewMessage(dest, rpid, pid, tt.body)
			wire, _ := m.MarshalBinary()
			var back Message
			if err := back.UnmarshalBinary(wire); err != nil {
				t.Fatal(err)
			}
			if back.Type != tt.body.MessageType() || back.RPID != rpid || back.PID != pid || back.Destination != dest {
				t.Errorf("header = %v %v %v %v, want %v %v %v %v", back.Destination, back.Type, back.RPID, back.PID, dest, tt.body.MessageType(), rpid, pid)
			}
			got, err := tt.parse(back.Data)
			if err != nil {
				t.Fatalf("%v\n%s", err, back.Data)
			}
			if !reflect.DeepEqual(deref(got), deref(tt.body)) {
				t.Errorf("round trip:\ngot  %+v\nwant %+v", deref(got), deref(tt.body))
			}
		})
	}
	for _, typ := range []Body{PipelineInput{Value: String("in")}, PipelineOutput{Value: Int32(2)}, EndOfPipelineInput{}, ApplicationPrivateData{Data: Nil()}} {
		m := NewMessage(DestinationServer, rpid, pid, typ)
		if m.Type != typ.MessageType() {
			t.Errorf("%T: type %v", typ, m.Type)
		}
	}
}

func deref(v any) any {
	if e, ok := v.(*ErrorRecord); ok {
		return *e
	}
	return v
}

func TestMessageErrors(t *testing.T) {
	var m Message
	if err := m.UnmarshalBinary(make([]byte, 39)); !errors.Is(err, ErrMessage) {
		t.Errorf("short: got %v, want ErrMessage", err)
	}
	b := make([]byte, 40)
	b[0] = 7
	if err := m.UnmarshalBinary(b); !errors.Is(err, ErrMessage) {
		t.Errorf("destination 7: got %v, want ErrMessage", err)
	}
	if got := MessageType(0x00041004).String(); got != "PIPELINE_OUTPUT" {
		t.Errorf("name = %q, want PIPELINE_OUTPUT", got)
	}
	if got := MessageType(0x1234).String(); got != "0x00001234" {
		t.Errorf("unknown name = %q", got)
	}
}

func TestErrorRecordError(t *testing.T) {
	e := &ErrorRecord{Message: "The term 'x' is not recognized", FullyQualifiedErrorID: "CommandNotFoundException"}
	if got, want := e.Error(), "The term 'x' is not recognized (CommandNotFoundException)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var target *ErrorRecord
	if !errors.As(error(e), &target) {
		t.Error("ErrorRecord is not an error")
	}
}
