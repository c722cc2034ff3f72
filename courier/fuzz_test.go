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

// FuzzManifest checks that reading any manifest never panics, and that one
// that parses and is signed still verifies after a round trip.
func FuzzManifest(f *testing.F) {
	dir := f.TempDir()
	id, err := courier.LoadIdentity(filepath.Join(dir, "key.pem"))
	if err != nil {
		f.Fatal(err)
	}
	a, err := courier.Parse(testutil.ReadShared(f, "tokens", "registration-token-1node.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, signer := range []*courier.Identity{nil, id} {
		out := filepath.Join(f.TempDir(), "t.txt")
		if _, err := courier.WriteFile(out, a, courier.WriteOptions{Signer: signer, Manifest: courier.Manifest{Reviewers: []string{"x"}}}); err != nil {
			f.Fatal(err)
		}
		data, _ := os.ReadFile(courier.ManifestPath(out))
		f.Add(data)
	}
	f.Add([]byte(`{"format":"azs-courier/manifest/v1","sha256":"ab","signature":"x","signer":"","publicKey":""}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := courier.ParseManifest(data)
		if err != nil {
			return
		}
		_ = m.Check(a)
	})
}

// FuzzTrustStore checks that reading any trust store never panics and that
// what it accepts can be written back and read the same.
func FuzzTrustStore(f *testing.F) {
	f.Add([]byte(`{"format":"azs-courier/trust/v1","keys":[{"fingerprint":"3F2A9C01DEADBEEF0123456789ABCDEF","name":"Site A","added":"2026-12-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"format":"azs-courier/trust/v1","keys":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), courier.TrustFile)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s := courier.OpenTrustStore(p)
		keys, err := s.List()
		if err != nil || len(keys) == 0 {
			return
		}
		if _, err := s.Remove(keys[0].Fingerprint); err != nil {
			t.Fatalf("Remove of a listed key: %v", err)
		}
	})
}

// FuzzPublicKeyFile checks that reading any public key file never panics.
func FuzzPublicKeyFile(f *testing.F) {
	id, err := courier.LoadIdentity(filepath.Join(f.TempDir(), "key.pem"))
	if err != nil {
		f.Fatal(err)
	}
	pub, _ := courier.PublicKeyFile(id, "x")
	f.Add(pub)
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		courier.ParsePublicKeyFile(data)
	})
}

// FuzzPolicy checks that reading any policy never panics and that what it
// accepts has only known routes and a sane reviewer count.
func FuzzPolicy(f *testing.F) {
	f.Add([]byte(`{"minReviewers": 2, "requireTicket": true, "requireMedia": true, "requireTrustedSigner": true, "routes": ["file", "paper"]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"requireTiket": true}`))
	f.Add([]byte(`{"routes": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := courier.ParsePolicy(data)
		if err != nil {
			return
		}
		if p.MinReviewers < 0 || p.MinReviewers > 10 {
			t.Fatalf("accepted minReviewers %d", p.MinReviewers)
		}
		for _, r := range p.Routes {
			if !p.Allows(r) || (r != courier.RouteFile && r != courier.RouteQRScreen && r != courier.RoutePaper) {
				t.Fatalf("accepted route %q", r)
			}
		}
	})
}
