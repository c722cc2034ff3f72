package courier_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/courier"
)

func TestTrustStore(t *testing.T) {
	dir := t.TempDir()
	s := courier.OpenTrustStore(filepath.Join(dir, "cfg", courier.TrustFile))
	if keys, err := s.List(); err != nil || len(keys) != 0 {
		t.Fatalf("empty store: %v, %v", keys, err)
	}
	id, err := courier.LoadIdentity(filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := courier.PublicKeyFile(id, "Site A operator workstation")
	if err != nil {
		t.Fatal(err)
	}
	fp, name, err := courier.ParsePublicKeyFile(pub)
	if err != nil || fp != id.Fingerprint() || name != "Site A operator workstation" {
		t.Fatalf("ParsePublicKeyFile = %q, %q, %v", fp, name, err)
	}
	// Added by its fingerprint as read aloud (groups, lower case).
	if _, err := s.Add(courier.TrustedKey{Fingerprint: strings.ToLower(courier.GroupHex(fp)), Name: name}); err != nil {
		t.Fatal(err)
	}
	k, ok, err := s.Lookup(fp)
	if err != nil || !ok || k.Name != name {
		t.Fatalf("Lookup = %+v, %v, %v", k, ok, err)
	}
	// Adding again renames; the store keeps one entry.
	s.Add(courier.TrustedKey{Fingerprint: fp, Name: "Site A (renamed)"})
	if keys, _ := s.List(); len(keys) != 1 || keys[0].Name != "Site A (renamed)" {
		t.Errorf("after re-adding: %+v", keys)
	}
	for _, bad := range []courier.TrustedKey{{Fingerprint: "abc", Name: "x"}, {Fingerprint: fp, Name: " "}} {
		if _, err := s.Add(bad); err == nil {
			t.Errorf("Add(%+v) accepted", bad)
		}
	}
	if _, err := s.Remove("site a (RENAMED)"); err != nil {
		t.Errorf("Remove by name: %v", err)
	}
	if _, err := s.Remove(fp); err == nil || !strings.Contains(err.Error(), "trust list") {
		t.Errorf("Remove of a key not there: %v", err)
	}
	// A damaged store is an error, not an empty list.
	os.WriteFile(filepath.Join(dir, "cfg", courier.TrustFile), []byte(`{"format":"azs-courier/trust/v1","keys":[{"fingerprint":"xyz","name":"a"}]}`), 0o600)
	if _, err := s.List(); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged store: %v", err)
	}
	// An edited public key file is named.
	edited := strings.Replace(string(pub), courier.GroupHex(fp)[:4], "0000", 1)
	if _, _, err := courier.ParsePublicKeyFile([]byte(edited)); err == nil {
		t.Error("a public key file with an edited fingerprint header was accepted")
	}
}
