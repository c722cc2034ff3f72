package courier_test

import (
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
