package pepsim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
)

// openSession starts a simulator and opens a pool on it.
func openSession(t *testing.T, opts pepsim.Options) (*pepsim.Server, *session) {
	t.Helper()
	srv := start(t, opts)
	c, status := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	if status != 200 {
		t.Fatalf("authentication: HTTP %d", status)
	}
	s, _ := openPool(t, c)
	return srv, s
}

// TestJEAErrors checks the JEA endpoint's refusals: the record's
// FullyQualifiedErrorId and message, as PowerShell words them.
func TestJEAErrors(t *testing.T) {
	_, s := openSession(t, pepsim.Options{StampVersion: "1.2102.0.9"})
	str := psrp.String
	tests := []struct {
		name     string
		pipeline psrp.CreatePipeline
		fqid     string
		message  string
	}{
		{"script", psrp.CreatePipeline{NoInput: true, Statements: [][]psrp.Command{{{Name: "Get-AzureStackStampInformation | ConvertTo-Json", IsScript: true}}}},
			"ScriptsNotAllowed", "The syntax is not supported by this runspace. This can occur if the runspace is in no-language mode."},
		{"unknown command", cmd("Get-ChildItem"),
			"CommandNotFoundException", "The term 'Get-ChildItem' is not recognized as the name of a cmdlet"},
		{"script in second statement", psrp.CreatePipeline{NoInput: true, Statements: [][]psrp.Command{
			{{Name: "Get-Command"}}, {{Name: "$x = 1", IsScript: true}}}},
			"ScriptsNotAllowed", "no-language mode"},
		{"billing model not in set", cmd("New-RegistrationToken", param("BillingModel", str("Free"))),
			"ParameterArgumentValidationError,New-RegistrationToken",
			`Cannot validate argument on parameter 'BillingModel'. The argument "Free" does not belong to the set "Capacity,PayAsYouUse,Development,Custom,Ruggedized" specified by the ValidateSet attribute.`},
		{"unknown parameter", cmd("New-RegistrationToken", param("Foo", str("x"))),
			"NamedParameterNotFound,New-RegistrationToken", "A parameter cannot be found that matches parameter name 'Foo'."},
		{"ambiguous prefix", cmd("New-RegistrationToken", param("M", str("x"))),
			"AmbiguousParameter,New-RegistrationToken", "Possible matches include: -MsAssetTag -MarketplaceSyndicationEnabled."},
		{"empty activation key", cmd("New-AzureStackActivation", param("ActivationKey", str(""))),
			"ParameterArgumentValidationErrorEmptyStringNotAllowed,New-AzureStackActivation",
			"Cannot bind argument to parameter 'ActivationKey' because it is an empty string."},
		{"missing activation key", cmd("New-AzureStackActivation", param("TimeoutInSeconds", psrp.Int32(1800))),
			"MissingMandatoryParameter,New-AzureStackActivation", "missing mandatory parameters: ActivationKey."},
		{"timeout not a number", cmd("New-AzureStackActivation", param("ActivationKey", str("a.b.c")), param("TimeoutInSeconds", str("soon"))),
			"ParameterArgumentTransformationError,New-AzureStackActivation", `Cannot convert value "soon" to type "System.Int32".`},
		{"key not a JWS", cmd("New-AzureStackActivation", param("ActivationKey", str("not-a-key"))),
			"The activation key is not valid: it has 1 dot-separated parts, want 3 (header.payload.signature).", "header.payload.signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := final(t, s.invoke(tt.pipeline))
			if st.State != psrp.PipelineFailed || st.Error == nil {
				t.Fatalf("state %v, error %v: want Failed with an error record", st.State, st.Error)
			}
			if st.Error.FullyQualifiedErrorID != tt.fqid {
				t.Errorf("FullyQualifiedErrorId: got %q, want %q", st.Error.FullyQualifiedErrorID, tt.fqid)
			}
			if !strings.Contains(st.Error.Message, tt.message) {
				t.Errorf("message: got %q, want it to contain %q", st.Error.Message, tt.message)
			}
		})
	}
}

// TestVersionGates checks that parameters exist only from the stamp
// version that introduced them, as the module's version gates assume.
func TestVersionGates(t *testing.T) {
	tests := []struct {
		stamp   string
		params  []psrp.Parameter
		wantErr string // FullyQualifiedErrorId, "" for success
	}{
		{"1.1910.0.58", []psrp.Parameter{param("BillingModel", psrp.String("Custom")), param("MsAssetTag", psrp.String("T1"))}, "NamedParameterNotFound,New-RegistrationToken"},
		{"1.1912.0.19", []psrp.Parameter{param("BillingModel", psrp.String("Custom")), param("MsAssetTag", psrp.String("T1"))}, ""},
		{"1.2005.0.40", []psrp.Parameter{param("BillingModel", psrp.String("Capacity")), param("TokenVersion", psrp.String("4.0"))}, "NamedParameterNotFound,New-RegistrationToken"},
		{"1.2008.0.49", []psrp.Parameter{param("BillingModel", psrp.String("Capacity")), param("TokenVersion", psrp.String("4.0"))}, ""},
		{"1.2311.2.23", []psrp.Parameter{param("BillingModel", psrp.String("Capacity")), param("TokenVersion", psrp.String("5.0"))}, "ParameterArgumentValidationError,New-RegistrationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.stamp, func(t *testing.T) {
			_, s := openSession(t, pepsim.Options{StampVersion: tt.stamp, Nodes: 1})
			st := final(t, s.invoke(cmd("New-RegistrationToken", tt.params...)))
			got := ""
			if st.Error != nil {
				got = st.Error.FullyQualifiedErrorID
			}
			if got != tt.wantErr {
				t.Errorf("got error %q (state %v), want %q", got, st.State, tt.wantErr)
			}
		})
	}
}

// TestStampInformation checks the fields the module reads.
func TestStampInformation(t *testing.T) {
	_, s := openSession(t, pepsim.Options{CloudID: "cd613e30-d8f1-4adf-91b7-584a2265b1f5", StampVersion: "1.2206.1.24", Nodes: 16})
	msgs := s.invoke(cmd("Get-AzureStackStampInformation", param("WarningAction", psrp.String("SilentlyContinue"))))
	out := outputs(t, msgs)
	if len(out) != 1 {
		t.Fatalf("got %d outputs, want 1", len(out))
	}
	v := out[0]
	for field, want := range map[string]string{"CloudID": "cd613e30-d8f1-4adf-91b7-584a2265b1f5", "StampVersion": "1.2206.1.24", "NumberOfNodes": "16", "DomainNetBIOSName": "AZS"} {
		if got := v.MemberStr(field); got != want {
			t.Errorf("%s: got %q, want %q", field, got, want)
		}
	}
	arm, _ := v.Member("AdminExternalEndpoints")
	if got := arm.MemberStr("AdminResourceManager"); !strings.HasPrefix(got, "https://adminmanagement.") {
		t.Errorf("AdminExternalEndpoints.AdminResourceManager: got %q", got)
	}
	if g := v.MemberStr("DeploymentID"); len(g) != 36 {
		t.Errorf("DeploymentID: got %q, want a GUID", g)
	}
}

// tokenJSON decodes a registration token.
func tokenJSON(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token is not standard base64: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token is not JSON: %v", err)
	}
	return m
}

// TestRegistrationToken compares a token with the shared vector of the
// same stamp: same fields, cloud ID and node count, parameters honoured.
func TestRegistrationToken(t *testing.T) {
	vector := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-4node.txt")))
	want := tokenJSON(t, vector)
	srv, s := openSession(t, pepsim.Options{CloudID: want["cloudId"].(string), Nodes: 4, TokenDelay: 40 * time.Millisecond})

	start := time.Now()
	msgs := s.invoke(cmd("New-RegistrationToken",
		param("BillingModel", psrp.String("capacity")), // ValidateSet is case-insensitive
		param("AgreementNumber", psrp.String("EA-7654321")),
		param("MarketplaceSyndicationEnabled", psrp.Nil()),
		param("TokenVersion", psrp.String("6.0"))))
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("token came after %v, want at least the 40ms TokenDelay", d)
	}
	if st := final(t, msgs); st.State != psrp.PipelineCompleted {
		t.Fatalf("state %v (%v), want Completed", st.State, st.Error)
	}
	if n := count(msgs, psrp.ProgressRecordType); n < 5 {
		t.Errorf("progress records: got %d, want one per node and more", n)
	}
	out := outputs(t, msgs)
	if len(out) != 1 || out[0].Kind != "S" {
		t.Fatalf("outputs: got %v, want one string", out)
	}
	got := tokenJSON(t, out[0].Text)
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("token lacks %q, which the shared vector has", k)
		}
	}
	checks := map[string]any{
		"cloudId": srv.CloudID(), "billingModel": "Capacity", "agreementNumber": "EA-7654321",
		"marketplaceSyndicationEnabled": true, "usageReportingEnabled": false, "version": "6.0",
	}
	for k, w := range checks {
		if got[k] != w {
			t.Errorf("%s: got %v, want %v", k, got[k], w)
		}
	}
	hw, _ := got["hardwareInfo"].([]any)
	if len(hw) != 4 {
		t.Errorf("hardwareInfo: got %d entries, want 4 (one per node)", len(hw))
	}
	if wantHW := want["hardwareInfo"].([]any)[0].(map[string]any); len(hw) > 0 {
		for k := range wantHW {
			if _, ok := hw[0].(map[string]any)[k]; !ok {
				t.Errorf("hardwareInfo entry lacks %q", k)
			}
		}
	}
	// The same stamp gives the same token (deterministic state).
	again := outputs(t, s.invoke(cmd("New-RegistrationToken", param("BillingModel", psrp.String("Capacity")),
		param("AgreementNumber", psrp.String("EA-7654321")), param("MarketplaceSyndicationEnabled", psrp.Nil()),
		param("TokenVersion", psrp.String("6.0")))))
	if len(again) != 1 || again[0].Text != out[0].Text {
		t.Error("a second token for the same arguments differs")
	}
}

// TestActivation activates with the shared 4-node key, refuses a key of
// another cloud, and deactivates.
func TestActivation(t *testing.T) {
	key4 := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "activation-key-4node.txt")))
	key1 := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "activation-key-1node.txt")))
	srv, s := openSession(t, pepsim.Options{CloudID: "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7"})

	st := final(t, s.invoke(cmd("New-AzureStackActivation", param("ActivationKey", psrp.String(key1)), param("TimeoutInSeconds", psrp.Int32(1800)))))
	if st.State != psrp.PipelineFailed || !strings.Contains(st.Error.Message, "cd613e30-d8f1-4adf-91b7-584a2265b1f5") {
		t.Fatalf("key of another cloud: state %v, error %v; want Failed naming its cloud ID", st.State, st.Error)
	}
	if srv.Activated() {
		t.Fatal("activated by a key of another cloud")
	}

	st = final(t, s.invoke(cmd("New-AzureStackActivation", param("ActivationKey", psrp.String(key4)), param("TimeoutInSeconds", psrp.Int32(1800)))))
	if st.State != psrp.PipelineCompleted {
		t.Fatalf("activation: state %v (%v), want Completed", st.State, st.Error)
	}
	if !srv.Activated() || srv.ActivationKey() != key4 {
		t.Fatal("not activated after New-AzureStackActivation")
	}

	msgs := s.invoke(cmd("Remove-AzureStackActivation"))
	if st := final(t, msgs); st.State != psrp.PipelineCompleted {
		t.Fatalf("deactivation: state %v (%v)", st.State, st.Error)
	}
	if srv.Activated() {
		t.Fatal("still activated after Remove-AzureStackActivation")
	}
	if n := count(msgs, psrp.WarningRecordType); n != 0 {
		t.Errorf("deactivating an active stamp: got %d warnings, want 0", n)
	}
	msgs = s.invoke(cmd("Remove-AzureStackActivation"))
	if n := count(msgs, psrp.WarningRecordType); n != 1 {
		t.Errorf("deactivating twice: got %d warnings, want 1", n)
	}
}

// TestGetCommand lists the role's commands and their syntax.
func TestGetCommand(t *testing.T) {
	_, s := openSession(t, pepsim.Options{})
	out := outputs(t, s.invoke(cmd("Get-Command")))
	var names []string
	for _, o := range out {
		names = append(names, o.MemberStr("Name"))
	}
	for _, want := range []string{"Get-AzureStackStampInformation", "New-RegistrationToken", "New-AzureStackActivation", "Remove-AzureStackActivation", "Close-PrivilegedEndpoint"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Errorf("Get-Command lacks %s: got %v", want, names)
		}
	}
	syn := outputs(t, s.invoke(cmd("Get-Command", param("Name", psrp.String("New-AzureStackActivation")), param("Syntax", psrp.Nil()))))
	if len(syn) != 1 || !strings.Contains(syn[0].Text, "[-ActivationKey] <string>") {
		t.Errorf("syntax: got %v", syn)
	}
	msgs := s.invoke(cmd("Get-Command", param("Name", psrp.String("Get-Secret"))))
	if count(msgs, psrp.ErrorRecordType) != 1 || final(t, msgs).State != psrp.PipelineCompleted {
		t.Errorf("Get-Command of an unknown name: want one error record and Completed")
	}
}

// TestCredentialNeedsSessionKey: a PSCredential whose SecureString was not
// encrypted with a session key exchanged on this pool cannot be bound.
func TestCredentialNeedsSessionKey(t *testing.T) {
	srv, s := openSession(t, pepsim.Options{})
	key := bytes.Repeat([]byte{9}, 32)
	ct, err := psrp.EncryptSecureString(key, "pw")
	if err != nil {
		t.Fatal(err)
	}
	st := final(t, s.invoke(cmd("Close-PrivilegedEndpoint",
		param("TranscriptsPathDestination", psrp.String(`\\server\share`)),
		param("Credential", psrp.PSCredential(`AZS\u`, psrp.Value{Kind: "SS", Text: ct})))))
	if st.State != psrp.PipelineFailed || st.Error == nil || !strings.Contains(st.Error.Message, "session key") {
		t.Errorf("state %v, error %v; want Failed because no session key was exchanged", st.State, st.Error)
	}
	if len(srv.Transcripts()) != 0 {
		t.Error("transcripts exported without a decryptable credential")
	}
}
