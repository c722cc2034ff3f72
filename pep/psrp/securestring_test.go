package psrp

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// pypsrpKey returns the RSA key of pypsrp's tests
// (shared/testdata/psrp/pypsrp_test_rsa_key.json).
func pypsrpKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	var nums map[string]string
	if err := json.Unmarshal(testutil.ReadShared(t, "psrp", "pypsrp_test_rsa_key.json"), &nums); err != nil {
		t.Fatal(err)
	}
	n := func(k string) *big.Int {
		v, ok := new(big.Int).SetString(nums[k], 10)
		if !ok {
			t.Fatalf("key field %s is not a number", k)
		}
		return v
	}
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n("n"), E: int(n("e").Int64())}, D: n("d"), Primes: []*big.Int{n("p"), n("q")}}
	if err := k.Validate(); err != nil {
		t.Fatal(err)
	}
	k.Precompute()
	return k
}

// recordedKeyMessages returns the PUBLIC_KEY pypsrp sent and the
// ENCRYPTED_SESSION_KEY the server answered.
func recordedKeyMessages(t *testing.T) (pub PublicKey, enc EncryptedSessionKey) {
	t.Helper()
	rec, err := wsman.ParseRecording(testutil.ReadShared(t, "psrp", "test_psrp_multiple_commands.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var dq, dr Defragmenter
	for _, x := range rec.Messages {
		for side, text := range map[*Defragmenter]string{&dq: x.Request, &dr: x.Response} {
			env, err := wsman.ParseEnvelope([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := messagesOf(side, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				switch m.Type {
				case PublicKeyType:
					if pub, err = ParsePublicKey(m.Data); err != nil {
						t.Fatal(err)
					}
				case EncryptedSessionKeyType:
					if enc, err = ParseEncryptedSessionKey(m.XML()); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if pub.Blob == nil || enc.Blob == nil {
		t.Fatal("recording lacks the key exchange")
	}
	return pub, enc
}

// TestSessionKeyVectors checks the exchange against pypsrp's recording:
// our PUBLICKEYBLOB of pypsrp's key is the recorded one, the recorded
// ENCRYPTED_SESSION_KEY decrypts with it, and the recorded <SS> the server
// returned decrypts to "abc" ([MS-PSRP] 2.2.2.3, 2.2.2.4, 2.2.5.1.24).
func TestSessionKeyVectors(t *testing.T) {
	key := pypsrpKey(t)
	pub, enc := recordedKeyMessages(t)
	if got := PublicKeyBlob(&key.PublicKey); !bytes.Equal(got, pub.Blob) {
		t.Errorf("PublicKeyBlob:\ngot  %x\nwant %x", got, pub.Blob)
	}
	back, err := ParsePublicKeyBlob(pub.Blob)
	if err != nil || back.N.Cmp(key.N) != 0 || back.E != key.E {
		t.Errorf("ParsePublicKeyBlob: %v", err)
	}
	session, err := DecryptSessionKey(key, enc.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecryptSecureString(session, "rTm4n3bxaFOIgdjhDDV5OA=="); err != nil || got != "abc" {
		t.Errorf("recorded <SS>: %q, %v; want abc", got, err)
	}
	if got, err := EncryptSecureString(session, "abc"); err != nil || got != "rTm4n3bxaFOIgdjhDDV5OA==" {
		t.Errorf("EncryptSecureString(abc) = %q, %v; want the recorded rTm4n3bxaFOIgdjhDDV5OA==", got, err)
	}
	// The other direction, as the simulator uses it.
	aes := bytes.Repeat([]byte{7}, 32)
	blob, err := EncryptSessionKey(&key.PublicKey, aes)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecryptSessionKey(key, blob); err != nil || !bytes.Equal(got, aes) {
		t.Errorf("session key round trip: %x, %v", got, err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := DecryptSessionKey(other, blob); err == nil {
		t.Error("a session key decrypted with another key")
	}
}

func TestSecureStringRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	for _, s := range []string{"", "a", "Pa$$w0rd-ß-€-😀", string(bytes.Repeat([]byte("x"), 100))} {
		ct, err := EncryptSecureString(key, s)
		if err != nil {
			t.Fatal(err)
		}
		if raw, _ := base64.StdEncoding.DecodeString(ct); bytes.Contains(raw, []byte(s)) && s != "" {
			t.Errorf("ciphertext of %q holds it", s)
		}
		if got, err := DecryptSecureString(key, ct); err != nil || got != s {
			t.Errorf("round trip of %q: %q, %v", s, got, err)
		}
	}
	if _, err := DecryptSecureString(bytes.Repeat([]byte{2}, 32), mustEncrypt(t, key, "secret")); err == nil {
		t.Error("decrypted with the wrong key")
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := DecryptSecureString(key, bad); err == nil {
			t.Errorf("DecryptSecureString(%q) succeeded", bad)
		}
	}
}

func mustEncrypt(t *testing.T, key []byte, s string) string {
	t.Helper()
	ct, err := EncryptSecureString(key, s)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}
