package qr

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/internal/testutil"
	qrcode "github.com/skip2/go-qrcode"
)

type vectorCase struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Frames []string `json:"frames"`
	Text   string   `json:"text"`
	Error  string   `json:"error"`
}

type vectorFile struct {
	Valid   []vectorCase `json:"valid"`
	Invalid []vectorCase `json:"invalid"`
}

func readVectors(t testing.TB) vectorFile {
	t.Helper()
	var v vectorFile
	if err := json.Unmarshal(testutil.ReadShared(t, "qr", "vectors.json"), &v); err != nil {
		t.Fatalf("vectors.json: %v", err)
	}
	if len(v.Valid) == 0 || len(v.Invalid) == 0 {
		t.Fatalf("vectors.json: got %d valid and %d invalid cases, want some of each", len(v.Valid), len(v.Invalid))
	}
	return v
}

// assemble feeds frames to a new Assembler and returns the message or the first error.
func assemble(frames []string) (*Message, error) {
	var a Assembler
	for _, f := range frames {
		if _, err := a.AddText(f); err != nil {
			return nil, err
		}
	}
	return a.Message()
}

func TestVectors(t *testing.T) {
	v := readVectors(t)
	for _, c := range v.Valid {
		t.Run("valid/"+c.Name, func(t *testing.T) {
			m, err := assemble(c.Frames)
			if err != nil {
				t.Fatalf("got error %v, want text", err)
			}
			if m.Text != c.Text {
				t.Errorf("got text %.40q…, want %.40q…", m.Text, c.Text)
			}
			if string(m.Kind) != c.Kind {
				t.Errorf("got kind %c, want %s", m.Kind, c.Kind)
			}
		})
	}
	for _, c := range v.Invalid {
		t.Run("invalid/"+c.Name, func(t *testing.T) {
			m, err := assemble(c.Frames)
			if err == nil {
				t.Fatalf("got text %.40q, want error containing %q", m.Text, c.Error)
			}
			if !strings.Contains(err.Error(), c.Error) {
				t.Errorf("got error %q, want it to contain %q", err, c.Error)
			}
		})
	}
}

func TestVectorsErrorClasses(t *testing.T) {
	v := readVectors(t)
	want := map[string]func(error) bool{
		"checksum mismatch": func(err error) bool { return errors.Is(err, courier.ErrIntegrity) },
		"different message": func(err error) bool { return errors.Is(err, courier.ErrIntegrity) },
		"missing parts":     func(err error) bool { var m *MissingError; return errors.As(err, &m) },
		"not an AGX1 frame": func(err error) bool { return errors.Is(err, ErrNotFrame) && !errors.Is(err, courier.ErrIntegrity) },
	}
	for _, c := range v.Invalid {
		_, err := assemble(c.Frames)
		for prefix, check := range want {
			if strings.HasPrefix(c.Error, prefix) && !check(err) {
				t.Errorf("%s: error %v has the wrong class for %q", c.Name, err, prefix)
			}
		}
	}
}

// TestReencodeVectors checks that our encoder writes exactly the frames of
// the single-part vectors and the same stream for the multi-part ones.
func TestReencodeVectors(t *testing.T) {
	v := readVectors(t)
	for _, c := range v.Valid {
		if c.Name != "token-1part" && c.Name != "unpadded-base64" && c.Name != "token-3parts" && c.Name != "key-5parts" && c.Name != "plain-text" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			frames, err := EncodeText(c.Kind[0], c.Text, 40)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			for _, s := range c.Frames {
				f, err := ParseFrame(s)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, f.Data...)
				if f.ID != frames[0].ID || f.Flags != frames[0].Flags {
					t.Errorf("got ID %s flags %d, want %s %d", frames[0].ID, frames[0].Flags, f.ID, f.Flags)
				}
			}
			got := bytesOf(frames)
			if frames[0].Flags&FlagDeflate != 0 {
				// DEFLATE output differs between compressors; compare what it holds.
				if got, err = inflate(got); err != nil {
					t.Fatal(err)
				}
				if want, err = inflate(want); err != nil {
					t.Fatal(err)
				}
			} else if len(c.Frames) == 1 && frames[0].String() != c.Frames[0] {
				t.Errorf("got frame %.60q, want %.60q", frames[0].String(), c.Frames[0])
			}
			if string(got) != string(want) {
				t.Errorf("got a stream of %d bytes, want the vector's %d", len(got), len(want))
			}
		})
	}
}

func TestParseFrameErrors(t *testing.T) {
	good := Frame{Kind: KindToken, Flags: 5, Part: 2, Parts: 3, ID: "J6JJ3FEN", Data: []byte("hello")}.String()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "not an AGX1 frame"},
		{"other magic", strings.Replace(good, "AGX1", "AGX2", 1), "not an AGX1 frame"},
		{"bad kind", strings.Replace(good, ":R5:", ":X5:", 1), "not an AGX1 frame"},
		{"bad flag", strings.Replace(good, ":R5:", ":R8:", 1), "not an AGX1 frame"},
		{"leading zero", strings.Replace(good, ":2/3:", ":02/3:", 1), "not an AGX1 frame"},
		{"part zero", strings.Replace(good, ":2/3:", ":0/3:", 1), "not an AGX1 frame"},
		{"reserved i>n", strings.Replace(good, ":2/3:", ":4/3:", 1), "reserved"},
		{"n over 999", strings.Replace(good, ":2/3:", ":2/1000:", 1), "not an AGX1 frame"},
		{"short id", strings.Replace(good, "J6JJ3FEN", "J6JJ3FE", 1), "not an AGX1 frame"},
		{"U in data", good[:len(good)-8] + "U" + good[len(good)-7:], "not an AGX1 frame"},
		{"extra field", good + ":0000", "not an AGX1 frame"},
		{"changed char", strings.Replace(good, ":2/3:", ":3/3:", 1), "checksum mismatch in part 3/3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFrame(tt.in)
			if err == nil {
				t.Fatalf("got frame %v, want error containing %q", f, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := ParseFrame(good); err != nil {
		t.Errorf("good frame: got %v, want nil", err)
	}
}

func TestNormalizeTyped(t *testing.T) {
	good := Frame{Kind: KindKey, Flags: 6, Part: 1, Parts: 1, ID: "3PH19QXW", Data: []byte{0, 1, 2, 250}}.String()
	var typed strings.Builder
	for i, r := range strings.ToLower(good) {
		if i > 0 && i%5 == 0 {
			typed.WriteString(" ")
		}
		switch r {
		case '0':
			r = 'o'
		case '1':
			r = 'l'
		}
		typed.WriteRune(r)
	}
	f, err := ParseFrame(typed.String() + "\r\n")
	if err != nil {
		t.Fatalf("typed %q: %v", typed.String(), err)
	}
	if f.String() != good {
		t.Errorf("got %q, want %q", f.String(), good)
	}
}

func tokenFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testutil.Shared(t, "tokens"), "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no token files: %v", err)
	}
	return files
}

func readArtefact(t testing.TB, path string) *courier.Artefact {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := courier.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a
}

// TestEncodeFitsCap checks, with go-qrcode itself, that every frame fits the
// cap and that one part fewer would not (the split is the fewest parts).
func TestEncodeFitsCap(t *testing.T) {
	for _, path := range tokenFiles(t) {
		a := readArtefact(t, path)
		for _, cap := range []int{10, 15, 25, 40} {
			t.Run(fmt.Sprintf("%s/v%d", filepath.Base(path), cap), func(t *testing.T) {
				frames, err := Encode(a, cap)
				if err != nil {
					t.Fatal(err)
				}
				var a2 Assembler
				for _, f := range frames {
					q, err := qrcode.New(f.String(), qrcode.Medium)
					if err != nil {
						t.Fatal(err)
					}
					if q.VersionNumber > cap {
						t.Errorf("part %d/%d: got version %d, want ≤ %d", f.Part, f.Parts, q.VersionNumber, cap)
					}
					if _, err := a2.AddText(f.String()); err != nil {
						t.Fatal(err)
					}
				}
				m, err := a2.Message()
				if err != nil {
					t.Fatal(err)
				}
				if m.Text != a.Text || m.Kind != KindOf(a.Kind) {
					t.Errorf("round trip: got kind %c and %d chars, want %c and %d", m.Kind, len(m.Text), KindOf(a.Kind), len(a.Text))
				}
				if n := len(frames); n > 1 {
					per := (len(bytesOf(frames)) + n - 2) / (n - 1)
					fewer := Frame{Kind: frames[0].Kind, Flags: frames[0].Flags, Part: n - 1, Parts: n - 1, ID: frames[0].ID, Data: make([]byte, per)}
					if len(fewer.String()) <= alnumCapacityM[cap] {
						t.Errorf("%d parts would also fit: %d chars ≤ %d", n-1, len(fewer.String()), alnumCapacityM[cap])
					}
				}
			})
		}
	}
}

func bytesOf(frames []Frame) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f.Data...)
	}
	return b
}

func TestCapacityTable(t *testing.T) {
	for v := 1; v <= 40; v++ {
		c := alnumCapacityM[v]
		q, err := qrcode.New(strings.Repeat("A", c), qrcode.Medium)
		if err != nil || q.VersionNumber != v {
			t.Errorf("version %d: %d chars gave version %v (err %v), want %d", v, c, q.VersionNumber, err, v)
		}
		if v < 40 {
			if q, _ := qrcode.New(strings.Repeat("A", c+1), qrcode.Medium); q.VersionNumber != v+1 {
				t.Errorf("version %d: %d chars gave version %d, want %d", v, c+1, q.VersionNumber, v+1)
			}
		}
	}
}

func TestTransforms(t *testing.T) {
	tests := []struct {
		text  string
		flags int
	}{
		{"QUJD", TransformBase64},
		{"QUI=", TransformBase64},
		{"QUI", TransformBase64Raw},
		{"QUJ", TransformText},  // non-zero padding bits
		{"QUJ=", TransformText}, // non-canonical padding bits
		{"eyJh.eyJi.c2ln", TransformDotted},
		{"a.b", TransformText}, // "a" is not a whole base64url segment
		{"eyJh..c2ln", TransformDotted},
		{"Hello, air gap! Ünïcode ✓", TransformText},
		{"", TransformText},
	}
	for _, tt := range tests {
		flags, b := transform(tt.text)
		if flags != tt.flags {
			t.Errorf("transform(%q): got flags %d, want %d", tt.text, flags, tt.flags)
		}
		back, err := untransform(flags, b)
		if err != nil || back != tt.text {
			t.Errorf("untransform(transform(%q)) = %q, %v", tt.text, back, err)
		}
	}
}

func TestAssemblerAnyOrder(t *testing.T) {
	var text strings.Builder
	for i := range 300 {
		fmt.Fprintf(&text, "%08x", uint32(i)*2654435761)
	}
	frames, err := EncodeText(KindText, text.String(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 3 {
		t.Fatalf("got %d frames, want ≥ 3 for this test", len(frames))
	}
	var a Assembler
	for _, f := range slices.Backward(frames[1:]) {
		if added, err := a.Add(f); err != nil || !added {
			t.Fatalf("part %d: got added=%v err=%v, want true, nil", f.Part, added, err)
		}
	}
	if got := a.Missing(); !slices.Equal(got, []int{1}) {
		t.Errorf("got missing %v, want [1]", got)
	}
	var missing *MissingError
	if _, err := a.Message(); !errors.As(err, &missing) || !strings.Contains(err.Error(), "missing parts: 1 ") {
		t.Errorf("got %v, want missing parts: 1", err)
	}
	if added, err := a.Add(frames[2]); err != nil || added {
		t.Errorf("duplicate: got added=%v err=%v, want false, nil", added, err)
	}
	if _, err := a.Add(frames[0]); err != nil {
		t.Fatal(err)
	}
	m, err := a.Message()
	if err != nil || m.Text != text.String() {
		t.Errorf("got %v, want the message back", err)
	}
	other, _ := EncodeText(KindText, "another message", 10)
	if _, err := a.Add(other[0]); !errors.Is(err, courier.ErrIntegrity) || !strings.Contains(err.Error(), "different message") {
		t.Errorf("frame of another message: got %v, want an integrity error", err)
	}
	forged := frames[1]
	forged.Data = append([]byte{}, forged.Data...)
	forged.Data[0] ^= 1
	if _, err := a.Add(forged); !errors.Is(err, courier.ErrIntegrity) {
		t.Errorf("conflicting copy: got %v, want an integrity error", err)
	}
}

func TestMessageIDMismatch(t *testing.T) {
	frames, err := EncodeText(KindText, "Hello, air gap!", 10)
	if err != nil {
		t.Fatal(err)
	}
	f := frames[0]
	f.Data = append([]byte{}, f.Data...)
	f.Data[0] ^= 0x20 // a valid frame (its CRC is recomputed) carrying other text
	m, err := assemble([]string{f.String()})
	if !errors.Is(err, courier.ErrIntegrity) || !strings.Contains(err.Error(), "message id mismatch") {
		t.Errorf("got %v, %v; want a message id mismatch", m, err)
	}
}

func FuzzParseFrame(f *testing.F) {
	v := readVectors(f)
	for _, c := range append(v.Valid, v.Invalid...) {
		for _, s := range c.Frames {
			f.Add(s)
		}
	}
	f.Add("AGX1:T0:1/1:00000000::0000")
	f.Add("AGX1:R5:999/999:ZZZZZZZZ:Z:ZZZZ")
	f.Add("agx1:a6:1/2:oooooooo:l-i-o:0000")
	f.Fuzz(func(t *testing.T, s string) {
		fr, err := ParseFrame(s)
		if err != nil {
			return
		}
		again, err := ParseFrame(fr.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", fr.String(), err)
		}
		if again.String() != fr.String() || again.Part > again.Parts || again.Parts > 999 {
			t.Errorf("parse → write → parse unstable: %q then %q", fr.String(), again.String())
		}
		var a Assembler
		a.Add(fr)
		a.Message() // must not panic on any data
	})
}
