package psrp

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/pep/wsman"
)

// TestScrubSecureStrings blanks the <SS> content of a credential inside a
// pipeline split over many small fragments, and leaves a payload that
// still decodes, with everything else as it was.
func TestScrubSecureStrings(t *testing.T) {
	const cipher = "GXD6gSYvWjfp54Vgl3jLpuNMBhNdfWFRbM1QdeUNYFU="
	cp := CreatePipeline{NoInput: true, Statements: [][]Command{{{Name: "Close-PrivilegedEndpoint", Parameters: []Parameter{
		{Name: "TranscriptsPathDestination", Value: String(`\\share\transcripts`)},
		{Name: "Credential", Value: PSCredential(`AZS\ShareUser`, Value{Kind: "SS", Text: cipher})},
	}}}}}
	rpid, pid := NewGUID(), NewGUID()
	msg, _ := NewMessage(DestinationServer, rpid, pid, cp).MarshalBinary()
	// Every split of the <SS> element over two fragments, and none.
	for size := 100; size <= 160; size++ {
		scrubOne(t, msg, pid, cipher, &Fragmenter{BlobSize: size})
	}
	scrubOne(t, msg, pid, cipher, &Fragmenter{})
}

func scrubOne(t *testing.T, msg []byte, pid GUID, cipher string, f *Fragmenter) {
	t.Helper()
	var payload []byte
	for _, fr := range f.Fragment(msg) {
		payload, _ = fr.AppendBinary(payload)
	}
	env := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header/><s:Body><rsp:CommandLine CommandId="` +
		pid.String() + `"><rsp:Command/><rsp:Arguments>` + base64.StdEncoding.EncodeToString(payload) + `</rsp:Arguments></rsp:CommandLine></s:Body></s:Envelope>`
	got := ScrubSecureStrings([]byte(env))
	if len(got) != len(env) {
		t.Errorf("length changed: %d, was %d", len(got), len(env))
	}
	parsed, err := wsman.ParseEnvelope(got)
	if err != nil {
		t.Fatal(err)
	}
	var d Defragmenter
	msgs, err := messagesOf(&d, parsed)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("scrubbed payload: %d messages, %v", len(msgs), err)
	}
	if bytes.Contains(msgs[0].Data, []byte(cipher)) {
		t.Error("the SecureString is still in the payload")
	}
	if !bytes.Contains(msgs[0].Data, []byte(`<SS N="Password">`+strings.Repeat("*", len(cipher))+`</SS>`)) {
		t.Errorf("no blanked <SS> in %s", msgs[0].Data)
	}
	back, err := ParseCreatePipeline(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if p := back.Statements[0][0].Parameters[0].Value.Str(); p != `\\share\transcripts` {
		t.Errorf("other parameters changed: %q", p)
	}
	// Nothing to scrub: the envelope is returned as it is.
	plain := strings.Replace(env, "Credential", "Credentiax", 1)
	plain = strings.Replace(plain, base64.StdEncoding.EncodeToString(payload), base64.StdEncoding.EncodeToString(bytes.ReplaceAll(payload, []byte("<SS"), []byte("<SZ"))), 1)
	if got := ScrubSecureStrings([]byte(plain)); string(got) != plain {
		t.Error("an envelope without SecureStrings was changed")
	}
}
