package courier_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

// FuzzParse checks that Parse never panics, and that what it accepts is
// canonical: parsing the canonical text again gives the same artefact.
func FuzzParse(f *testing.F) {
	for _, v := range vectors {
		text := strings.TrimSpace(string(testutil.ReadShared(f, "tokens", v.file)))
		for _, c := range variants(text) {
			f.Add(c.data)
		}
		f.Add([]byte(text[:len(text)/3]))
	}
	for _, s := range []string{"", "$x=", `""`, "a.b.c", "e30.e30.e30", "eyJjbG91ZElkIjoieCJ9", "\xff\xfe\x00", "\xfe\xff", "\xef\xbb\xbf"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := courier.Parse(data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if a.CloudID() == "" {
			t.Fatal("accepted an artefact without a cloud ID")
		}
		b, err := courier.Parse([]byte(a.Text))
		if err != nil {
			t.Fatalf("canonical text does not parse again: %v", err)
		}
		if b.SHA256 != a.SHA256 || b.Kind != a.Kind || b.Text != a.Text || b.CloudID() != a.CloudID() {
			t.Fatalf("canonical form unstable: %s/%s vs %s/%s", a.Kind, a.SHA256, b.Kind, b.SHA256)
		}
		if strings.ContainsAny(a.Text, " \r\n\t\"'") {
			t.Fatalf("canonical text holds white space or quotes")
		}
	})
}

// FuzzLedger checks that reading and verifying any ledger file never panics,
// and that a ledger that verifies still verifies after one more Append.
func FuzzLedger(f *testing.F) {
	seed, lines := newLedger(f, 3)
	key := filepath.Join(filepath.Dir(seed.Path()), courier.IdentityFile) // the seeds' signer
	f.Add([]byte(strings.Join(lines, "")))
	f.Add([]byte(strings.Join(lines, "") + lines[2][:40])) // a torn last line
	f.Add([]byte(lines[0]))
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"seq":1,"prev":"","hash":""}` + "\n"))
	f.Add([]byte("\n\n\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "l.jsonl")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		l := courier.OpenLedger(p, key)
		chk, err := l.Verify(nil)
		if err != nil {
			return
		}
		if _, err := l.Append(courier.Entry{Step: "fuzz", Outcome: "ok"}); err != nil {
			return
		}
		// An intact ledger stays intact; a torn last line is set aside by a
		// "recovered" entry before the new one.
		want := chk.Entries + 1
		if chk.Tear != nil {
			want++
		}
		if after, err := l.Verify(nil); err != nil || after.Entries != want || after.Tear != nil {
			t.Fatalf("intact ledger of %d entries (tear %v): after Append %+v, %v", chk.Entries, chk.Tear, after, err)
		}
	})
}
