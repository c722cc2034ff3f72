package psrp

import (
	"bytes"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// recordings lists every shared pypsrp recording.
func recordings(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testutil.Shared(t, "psrp"), "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings under %s: %v", testutil.Shared(t, "psrp"), err)
	}
	return files
}

// recordedMessage is one reassembled PSRP message of a recording.
type recordedMessage struct {
	exchange   int
	fromClient bool
	raw        []byte
	msg        Message
}

// recordedMessages reassembles the PSRP messages of one recording, client
// and server streams separately.
func recordedMessages(t testing.TB, file string) []recordedMessage {
	t.Helper()
	rec, err := wsman.ParseRecording(testutil.ReadShared(t, "psrp", filepath.Base(file)))
	if err != nil {
		t.Fatal(err)
	}
	var client, server Defragmenter
	var out []recordedMessage
	add := func(i int, fromClient bool, env string) {
		e, err := wsman.ParseEnvelope([]byte(env))
		if err != nil {
			t.Fatalf("%s #%d: %v", filepath.Base(file), i, err)
		}
		d := &server
		if fromClient {
			d = &client
		}
		for _, s := range e.Streams {
			msgs, err := d.AddData(s.Data)
			if err != nil {
				t.Fatalf("%s #%d: %v", filepath.Base(file), i, err)
			}
			for _, raw := range msgs {
				var m Message
				if err := m.UnmarshalBinary(raw); err != nil {
					t.Fatalf("%s #%d: %v", filepath.Base(file), i, err)
				}
				out = append(out, recordedMessage{exchange: i, fromClient: fromClient, raw: raw, msg: m})
			}
		}
	}
	for i, x := range rec.Messages {
		add(i, true, x.Request)
		add(i, false, x.Response)
	}
	if client.Pending() || server.Pending() {
		t.Fatalf("%s: fragments left unassembled", filepath.Base(file))
	}
	return out
}

// attrOrder rewrites <Obj RefId="n" N="x"> (PowerShell 7 / pypsrp 0.9
// order) to pypsrp's older <Obj N="x" RefId="n">, the only layout difference
// between the recordings.
var attrOrder = regexp.MustCompile(`<Obj RefId="(\d+)" N="([^"]*)">`)

func normaliseAttrs(b []byte) []byte {
	return attrOrder.ReplaceAll(b, []byte(`<Obj N="$2" RefId="$1">`))
}

// TestRecordingsClientMessagesByteExact rebuilds every client message of
// every recording from its typed body and compares the bytes after the
// 40-byte header.
func TestRecordingsClientMessagesByteExact(t *testing.T) {
	seen := map[MessageType]int{}
	for _, file := range recordings(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			for _, rm := range recordedMessages(t, file) {
				if !rm.fromClient {
					continue
				}
				want := normaliseAttrs(rm.msg.Data)
				var body Body
				var err error
				switch rm.msg.Type {
				case SessionCapabilityType:
					body, err = ParseSessionCapability(rm.msg.Data)
				case InitRunspacePoolType:
					body, err = ParseInitRunspacePool(rm.msg.Data)
				case CreatePipelineType:
					body, err = ParseCreatePipeline(rm.msg.Data)
				case PipelineInputType:
					var v Value
					v, err = UnmarshalCLIXML(rm.msg.Data)
					body = PipelineInput{Value: v}
				case EndOfPipelineInputType:
					body = EndOfPipelineInput{}
				default:
					// PUBLIC_KEY: the generic value round trip below covers it.
					v, err := UnmarshalCLIXML(rm.msg.Data)
					if err != nil {
						t.Fatalf("#%d %s: %v", rm.exchange, rm.msg.Type, err)
					}
					if got := v.MarshalCLIXML(); !bytes.Equal(got, want) {
						t.Errorf("#%d %s: round trip differs:\ngot  %s\nwant %s", rm.exchange, rm.msg.Type, got, want)
					}
					continue
				}
				if err != nil {
					t.Fatalf("#%d %s: %v", rm.exchange, rm.msg.Type, err)
				}
				seen[rm.msg.Type]++
				if got := body.MarshalCLIXML(); !bytes.Equal(got, want) {
					t.Errorf("#%d %s: rebuilt data differs:\ngot  %s\nwant %s", rm.exchange, rm.msg.Type, got, want)
				}
			}
		})
	}
	for _, typ := range []MessageType{SessionCapabilityType, InitRunspacePoolType, CreatePipelineType, PipelineInputType, EndOfPipelineInputType} {
		if seen[typ] == 0 {
			t.Errorf("no %s in the recordings was compared", typ)
		}
	}
}

// TestRecordingsServerMessagesParse decodes every server message of every
// recording into its typed body.
func TestRecordingsServerMessagesParse(t *testing.T) {
	for _, file := range recordings(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			for _, rm := range recordedMessages(t, file) {
				if rm.fromClient {
					continue
				}
				if !bytes.HasPrefix(rm.msg.Data, bom) {
					t.Errorf("#%d %s: server data has no byte order mark", rm.exchange, rm.msg.Type)
				}
				var err error
				switch rm.msg.Type {
				case SessionCapabilityType:
					_, err = ParseSessionCapability(rm.msg.Data)
				case ApplicationPrivateDataType:
					_, err = ParseApplicationPrivateData(rm.msg.Data)
				case RunspacePoolStateType:
					var s RunspacePoolStateMessage
					s, err = ParseRunspacePoolState(rm.msg.Data)
					if err == nil && s.State != PoolOpened {
						t.Errorf("#%d: pool state %v, want Opened", rm.exchange, s.State)
					}
				case PipelineStateType:
					_, err = ParsePipelineState(rm.msg.Data)
				case ErrorRecordType:
					_, err = ParseErrorRecord(rm.msg.Data)
				case ProgressRecordType:
					_, err = ParseProgressRecord(rm.msg.Data)
				case DebugRecordType, VerboseRecordType, WarningRecordType:
					_, err = ParseInformationalRecord(rm.msg.Type, rm.msg.Data)
				default:
					_, err = UnmarshalCLIXML(rm.msg.Data)
				}
				if err != nil {
					t.Errorf("#%d %s: %v", rm.exchange, rm.msg.Type, err)
				}
			}
		})
	}
}

// TestJEARecording checks the facts the PEP client relies on in the JEA
// recording: the Get-Item output object and the ScriptsNotAllowed failure.
func TestJEARecording(t *testing.T) {
	var outputs []Value
	var errRecs []*ErrorRecord
	var states []PipelineState
	for _, rm := range recordedMessages(t, "test_psrp_with_jea_configuration.yml") {
		switch rm.msg.Type {
		case PipelineOutputType:
			v, err := UnmarshalCLIXML(rm.msg.Data)
			if err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, v)
		case ErrorRecordType:
			e, err := ParseErrorRecord(rm.msg.Data)
			if err != nil {
				t.Fatal(err)
			}
			errRecs = append(errRecs, e)
		case PipelineStateType:
			s, err := ParsePipelineState(rm.msg.Data)
			if err != nil {
				t.Fatal(err)
			}
			states = append(states, s)
		}
	}
	if len(outputs) != 1 {
		t.Fatalf("got %d outputs, want 1", len(outputs))
	}
	if got, want := outputs[0].MemberStr("Name"), "AllowUnencrypted"; got != want {
		t.Errorf("output Name = %q, want %q", got, want)
	}
	if len(errRecs) != 1 || errRecs[0].FullyQualifiedErrorID != "ProviderNotFound,Microsoft.PowerShell.Commands.GetItemCommand" {
		t.Errorf("error records = %+v, want one ProviderNotFound", errRecs)
	} else if got, want := errRecs[0].Message, "Cannot find a provider with the name 'FileSystem'."; got != want {
		t.Errorf("error message = %q, want %q", got, want)
	}
	if len(states) != 2 {
		t.Fatalf("got %d pipeline states, want 2", len(states))
	}
	if states[0].State != PipelineCompleted || states[1].State != PipelineFailed {
		t.Errorf("states = %v, %v; want Completed, Failed", states[0].State, states[1].State)
	}
	e := states[1].Error
	if e == nil || e.FullyQualifiedErrorID != "ScriptsNotAllowed" || e.Category != 17 {
		t.Fatalf("failure record = %+v, want ScriptsNotAllowed, category 17", e)
	}
	if want := "The syntax is not supported by this runspace. This can occur if the runspace is in no-language mode."; e.Message != want {
		t.Errorf("failure message = %q, want %q", e.Message, want)
	}
}

// TestCreationXMLByteExact rebuilds the JEA recording's whole creationXml
// (fragments, headers and data) from the shell ID.
func TestCreationXMLByteExact(t *testing.T) {
	rec, err := wsman.ParseRecording(testutil.ReadShared(t, "psrp", "test_psrp_with_jea_configuration.yml"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := wsman.ParseEnvelope([]byte(rec.Messages[0].Request))
	if err != nil {
		t.Fatal(err)
	}
	rpid, err := ParseGUID(env.ShellID)
	if err != nil {
		t.Fatal(err)
	}
	// The 2018 recording wrote RFC byte order; our encoder writes .NET order,
	// so feed it the swapped ID to reproduce the old bytes.
	old := rpid.Swapped()
	var f Fragmenter
	cap := NewMessage(DestinationServer, old, GUID{}, DefaultSessionCapability)
	init := NewMessage(DestinationServer, old, GUID{}, InitRunspacePool{MinRunspaces: 1, MaxRunspaces: 1})
	a, _ := cap.MarshalBinary()
	b, _ := init.MarshalBinary()
	got := f.Encode(a, b)
	want := env.Streams[0].Data
	if len(want) != 1006 || !bytes.Equal(got, want) {
		t.Errorf("creationXml differs (got %d bytes, want %d):\ngot  %x\nwant %x", len(got), len(want), got, want)
	}
}
