package psrp

import (
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

func BenchmarkCreatePipelineEncode(b *testing.B) {
	p := CreatePipeline{NoInput: true, Statements: [][]Command{{{Name: "New-RegistrationToken", Parameters: []Parameter{
		{Name: "BillingModel", Value: String("Capacity")}, {Name: "AgreementNumber", Value: String("1234567")},
		{Name: "UsageReportingEnabled", Value: Bool(false)}, {Name: "TokenVersion", Value: String("6.0")},
	}}}}}
	rpid, pid := NewGUID(), NewGUID()
	var f Fragmenter
	for b.Loop() {
		m, _ := NewMessage(DestinationServer, rpid, pid, p).MarshalBinary()
		_ = f.Encode(m)
	}
}

func BenchmarkDecodeJEARecording(b *testing.B) {
	rec, err := wsman.ParseRecording(testutil.ReadShared(b, "psrp", "test_psrp_with_jea_configuration.yml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := DecodeRecording(rec); err != nil {
			b.Fatal(err)
		}
	}
}
