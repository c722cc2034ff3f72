package psrp

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

func decodeShared(t *testing.T, name string) []TraceMessage {
	t.Helper()
	rec, err := wsman.ParseRecording(testutil.ReadShared(t, "psrp", name))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := DecodeRecording(rec)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestDecodeEveryRecording(t *testing.T) {
	for _, f := range recordings(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			msgs := decodeShared(t, name)
			want := len(recordedMessages(t, f))
			var psrpMsgs int
			for _, m := range msgs {
				if m.Error != "" {
					t.Errorf("exchange %d %s: %s", m.Exchange, m.Type, m.Error)
				}
				if _, err := json.Marshal(m); err != nil {
					t.Errorf("exchange %d: %v", m.Exchange, err)
				}
				if m.Type != "WSMAN_FAULT" {
					psrpMsgs++
				}
			}
			if psrpMsgs != want {
				t.Errorf("decoded %d PSRP messages, want %d", psrpMsgs, want)
			}
		})
	}
}

func TestDecodeJEA(t *testing.T) {
	msgs := decodeShared(t, "test_psrp_with_jea_configuration.yml")
	var output, scripts, provider bool
	for _, m := range msgs {
		b, _ := json.Marshal(m.Value)
		switch m.Type {
		case "PIPELINE_OUTPUT":
			v, _ := m.Value.(map[string]any)
			output = v["Name"] == "AllowUnencrypted" && v["Value"] == "true" && v["_toString"] == "Microsoft.WSMan.Management.WSManConfigLeafElement"
			if m.From != "server" || m.PID != "309F7D49-62AD-4ED4-AB02-174DC96A46EC" || m.RPID != "3C44D114-8061-412A-9519-D25BA6D8977B" {
				t.Errorf("output message ids/from: %+v", m)
			}
		case "PIPELINE_STATE":
			scripts = scripts || strings.Contains(string(b), `"FullyQualifiedErrorId":"ScriptsNotAllowed"`)
		case "ERROR_RECORD":
			provider = strings.Contains(string(b), "Cannot find a provider with the name 'FileSystem'.")
		}
	}
	if !output || !scripts || !provider {
		t.Errorf("Get-Item output %v, ScriptsNotAllowed %v, ProviderNotFound %v; want all", output, scripts, provider)
	}
}

func TestDecodeFaults(t *testing.T) {
	var faults []TraceMessage
	for _, m := range decodeShared(t, "test_psrp_long_running_cmdlet.yml") {
		if m.Type == "WSMAN_FAULT" {
			faults = append(faults, m)
		}
	}
	if len(faults) != 2 || faults[0].Code != "2150858793" || !strings.Contains(faults[0].Message, "OperationTimeout") {
		t.Errorf("faults = %+v, want two TimedOut faults", faults)
	}
}

func TestValueJSON(t *testing.T) {
	ts := "text"
	tests := []struct {
		v    Value
		want string
	}{
		{String("a"), `"a"`},
		{Int32(-3), `-3`},
		{Bool(true), `true`},
		{Nil(), `null`},
		{Value{Kind: "Db", Text: "1.5"}, `1.5`},
		{Value{Kind: "C", Text: "97"}, `"a"`},
		{Enum("T", "None", 0), `{"_toString":"None","_value":0}`},
		{ObjValue(&Object{ListKind: "LST", List: []Value{Int32(1), String("x")}}), `[1,"x"]`},
		{ObjValue(&Object{IsDict: true, Dict: []DictEntry{{Key: String("k"), Value: Bool(false)}}}), `{"k":false}`},
		{ObjValue(&Object{ToString: &ts, Props: []Value{Named("P", Int64(5))}, Members: []Value{Named("M", String("m"))}}), `{"M":"m","P":5,"_toString":"text"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v.JSON())
		if err != nil || string(b) != tt.want {
			t.Errorf("JSON(%s) = %s, %v; want %s", tt.v.MarshalCLIXML(), b, err, tt.want)
		}
	}
	// A self-reference stays finite.
	o := &Object{}
	o.Members = []Value{Named("self", Value{Kind: "Ref", Obj: o})}
	if _, err := json.Marshal(ObjValue(o).JSON()); err != nil {
		t.Errorf("self reference: %v", err)
	}
}
