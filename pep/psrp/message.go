package psrp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MessageHeaderSize is the size of the message header: destination (4),
// type (4), RPID (16) and PID (16).
const MessageHeaderSize = 40

// ErrMessage reports a malformed PSRP message.
var ErrMessage = errors.New("psrp: malformed message")

// bom is the UTF-8 byte order mark that starts every server message's data.
var bom = []byte{0xEF, 0xBB, 0xBF}

// GUID is a 128-bit identifier in RFC 4122 (textual) byte order.
type GUID [16]byte

// NewGUID returns a random version-4 GUID.
func NewGUID() GUID {
	var g GUID
	_, _ = rand.Read(g[:]) // crypto/rand.Read never fails
	g[6] = g[6]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g
}

// ParseGUID parses the textual form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
// with or without braces or a "uuid:" prefix, in either case.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	t := strings.TrimPrefix(strings.TrimPrefix(s, "uuid:"), "{")
	t = strings.TrimSuffix(t, "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, fmt.Errorf("psrp: not a GUID: %q", s)
	}
	h := t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:]
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return g, fmt.Errorf("psrp: not a GUID: %q", s)
	}
	return g, nil
}

// String returns the upper-case textual form, as WinRS ShellId and CommandId
// attributes carry it.
func (g GUID) String() string {
	h := strings.ToUpper(hex.EncodeToString(g[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// IsZero reports whether g is the nil GUID.
func (g GUID) IsZero() bool { return g == GUID{} }

// dotNet returns g in .NET Guid.ToByteArray order: the first three fields
// little-endian, the last eight bytes as they are. The mapping is its own
// inverse.
func (g GUID) dotNet() [16]byte {
	b := g
	b[0], b[1], b[2], b[3] = g[3], g[2], g[1], g[0]
	b[4], b[5] = g[5], g[4]
	b[6], b[7] = g[7], g[6]
	return b
}

// Swapped returns g with its first three fields byte-reversed. A message
// recorded with RFC byte order (pypsrp before 2019) decodes to the swapped
// form of the real ID.
func (g GUID) Swapped() GUID { return GUID(g.dotNet()) }

// Destination says who a message is for.
type Destination uint32

// Destinations ([MS-PSRP] 2.2.1).
const (
	DestinationClient Destination = 1
	DestinationServer Destination = 2
)

// String returns "client" or "server".
func (d Destination) String() string {
	switch d {
	case DestinationClient:
		return "client"
	case DestinationServer:
		return "server"
	}
	return fmt.Sprintf("Destination(%d)", uint32(d))
}

// MessageType identifies a PSRP message ([MS-PSRP] 2.2.1).
type MessageType uint32

// Message types.
const (
	SessionCapabilityType        MessageType = 0x00010002
	InitRunspacePoolType         MessageType = 0x00010004
	PublicKeyType                MessageType = 0x00010005
	EncryptedSessionKeyType      MessageType = 0x00010006
	PublicKeyRequestType         MessageType = 0x00010007
	ConnectRunspacePoolType      MessageType = 0x00010008
	RunspacePoolInitDataType     MessageType = 0x0002100B
	ResetRunspaceStateType       MessageType = 0x0002100C
	SetMaxRunspacesType          MessageType = 0x00021002
	SetMinRunspacesType          MessageType = 0x00021003
	RunspaceAvailabilityType     MessageType = 0x00021004
	RunspacePoolStateType        MessageType = 0x00021005
	CreatePipelineType           MessageType = 0x00021006
	GetAvailableRunspacesType    MessageType = 0x00021007
	UserEventType                MessageType = 0x00021008
	ApplicationPrivateDataType   MessageType = 0x00021009
	GetCommandMetadataType       MessageType = 0x0002100A
	RunspacePoolHostCallType     MessageType = 0x00021100
	RunspacePoolHostResponseType MessageType = 0x00021101
	PipelineInputType            MessageType = 0x00041002
	EndOfPipelineInputType       MessageType = 0x00041003
	PipelineOutputType           MessageType = 0x00041004
	ErrorRecordType              MessageType = 0x00041005
	PipelineStateType            MessageType = 0x00041006
	DebugRecordType              MessageType = 0x00041007
	VerboseRecordType            MessageType = 0x00041008
	WarningRecordType            MessageType = 0x00041009
	ProgressRecordType           MessageType = 0x00041010
	InformationRecordType        MessageType = 0x00041011
	PipelineHostCallType         MessageType = 0x00041100
	PipelineHostResponseType     MessageType = 0x00041101
)

var messageTypeNames = map[MessageType]string{
	SessionCapabilityType:        "SESSION_CAPABILITY",
	InitRunspacePoolType:         "INIT_RUNSPACEPOOL",
	PublicKeyType:                "PUBLIC_KEY",
	EncryptedSessionKeyType:      "ENCRYPTED_SESSION_KEY",
	PublicKeyRequestType:         "PUBLIC_KEY_REQUEST",
	ConnectRunspacePoolType:      "CONNECT_RUNSPACEPOOL",
	RunspacePoolInitDataType:     "RUNSPACEPOOL_INIT_DATA",
	ResetRunspaceStateType:       "RESET_RUNSPACE_STATE",
	SetMaxRunspacesType:          "SET_MAX_RUNSPACES",
	SetMinRunspacesType:          "SET_MIN_RUNSPACES",
	RunspaceAvailabilityType:     "RUNSPACE_AVAILABILITY",
	RunspacePoolStateType:        "RUNSPACEPOOL_STATE",
	CreatePipelineType:           "CREATE_PIPELINE",
	GetAvailableRunspacesType:    "GET_AVAILABLE_RUNSPACES",
	UserEventType:                "USER_EVENT",
	ApplicationPrivateDataType:   "APPLICATION_PRIVATE_DATA",
	GetCommandMetadataType:       "GET_COMMAND_METADATA",
	RunspacePoolHostCallType:     "RUNSPACEPOOL_HOST_CALL",
	RunspacePoolHostResponseType: "RUNSPACEPOOL_HOST_RESPONSE",
	PipelineInputType:            "PIPELINE_INPUT",
	EndOfPipelineInputType:       "END_OF_PIPELINE_INPUT",
	PipelineOutputType:           "PIPELINE_OUTPUT",
	ErrorRecordType:              "ERROR_RECORD",
	PipelineStateType:            "PIPELINE_STATE",
	DebugRecordType:              "DEBUG_RECORD",
	VerboseRecordType:            "VERBOSE_RECORD",
	WarningRecordType:            "WARNING_RECORD",
	ProgressRecordType:           "PROGRESS_RECORD",
	InformationRecordType:        "INFORMATION_RECORD",
	PipelineHostCallType:         "PIPELINE_HOST_CALL",
	PipelineHostResponseType:     "PIPELINE_HOST_RESPONSE",
}

// String returns the [MS-PSRP] name, such as PIPELINE_OUTPUT, or the number
// in hex for an unknown type.
func (t MessageType) String() string {
	if n, ok := messageTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%08X", uint32(t))
}

// Message is one PSRP message: the 40-byte header and its CLIXML data.
type Message struct {
	Destination Destination
	Type        MessageType
	RPID        GUID // runspace pool ID (the WinRS ShellId)
	PID         GUID // pipeline ID (the WinRS CommandId); zero for pool messages
	// Data is the CLIXML as sent. Messages from a server begin with a UTF-8
	// byte order mark; use [Message.XML] to read it.
	Data []byte
}

// NewMessage returns a message whose data is the encoding of body, with the
// byte order mark that PowerShell puts on messages to the client.
func NewMessage(dest Destination, rpid, pid GUID, body Body) Message {
	data := body.MarshalCLIXML()
	if dest == DestinationClient && len(data) > 0 {
		data = append(append([]byte(nil), bom...), data...)
	}
	return Message{Destination: dest, Type: body.MessageType(), RPID: rpid, PID: pid, Data: data}
}

// XML returns the data without a leading byte order mark.
func (m Message) XML() []byte { return bytes.TrimPrefix(m.Data, bom) }

// MarshalBinary returns the wire form: header with the GUIDs in .NET byte
// order, then the data.
func (m Message) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, MessageHeaderSize+len(m.Data))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Destination))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Type))
	r, p := m.RPID.dotNet(), m.PID.dotNet()
	b = append(b, r[:]...)
	b = append(b, p[:]...)
	return append(b, m.Data...), nil
}

// UnmarshalBinary parses the wire form, reading the GUIDs in .NET byte order.
// Data aliases b. A recording from pypsrp before 2019 holds RFC-ordered GUIDs;
// compare with [GUID.Swapped] as well when matching IDs from such input.
func (m *Message) UnmarshalBinary(b []byte) error {
	if len(b) < MessageHeaderSize {
		return fmt.Errorf("%w: %d bytes, header needs %d", ErrMessage, len(b), MessageHeaderSize)
	}
	m.Destination = Destination(binary.LittleEndian.Uint32(b[0:4]))
	if m.Destination != DestinationClient && m.Destination != DestinationServer {
		return fmt.Errorf("%w: destination %d", ErrMessage, uint32(m.Destination))
	}
	m.Type = MessageType(binary.LittleEndian.Uint32(b[4:8]))
	m.RPID = GUID(GUID(b[8:24]).dotNet())
	m.PID = GUID(GUID(b[24:40]).dotNet())
	m.Data = b[MessageHeaderSize:]
	return nil
}

// SameID reports whether got names want in either GUID byte order.
func SameID(got, want GUID) bool { return got == want || got == want.Swapped() }
