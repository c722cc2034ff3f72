package qr

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Message is a reassembled AGX1 message.
type Message struct {
	Kind  byte   // KindToken, KindKey or KindText
	ID    string // the message ID, checked against Text
	Parts int    // how many frames carried it
	Text  string // the original text
}

// MissingError reports a message that still lacks parts.
type MissingError struct {
	Missing []int // the part numbers still missing, ascending
	Parts   int   // n
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("qr: missing parts: %s (of %d); scan or type those parts too", joinInts(e.Missing), e.Parts)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Assembler collects the frames of one message in any order. The first frame
// fixes the message (kind, flags, n, ID); a frame of any other message is
// refused and never mixed in. Duplicates are ignored. The zero value is ready
// to use.
type Assembler struct {
	first *Frame
	parts [][]byte // by part number - 1; nil while missing
	have  int
}

// AddText parses one frame (see [ParseFrame]) and adds it.
func (a *Assembler) AddText(s string) (added bool, err error) {
	f, err := ParseFrame(s)
	if err != nil {
		return false, err
	}
	return a.Add(f)
}

// Add adds f. It returns false for a duplicate. A frame of another message
// yields an *[IntegrityError]; so does a second copy of a part whose data
// differs from the first.
func (a *Assembler) Add(f Frame) (added bool, err error) {
	if a.first == nil {
		first := f
		first.Data = nil
		a.first = &first
		a.parts = make([][]byte, f.Parts)
	}
	if !a.first.sameMessage(f) {
		return false, &IntegrityError{
			Problem: fmt.Sprintf("part %d/%d of message %s (%c%d) belongs to a different message than %s (%c%d, %d parts)",
				f.Part, f.Parts, f.ID, f.Kind, f.Flags, a.first.ID, a.first.Kind, a.first.Flags, a.first.Parts),
			Fix: "give the frames of one message at a time",
		}
	}
	if old := a.parts[f.Part-1]; old != nil {
		if !bytes.Equal(old, f.Data) {
			return false, &IntegrityError{
				Problem: fmt.Sprintf("two different copies of part %d/%d of message %s", f.Part, f.Parts, f.ID),
				Fix:     "rescan that part from its source",
			}
		}
		return false, nil
	}
	a.parts[f.Part-1] = append([]byte{}, f.Data...)
	a.have++
	return true, nil
}

// Started reports whether a frame has been accepted.
func (a *Assembler) Started() bool { return a.first != nil }

// Kind returns the message's kind letter, or 0 before the first frame.
func (a *Assembler) Kind() byte {
	if a.first == nil {
		return 0
	}
	return a.first.Kind
}

// ID returns the message ID, or "" before the first frame.
func (a *Assembler) ID() string {
	if a.first == nil {
		return ""
	}
	return a.first.ID
}

// Parts returns n, or 0 before the first frame.
func (a *Assembler) Parts() int { return len(a.parts) }

// Found returns the part numbers accepted so far, ascending.
func (a *Assembler) Found() []int { return a.list(true) }

// Missing returns the part numbers still missing, ascending.
func (a *Assembler) Missing() []int { return a.list(false) }

func (a *Assembler) list(present bool) []int {
	out := []int{}
	for i, p := range a.parts {
		if (p != nil) == present {
			out = append(out, i+1)
		}
	}
	return out
}

// Frames returns the frames accepted so far, in part order, so that they
// can be added to another Assembler.
func (a *Assembler) Frames() []Frame {
	var out []Frame
	for i, p := range a.parts {
		if p != nil {
			f := *a.first
			f.Part, f.Data = i+1, append([]byte{}, p...)
			out = append(out, f)
		}
	}
	return out
}

// Complete reports whether every part is in.
func (a *Assembler) Complete() bool { return a.first != nil && a.have == len(a.parts) }

// Message reassembles the message: it concatenates the parts, inflates them,
// undoes the transform and checks the text against the message ID. Missing
// parts yield a *[MissingError]; an ID that differs, an *[IntegrityError].
func (a *Assembler) Message() (*Message, error) {
	if a.first == nil {
		return nil, fmt.Errorf("qr: no AGX1 frames found; give images, frame files or typed frames of the message")
	}
	if !a.Complete() {
		return nil, &MissingError{Missing: a.Missing(), Parts: len(a.parts)}
	}
	stream := bytes.Join(a.parts, nil)
	corrupt := func(why string) error {
		return &IntegrityError{
			Problem: fmt.Sprintf("message id mismatch: message %s does not reassemble (%s)", a.first.ID, why),
			Fix:     "rescan the parts from their source",
		}
	}
	if a.first.Flags&FlagDeflate != 0 {
		var err error
		if stream, err = inflate(stream); err != nil {
			return nil, corrupt("inflate: " + err.Error())
		}
	}
	text, err := untransform(a.first.Flags, stream)
	if err != nil {
		return nil, corrupt(err.Error())
	}
	if got := messageID(text); got != a.first.ID {
		return nil, &IntegrityError{
			Problem: fmt.Sprintf("message id mismatch: the reassembled text has ID %s, the frames say %s", got, a.first.ID),
			Fix:     "rescan the parts from their source",
		}
	}
	return &Message{Kind: a.first.Kind, ID: a.first.ID, Parts: len(a.parts), Text: text}, nil
}
