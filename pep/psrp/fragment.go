package psrp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// FragmentHeaderSize is the size of the fragment header that precedes every
// blob: ObjectId (8), FragmentId (8), flags (1) and BlobLength (4), big-endian.
const FragmentHeaderSize = 21

// MaxBlobSize is the largest blob [MS-PSRP] 2.2.4 allows in one fragment, and
// the fragment size the PowerShell client uses.
const MaxBlobSize = 32 << 10

// Fragment flags.
const (
	flagStart = 0x1
	flagEnd   = 0x2
)

// ErrFragment reports a malformed fragment or fragment sequence.
var ErrFragment = errors.New("psrp: malformed fragment")

// Fragment is one piece of a PSRP message as carried in creationXml,
// rsp:Arguments and rsp:Stream ([MS-PSRP] 2.2.4).
type Fragment struct {
	ObjectID   uint64 // unique per sender within a pool, > 0
	FragmentID uint64 // 0, 1, 2… within an object
	Start      bool   // first fragment of the object
	End        bool   // last fragment of the object
	Blob       []byte // part of one encoded message
}

// AppendBinary appends the wire form of f to b.
func (f Fragment) AppendBinary(b []byte) ([]byte, error) {
	if uint64(len(f.Blob)) > 1<<32-1 {
		return b, fmt.Errorf("%w: blob of %d bytes", ErrFragment, len(f.Blob))
	}
	b = binary.BigEndian.AppendUint64(b, f.ObjectID)
	b = binary.BigEndian.AppendUint64(b, f.FragmentID)
	var flags byte
	if f.Start {
		flags |= flagStart
	}
	if f.End {
		flags |= flagEnd
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint32(b, uint32(len(f.Blob)))
	return append(b, f.Blob...), nil
}

// ParseFragments splits data, the decoded content of one creationXml,
// rsp:Arguments or rsp:Stream element, into its fragments. The blobs alias
// data. It fails on a truncated header or blob, never reading past data.
func ParseFragments(data []byte) ([]Fragment, error) {
	var frags []Fragment
	for len(data) > 0 {
		if len(data) < FragmentHeaderSize {
			return nil, fmt.Errorf("%w: %d bytes left, header needs %d", ErrFragment, len(data), FragmentHeaderSize)
		}
		f := Fragment{
			ObjectID:   binary.BigEndian.Uint64(data[0:8]),
			FragmentID: binary.BigEndian.Uint64(data[8:16]),
			Start:      data[16]&flagStart != 0,
			End:        data[16]&flagEnd != 0,
		}
		n := binary.BigEndian.Uint32(data[17:21])
		data = data[FragmentHeaderSize:]
		if uint64(n) > uint64(len(data)) {
			return nil, fmt.Errorf("%w: blob length %d, only %d bytes left", ErrFragment, n, len(data))
		}
		f.Blob = data[:n:n]
		data = data[n:]
		frags = append(frags, f)
	}
	return frags, nil
}

// Fragmenter cuts encoded messages into fragments, numbering objects from 1
// for one sender. Its zero value uses blobs of [MaxBlobSize].
type Fragmenter struct {
	// BlobSize is the largest blob per fragment; 0 means MaxBlobSize.
	BlobSize int
	last     uint64
}

// NewFragmenter returns a Fragmenter whose fragments fit WS-Man envelopes of
// maxEnvelopeSize bytes, as pypsrp computes it: the base64 form of the
// fragments must fit beside the envelope skeleton.
func NewFragmenter(maxEnvelopeSize int) *Fragmenter {
	const skeleton = 1024 + 256 // a Send envelope without payload, plus margin
	blob := (maxEnvelopeSize-skeleton)/4*3 - FragmentHeaderSize
	blob = min(blob, MaxBlobSize)
	return &Fragmenter{BlobSize: max(blob, 1)}
}

// Fragment returns the fragments of one encoded message under the next
// object ID.
func (f *Fragmenter) Fragment(msg []byte) []Fragment {
	size := f.BlobSize
	if size <= 0 {
		size = MaxBlobSize
	}
	f.last++
	var frags []Fragment
	for id := uint64(0); ; id++ {
		n := min(size, len(msg))
		frags = append(frags, Fragment{ObjectID: f.last, FragmentID: id, Start: id == 0, End: n == len(msg), Blob: msg[:n:n]})
		msg = msg[n:]
		if len(msg) == 0 {
			return frags
		}
	}
}

// Encode fragments each message and returns the concatenated wire bytes of
// all fragments, ready for base64.
func (f *Fragmenter) Encode(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		for _, fr := range f.Fragment(m) {
			out, _ = fr.AppendBinary(out) // blobs are ≤ BlobSize, cannot overflow
		}
	}
	return out
}

// Defragmenter reassembles messages from fragments that may arrive across
// several WS-Man responses. Its zero value is ready to use.
type Defragmenter struct {
	// MaxMessageSize caps one reassembled message; 0 means 64 MiB.
	MaxMessageSize int
	partial        map[uint64]*partialObject
}

type partialObject struct {
	next uint64
	data []byte
}

// Add takes one fragment and returns the whole message once its last
// fragment has arrived, or nil while more are expected. Out-of-order,
// duplicate or unstarted fragments are errors.
func (d *Defragmenter) Add(f Fragment) ([]byte, error) {
	limit := d.MaxMessageSize
	if limit <= 0 {
		limit = 64 << 20
	}
	p := d.partial[f.ObjectID]
	switch {
	case f.Start && p != nil:
		return nil, fmt.Errorf("%w: object %d started twice", ErrFragment, f.ObjectID)
	case f.Start && f.FragmentID != 0:
		return nil, fmt.Errorf("%w: object %d starts with fragment %d", ErrFragment, f.ObjectID, f.FragmentID)
	case f.Start && f.End:
		return f.Blob, nil
	case f.Start:
		if d.partial == nil {
			d.partial = make(map[uint64]*partialObject)
		}
		d.partial[f.ObjectID] = &partialObject{next: 1, data: append([]byte(nil), f.Blob...)}
		return nil, nil
	case p == nil:
		return nil, fmt.Errorf("%w: fragment %d of object %d without its start", ErrFragment, f.FragmentID, f.ObjectID)
	case f.FragmentID != p.next:
		return nil, fmt.Errorf("%w: object %d: got fragment %d, want %d", ErrFragment, f.ObjectID, f.FragmentID, p.next)
	case len(p.data)+len(f.Blob) > limit:
		delete(d.partial, f.ObjectID)
		return nil, fmt.Errorf("%w: object %d exceeds %d bytes", ErrFragment, f.ObjectID, limit)
	}
	p.data = append(p.data, f.Blob...)
	p.next++
	if !f.End {
		return nil, nil
	}
	delete(d.partial, f.ObjectID)
	return p.data, nil
}

// AddData parses the fragments in data and returns every message they
// complete, in order.
func (d *Defragmenter) AddData(data []byte) ([][]byte, error) {
	frags, err := ParseFragments(data)
	if err != nil {
		return nil, err
	}
	var msgs [][]byte
	for _, f := range frags {
		m, err := d.Add(f)
		if err != nil {
			return msgs, err
		}
		if m != nil {
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

// Pending reports whether any message is partly received.
func (d *Defragmenter) Pending() bool { return len(d.partial) > 0 }
