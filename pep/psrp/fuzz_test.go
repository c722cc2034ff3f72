package psrp

import (
	"bytes"
	"testing"
)

// seedMessages adds every reassembled message of every recording.
func seedMessages(f *testing.F, add func(raw []byte, m Message)) {
	for _, file := range recordings(f) {
		for _, rm := range recordedMessages(f, file) {
			add(rm.raw, rm.msg)
		}
	}
}

func FuzzFragments(f *testing.F) {
	seedMessages(f, func(raw []byte, _ Message) {
		f.Add((&Fragmenter{BlobSize: 512}).Encode(raw))
	})
	f.Add([]byte{})
	f.Add(make([]byte, 21))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Defragmenter
		msgs, err := d.AddData(data)
		if err != nil {
			return
		}
		// What parsed must fragment and reassemble to the same messages.
		var fr Fragmenter
		var d2 Defragmenter
		again, err := d2.AddData(fr.Encode(msgs...))
		if err != nil || len(again) != len(msgs) {
			t.Fatalf("re-fragmenting %d messages: %v (%d back)", len(msgs), err, len(again))
		}
		for i := range msgs {
			if !bytes.Equal(again[i], msgs[i]) {
				t.Fatalf("message %d changed", i)
			}
		}
	})
}

func FuzzMessage(f *testing.F) {
	seedMessages(f, func(raw []byte, _ Message) { f.Add(raw) })
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		if err := m.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("marshal after unmarshal differs: %v", err)
		}
		// Typed parsers must not panic on any data.
		_, _ = ParseSessionCapability(m.Data)
		_, _ = ParseCreatePipeline(m.Data)
		_, _ = ParseRunspacePoolState(m.Data)
		_, _ = ParsePipelineState(m.Data)
		_, _ = ParseErrorRecord(m.Data)
		_, _ = ParseProgressRecord(m.Data)
		_, _ = ParseInformationRecord(m.Data)
	})
}

func FuzzCLIXML(f *testing.F) {
	seedMessages(f, func(_ []byte, m Message) { f.Add(m.Data) })
	for _, s := range []string{`<S>_x000D__x000A_</S>`, `<S>_xD801_</S>`, `<Ref RefId="9" />`, `<Obj RefId="0"><TNRef RefId="3" /></Obj>`, `<Obj><Obj><Obj /></Obj></Obj>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := UnmarshalCLIXML(data)
		if err != nil {
			return
		}
		// Encoding is stable: encode, decode, encode gives the same bytes.
		b := v.MarshalCLIXML()
		v2, err := UnmarshalCLIXML(b)
		if err != nil {
			t.Fatalf("re-decoding our own encoding: %v\n%s", err, b)
		}
		if b2 := v2.MarshalCLIXML(); !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b, b2)
		}
	})
}
