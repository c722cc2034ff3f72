package qr

import (
	"fmt"
	"strings"
	"testing"
)

// TestAssemblerFramesMove: the frames one Assembler took can be added to
// another, which then reassembles the same message.
func TestAssemblerFramesMove(t *testing.T) {
	var b0 strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b0, "%d:%x;", i, i*7919)
	}
	text := b0.String()
	frames, err := EncodeText(KindText, text, 4)
	if err != nil || len(frames) < 3 {
		t.Fatalf("EncodeText: %d frames, %v", len(frames), err)
	}
	var a, b Assembler
	for _, f := range frames[1:] {
		if _, err := a.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	moved := a.Frames()
	if len(moved) != len(frames)-1 || moved[0].Part != 2 {
		t.Fatalf("Frames: %d frames starting at part %d, want %d from part 2", len(moved), moved[0].Part, len(frames)-1)
	}
	if _, err := b.Add(frames[0]); err != nil {
		t.Fatal(err)
	}
	for _, f := range moved {
		if _, err := b.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	m, err := b.Message()
	if err != nil || m.Text != text {
		t.Fatalf("Message: %v, text equal %v", err, m != nil && m.Text == text)
	}
}
