package courier_test

import (
	"path/filepath"
	"strings"
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

// BenchmarkLedgerAppend is one custody ledger entry: load the signing key,
// lock, read the tail, sign, write and sync.
func BenchmarkLedgerAppend(b *testing.B) {
	dir := b.TempDir()
	l := courier.OpenLedger(filepath.Join(dir, courier.LedgerFile), filepath.Join(dir, courier.IdentityFile))
	for b.Loop() {
		if _, err := l.Append(courier.Entry{Step: "bench", Outcome: "ok", SHA256: strings.Repeat("ab", 32)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLedgerVerify1000 verifies a ledger of 1,000 signed entries.
func BenchmarkLedgerVerify1000(b *testing.B) {
	dir := b.TempDir()
	l := courier.OpenLedger(filepath.Join(dir, courier.LedgerFile), filepath.Join(dir, courier.IdentityFile))
	for range 1000 {
		if _, err := l.Append(courier.Entry{Step: "bench", Outcome: "ok"}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if chk, err := l.Verify(nil); err != nil || chk.Entries != 1000 {
			b.Fatal(chk, err)
		}
	}
}
