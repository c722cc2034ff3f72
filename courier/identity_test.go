package courier_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/azs-courier/azs-courier/courier"
)

func TestIdentityIsMadeOnceAndKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", courier.IdentityFile)
	// Several processes starting at once end with one key.
	var wg sync.WaitGroup
	fps := make([]string, 8)
	for i := range fps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := courier.LoadIdentity(path)
			if err != nil {
				t.Error(err)
				return
			}
			fps[i] = id.Fingerprint()
		}()
	}
	wg.Wait()
	for _, fp := range fps {
		if fp != fps[0] || len(fp) != 32 {
			t.Fatalf("fingerprints %v: want one of 32 hex digits", fps)
		}
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("key file mode %v (%v), want 0600", st.Mode(), err)
		}
	}
	left, _ := filepath.Glob(path + courier.TempMarker + "*")
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	id, err := courier.LoadIdentity(path)
	if err != nil || id.Fingerprint() != fps[0] {
		t.Fatalf("reloaded %v, %v; want the same key", id, err)
	}
	sig := id.Sign("test", []byte("hello"))
	if !courier.VerifySignature(id.Public(), "test", []byte("hello"), sig) {
		t.Error("a signature does not verify")
	}
	if courier.VerifySignature(id.Public(), "other", []byte("hello"), sig) {
		t.Error("a signature verifies in another domain")
	}
}

func TestIdentityDamagedIsNotReplaced(t *testing.T) {
	for name, data := range map[string]string{
		"empty":    "",
		"not PEM":  "hello",
		"RSA type": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), courier.IdentityFile)
			write(t, path, data)
			_, err := courier.LoadIdentity(path)
			if err == nil || !strings.Contains(err.Error(), "damaged") || strings.Contains(err.Error(), "\n") {
				t.Errorf("LoadIdentity = %v, want one line saying it is damaged", err)
			}
			if got, _ := os.ReadFile(path); string(got) != data {
				t.Error("the damaged key was replaced")
			}
		})
	}
}

func TestFingerprintFormats(t *testing.T) {
	fp := "3F2A9C01DEADBEEF0123456789ABCDEF"
	g := courier.GroupHex(fp)
	if g != "3F2A 9C01 DEAD BEEF 0123 4567 89AB CDEF" {
		t.Errorf("GroupHex = %q", g)
	}
	for _, in := range []string{g, strings.ToLower(g), fp, " " + fp + "\n"} {
		if got, ok := courier.NormalizeFingerprint(in); !ok || got != fp {
			t.Errorf("NormalizeFingerprint(%q) = %q, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", fp[:31], fp + "0", "G" + fp[1:]} {
		if _, ok := courier.NormalizeFingerprint(bad); ok {
			t.Errorf("NormalizeFingerprint(%q) accepted", bad)
		}
	}
}
