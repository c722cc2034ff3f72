package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

// qrDecodeJSON is what qr decode --json prints.
type qrDecodeJSON struct {
	Kind    string `json:"kind"`
	SHA256  string `json:"sha256"`
	Parts   int    `json:"parts"`
	Found   []int  `json:"found"`
	Missing []int  `json:"missing"`
	Ignored int    `json:"ignored"`
}

// TestQRAsAUserWould encodes the 4-node activation key to a folder of codes
// and a sheet, then decodes it back from the PNGs in any order, from typed
// frames, and fails cleanly on every kind of bad input.
func TestQRAsAUserWould(t *testing.T) {
	vec := testutil.Shared(t, "tokens", "activation-key-4node.txt")
	text := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "activation-key-4node.txt")))
	sum := sha256.Sum256([]byte(text))
	wantSHA := hex.EncodeToString(sum[:])
	dir := t.TempDir()
	codes := filepath.Join(dir, "key-qr")

	r := runCLI(t, runOpts{}, "qr", "encode", vec, "--out", codes, "--sheet")
	if r.Code != 0 {
		t.Fatalf("qr encode: exit %d: %s", r.Code, r.Stderr)
	}
	pngs, _ := filepath.Glob(filepath.Join(codes, "activation-key-*-part-*-of-*.png"))
	sheets, _ := filepath.Glob(filepath.Join(codes, "activation-key-*-sheet.pdf"))
	framesTxt, err := os.ReadFile(filepath.Join(codes, "frames.txt"))
	if err != nil || len(sheets) != 1 {
		t.Fatalf("qr encode wrote %v, sheet %v, frames.txt err %v", pngs, sheets, err)
	}
	frames := strings.Fields(string(framesTxt))
	if len(pngs) < 2 || len(pngs) != len(frames) {
		t.Fatalf("got %d PNGs and %d frames, want the same number ≥ 2", len(pngs), len(frames))
	}

	// All parts, reversed, one twice.
	out := filepath.Join(dir, "activation-key.txt")
	inputs := append(slices.Clone(pngs), pngs[0])
	slices.Reverse(inputs)
	r = runCLI(t, runOpts{}, append([]string{"qr", "decode", "--out", out, "--json"}, inputs...)...)
	if r.Code != 0 {
		t.Fatalf("qr decode: exit %d: %s", r.Code, r.Stderr)
	}
	var got qrDecodeJSON
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("qr decode --json: %v\n%s", err, r.Stdout)
	}
	if got.Kind != "activation-key" || got.SHA256 != wantSHA || len(got.Found) != len(pngs) || len(got.Missing) != 0 {
		t.Errorf("got %+v, want the key (sha %s), %d parts found, none missing", got, wantSHA, len(pngs))
	}
	if b, _ := os.ReadFile(out); string(b) != text {
		t.Errorf("decoded file holds %d bytes, want the key's %d", len(b), len(text))
	}
	if _, err := os.Stat(out + ".courier.json"); err != nil {
		t.Errorf("no manifest beside the decoded key: %v", err)
	}

	// Typed from paper: lower case, groups of 5, O and l for 0 and 1.
	var typed strings.Builder
	for _, f := range frames {
		for i := 0; i < len(f); i += 5 {
			typed.WriteString(f[i:min(i+5, len(f))] + " ")
			if i%60 == 55 {
				typed.WriteString("\n")
			}
		}
		typed.WriteString("\n\n")
	}
	lower := strings.NewReplacer("0", "o", "1", "l").Replace(strings.ToLower(typed.String()))
	typedOut := filepath.Join(dir, "typed-key.txt")
	r = runCLI(t, runOpts{Stdin: lower}, "qr", "decode", "-", "--out", typedOut)
	if r.Code != 0 {
		t.Fatalf("qr decode of typed frames: exit %d: %s", r.Code, r.Stderr)
	}
	if b, _ := os.ReadFile(typedOut); string(b) != text {
		t.Errorf("typed frames gave %d bytes, want the key's %d", len(b), len(text))
	}

	// Failures: each a one-line reason, the right exit code, nothing written.
	token := testutil.Shared(t, "tokens", "registration-token-4node.txt")
	tokenCodes := filepath.Join(dir, "token-qr")
	if r := runCLI(t, runOpts{}, "qr", "encode", token, "--out", tokenCodes); r.Code != 0 {
		t.Fatalf("qr encode token: exit %d: %s", r.Code, r.Stderr)
	}
	tokenPNGs, _ := filepath.Glob(filepath.Join(tokenCodes, "*.png"))

	changed := []byte(strings.Replace(string(framesTxt), frames[0], frames[0][:30]+flip(frames[0][30])+frames[0][31:], 1))
	bad := map[string][]byte{
		"changed.txt":   changed,
		"random.png":    {0x00, 0x13, 0x37, 0xfe, 0xed, 0xfa, 0xce},
		"truncated.png": func() []byte { b, _ := os.ReadFile(pngs[0]); return b[:len(b)/2] }(),
		"huge.png":      hugePNG(20000, 20000),
		"wifi.png":      qrPNG(t, "WIFI:S:guest;T:WPA;P:secret;;"),
	}
	for name, data := range bad {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	tests := []struct {
		name   string
		inputs []string
		code   int
		wants  []string
	}{
		{"missing part", pngs[1:], 1, []string{"QR parts read, missing 1;"}},
		{"another message", append([]string{pngs[0]}, tokenPNGs...), 3, []string{"different message"}},
		{"checksum", []string{filepath.Join(dir, "changed.txt")}, 3, []string{"checksum mismatch in part 1/"}},
		{"not an image", []string{filepath.Join(dir, "random.png")}, 1, []string{"not a PNG or JPEG image"}},
		{"truncated PNG", []string{filepath.Join(dir, "truncated.png")}, 1, []string{"truncated"}},
		{"20000×20000", []string{filepath.Join(dir, "huge.png")}, 1, []string{"20000×20000"}},
		{"QR with other content", []string{filepath.Join(dir, "wifi.png")}, 1, []string{"no AGX1 frame"}},
		{"no such file", []string{filepath.Join(dir, "nope.png")}, 1, []string{"nope.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.txt")
			r := runCLI(t, runOpts{}, append([]string{"qr", "decode", "--out", out}, tt.inputs...)...)
			if r.Code != tt.code {
				t.Errorf("got exit %d, want %d (stderr %q)", r.Code, tt.code, r.Stderr)
			}
			assertOneLineError(t, r, tt.wants...)
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written after a failure", out)
			}
		})
	}

	// --json reports the missing parts too.
	r = runCLI(t, runOpts{}, append([]string{"qr", "decode", "--json", "--out", filepath.Join(dir, "x.txt")}, pngs[:1]...)...)
	var partial qrDecodeJSON
	if err := json.Unmarshal([]byte(r.Stdout), &partial); err != nil || r.Code != 1 {
		t.Fatalf("partial --json: exit %d, %v: %q", r.Code, err, r.Stdout)
	}
	if !slices.Equal(partial.Found, []int{1}) || len(partial.Missing) != len(pngs)-1 {
		t.Errorf("partial --json: got found %v missing %v, want [1] and the other %d", partial.Found, partial.Missing, len(pngs)-1)
	}

	// Usage errors.
	if r := runCLI(t, runOpts{}, "qr", "decode", pngs[0]); r.Code != 2 {
		t.Errorf("qr decode without --out: got exit %d, want 2", r.Code)
	}
	if r := runCLI(t, runOpts{}, "qr", "encode", vec, "--out", filepath.Join(dir, "v25"), "--max-version", "25", "--sheet"); r.Code != 2 {
		t.Errorf("qr encode --sheet at v25: got exit %d, want 2: %s", r.Code, r.Stderr)
	}
}

// flip returns another base32 character for c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// hugePNG returns a PNG header claiming w×h pixels, with no pixels after it.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	p := append([]byte{}, b.Bytes()[:33]...)
	put := func(off int, v uint32) {
		p[off], p[off+1], p[off+2], p[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	put(16, w)
	put(20, h)
	put(29, crc32.ChecksumIEEE(p[12:29]))
	return p
}

// qrPNG renders text as a QR code PNG, as any other QR generator would.
func qrPNG(t *testing.T, text string) []byte {
	t.Helper()
	b, err := qrcode.Encode(text, qrcode.Medium, -5)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
