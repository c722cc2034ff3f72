package courier_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

var vectors = []struct {
	file    string
	kind    courier.Kind
	cloudID string
	nodes   int
	length  int
}{
	{"registration-token-1node.txt", courier.KindToken, "cd613e30-d8f1-4adf-91b7-584a2265b1f5", 1, 1052},
	{"registration-token-4node.txt", courier.KindToken, "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", 4, 3088},
	{"registration-token-16node.txt", courier.KindToken, "48f165d5-7b00-47f4-b81e-f86f5c8cc1ab", 16, 11232},
	{"activation-key-1node.txt", courier.KindKey, "cd613e30-d8f1-4adf-91b7-584a2265b1f5", 1, 2491},
	{"activation-key-4node.txt", courier.KindKey, "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", 4, 4527},
	{"activation-key-16node.txt", courier.KindKey, "48f165d5-7b00-47f4-b81e-f86f5c8cc1ab", 16, 12671},
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParseSharedVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.file, func(t *testing.T) {
			data := testutil.ReadShared(t, "tokens", v.file)
			text := strings.TrimSpace(string(data))
			a, err := courier.Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if a.Kind != v.kind {
				t.Errorf("kind: got %s, want %s", a.Kind, v.kind)
			}
			if a.CloudID() != v.cloudID {
				t.Errorf("cloud ID: got %s, want %s", a.CloudID(), v.cloudID)
			}
			if got := len(a.Nodes()); got != v.nodes {
				t.Errorf("nodes: got %d, want %d", got, v.nodes)
			}
			if len(a.Text) != v.length {
				t.Errorf("length: got %d, want %d", len(a.Text), v.length)
			}
			if a.SHA256 != sha(text) {
				t.Errorf("sha256: got %s, want %s (of the file's text)", a.SHA256, sha(text))
			}
			if a.Encoding != courier.EncodingASCII {
				t.Errorf("encoding: got %s, want ascii", a.Encoding)
			}
			switch v.kind {
			case courier.KindToken:
				if a.Token.BillingModel == "" || a.Token.Version == "" || a.Key != nil {
					t.Errorf("token fields not decoded: %+v", a.Token)
				}
			case courier.KindKey:
				k := a.Key
				if k.SubscriptionID == "" || k.ResourceGroupName == "" || k.RegistrationName == "" || k.Expires == "" || k.Algorithm != "RS256" {
					t.Errorf("key fields not decoded: %+v", k)
				}
			}
		})
	}
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var b []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	for _, u := range units {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

func wrap(s string, width int, sep string) string {
	var parts []string
	for len(s) > width {
		parts = append(parts, s[:width])
		s = s[width:]
	}
	return strings.Join(append(parts, s), sep)
}

// variants returns the forms people bring the same artefact text in, made
// from one good vector (as archive/zip's tests make corrupt variants).
func variants(text string) []struct {
	name, enc string
	data      []byte
} {
	return []struct {
		name, enc string
		data      []byte
	}{
		{"plain", courier.EncodingASCII, []byte(text)},
		{"trailing LF", courier.EncodingASCII, []byte(text + "\n")},
		{"trailing CRLF", courier.EncodingASCII, []byte(text + "\r\n")},
		{"UTF-8 BOM", courier.EncodingUTF8BOM, append([]byte{0xEF, 0xBB, 0xBF}, text+"\r\n"...)},
		{"UTF-16LE BOM (Out-File)", courier.EncodingUTF16LEBOM, utf16Bytes(text+"\r\n", false, true)},
		{"UTF-16BE BOM", courier.EncodingUTF16BEBOM, utf16Bytes(text+"\r\n", true, true)},
		{"UTF-16LE no BOM", courier.EncodingUTF16LE, utf16Bytes(text, false, false)},
		{"UTF-16LE BOM CRLF wrapped 64", courier.EncodingUTF16LEBOM, utf16Bytes(wrap(text, 64, "\r\n")+"\r\n", false, true)},
		{"wrapped 76 LF", courier.EncodingASCII, []byte(wrap(text, 76, "\n"))},
		{"wrapped 1", courier.EncodingASCII, []byte(wrap(text, 1, "\n"))},
		{"wrapped 63 CRLF", courier.EncodingASCII, []byte(wrap(text, 63, "\r\n"))},
		{"joined with spaces (Get-Content into [string])", courier.EncodingASCII, []byte(wrap(text, 64, " "))},
		{"double quotes", courier.EncodingASCII, []byte(`"` + text + `"`)},
		{"single quotes and spaces", courier.EncodingASCII, []byte("  '" + text + "'  \n")},
		{"typographic quotes", courier.EncodingUTF8, []byte("\u201c" + text + "\u201d")},
		{"PowerShell assignment", courier.EncodingASCII, []byte(`$RegistrationToken = "` + text + `"`)},
		{"PowerShell assignment with semicolon, wrapped", courier.EncodingUTF16LEBOM, utf16Bytes("$ActivationKey='"+wrap(text, 80, "\r\n")+"';\r\n", false, true)},
		{"tabs and non-breaking spaces", courier.EncodingUTF8, []byte("\t" + wrap(text, 100, "\u00a0") + "\t")},
	}
}

func TestParseEncodingsGiveSameHash(t *testing.T) {
	for _, v := range vectors {
		text := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", v.file)))
		want := sha(text)
		for _, c := range variants(text) {
			t.Run(v.file+"/"+c.name, func(t *testing.T) {
				a, err := courier.Parse(c.data)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if a.SHA256 != want || a.Text != text {
					t.Errorf("sha256: got %s, want %s", a.SHA256, want)
				}
				if a.Encoding != c.enc {
					t.Errorf("encoding: got %s, want %s", a.Encoding, c.enc)
				}
				if a.Kind != v.kind || a.CloudID() != v.cloudID {
					t.Errorf("got %s %s, want %s %s", a.Kind, a.CloudID(), v.kind, v.cloudID)
				}
			})
		}
	}
}

func TestParseRejects(t *testing.T) {
	token := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-4node.txt")))
	key := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "activation-key-4node.txt")))
	keyParts := strings.Split(key, ".")
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*7 + i/13)
	}
	cases := []struct {
		name string
		data []byte
		want string // part of the message
	}{
		{"empty", nil, "empty"},
		{"only white space", []byte(" \r\n\t "), "empty"},
		{"truncated token (cut mid-group)", []byte(token[:len(token)-3]), "truncated or damaged"},
		{"truncated token (cut at a group)", []byte(token[:len(token)/2]), "not valid JSON"},
		{"token JSON does not parse", []byte(base64.StdEncoding.EncodeToString([]byte(`{"cloudId":"x",`))), "not valid JSON"},
		{"JSON without cloudId", []byte(base64.StdEncoding.EncodeToString([]byte(`{"billingModel":"Capacity"}`))), "without a cloudId"},
		{"JSON array", []byte(base64.StdEncoding.EncodeToString([]byte(`[1,2]`))), "of no token or key"},
		{"random base64", []byte(base64.StdEncoding.EncodeToString([]byte("Hello, world: no token here"))), "not a registration token or activation key"},
		{"cloud ID with escape sequences", []byte(base64.StdEncoding.EncodeToString([]byte(`{"cloudId":"\u001b[2J\u001b[HSHA-256 OK\r\n\u202e"}`))), "is not a GUID"},
		{"17 nodes", []byte(base64.StdEncoding.EncodeToString([]byte(`{"cloudId":"cd613e30-d8f1-4adf-91b7-584a2265b1f5","hardwareInfo":[` + strings.Repeat(`{},`, 16) + `{}]}`))), "more than 16 hardware nodes"},
		{"key alg none", []byte(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + keyParts[1] + "." + keyParts[2]), `alg "none"`},
		{"key alg HS256", []byte(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"x"}`)) + "." + keyParts[1] + "." + keyParts[2]), `alg "HS256"`},
		{"key signature too short", []byte(keyParts[0] + "." + keyParts[1] + ".AAAA"), "too short for an RS256 signature"},
		{"key with two segments", []byte(keyParts[0] + "." + keyParts[1]), "2 dot-separated parts"},
		{"key with four segments", []byte(key + ".AAAA"), "4 dot-separated parts"},
		{"key with empty signature", []byte(keyParts[0] + "." + keyParts[1] + "."), "signature is empty"},
		{"key payload truncated", []byte(keyParts[0] + "." + keyParts[1][:len(keyParts[1])/2] + "." + keyParts[2]), "payload"},
		{"key header not JSON", []byte("bm90IGpzb24." + keyParts[1] + "." + keyParts[2]), "header"},
		{"binary junk", junk, "binary data"},
		{"PNG header", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "binary data"},
		{"prose", []byte("Hello, please find the token attached."), "not base64"},
		{"odd UTF-16", append([]byte{0xFF, 0xFE}, utf16Bytes(token, false, false)[:101]...), "odd number of bytes"},
		{"too large", bytes.Repeat([]byte("A"), courier.MaxSize+1), "larger than the 1 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := courier.Parse(c.data)
			if err == nil {
				t.Fatalf("Parse accepted it as %s", a.Kind)
			}
			if !errors.Is(err, courier.ErrNotArtefact) {
				t.Errorf("error %v does not match ErrNotArtefact", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if strings.ContainsAny(err.Error(), "\r\n") || !strings.Contains(err.Error(), ";") {
				t.Errorf("error %q is not one line with a fix", err)
			}
			if strings.ContainsAny(err.Error(), "\x1b\u202e") {
				t.Errorf("error %q shows control characters raw", err)
			}
		})
	}
}

func TestReadFileRefusesLargeFileBeforeReading(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.txt")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 50 MB file: refusing it must not need reading it.
	if err := f.Truncate(50 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, _, err = courier.ReadFile(p)
	if err == nil || !strings.Contains(err.Error(), "50 MiB") {
		t.Fatalf("got %v, want a refusal naming 50 MiB", err)
	}
}

func TestReadFileMissing(t *testing.T) {
	_, _, err := courier.ReadFile(filepath.Join(t.TempDir(), "nope.txt"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v, want 'does not exist'", err)
	}
}

func ExampleParse() {
	// A registration token as Windows PowerShell's Out-File leaves it would be
	// UTF-16LE with a BOM; here, a quoted paste wrapped over two lines.
	json := `{"billingModel":"Development","cloudId":"69464895-3a1a-450a-9824-4b7608d9203f","hardwareInfo":[{"name":"N1"}],"version":"4.0"}`
	tok := base64.StdEncoding.EncodeToString([]byte(json))
	a, err := courier.Parse([]byte(`"` + tok[:40] + "\r\n" + tok[40:] + `"`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Kind, a.CloudID(), a.BillingModel(), len(a.Nodes()))
	// Output: registration-token 69464895-3a1a-450a-9824-4b7608d9203f Development 1
}
