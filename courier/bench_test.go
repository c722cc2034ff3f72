package courier_test

import (
	"testing"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

// BenchmarkInspect16NodeToken measures reading the largest vector as inspect
// does (decode, recognise, hash, decode fields). Target: under 5 ms.
func BenchmarkInspect16NodeToken(b *testing.B) {
	for _, c := range []struct {
		name string
		data func([]byte) []byte
	}{
		{"ascii", func(d []byte) []byte { return d }},
		{"utf16le-bom-wrapped64", func(d []byte) []byte { return utf16Bytes(wrap(string(d), 64, "\r\n"), false, true) }},
	} {
		data := c.data(testutil.ReadShared(b, "tokens", "registration-token-16node.txt"))
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := courier.Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
