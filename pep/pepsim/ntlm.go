package pepsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

// NTLM message types and negotiate flags ([MS-NLMP] 2.2.1, 2.2.2.5).
const (
	ntlmNegotiateType    = 1
	ntlmChallengeType    = 2
	ntlmAuthenticateType = 3

	flagUnicode       = 0x00000001
	flagRequestTarget = 0x00000004
	flagSign          = 0x00000010
	flagSeal          = 0x00000020
	flagNTLM          = 0x00000200
	flagAlwaysSign    = 0x00008000
	flagTargetDomain  = 0x00010000
	flagESS           = 0x00080000 // extended session security ("NTLM2")
	flagTargetInfo    = 0x00800000
	flagVersion       = 0x02000000
	flag128           = 0x20000000
	flagKeyExch       = 0x40000000
	flag56            = 0x80000000

	// flagsOffered are the flags the simulated PEP offers; the challenge
	// carries the subset the client asked for, as Windows does.
	flagsOffered = flagUnicode | flagSign | flagSeal | flagNTLM | flagAlwaysSign |
		flagESS | flag128 | flagKeyExch | flag56
	// flagsRequired are the flags a session must have: WinRM message
	// encryption needs sealing with extended session security.
	flagsRequired = flagSign | flagSeal | flagESS
)

// AV pair ids ([MS-NLMP] 2.2.2.1).
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avFlags           = 6
	avTimestamp       = 7
	avChannelBindings = 10

	avFlagMIC = 0x2
)

var ntlmSignature = []byte("NTLMSSP\x00")

// errNTLM is wrapped by every NTLM parsing and verification failure.
var errNTLM = errors.New("pepsim: bad NTLM message")

// ntlmAcceptor is the server side of one NTLM handshake. It is bound to a
// single TCP connection, as WinRM binds its security context.
type ntlmAcceptor struct {
	user, domain, password string // the account the PEP accepts
	computer               string // NetBIOS name of the simulated ERCS VM
	now                    func() time.Time
	// bindings, when set (TLS), is the MsvAvChannelBindings value the
	// AUTHENTICATE must carry.
	bindings []byte

	negotiate       []byte // raw NEGOTIATE, kept for the MIC
	challenge       []byte // raw CHALLENGE, kept for the MIC
	serverChallenge [8]byte
	flags           uint32
}

// parseNegotiate reads the flags of a NEGOTIATE message.
func parseNegotiate(b []byte) (uint32, error) {
	if err := checkHeader(b, ntlmNegotiateType, 16); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[12:16]), nil
}

func checkHeader(b []byte, typ uint32, min int) error {
	if len(b) < min || !bytes.Equal(b[:8], ntlmSignature) {
		return fmt.Errorf("%w: too short or no NTLMSSP signature", errNTLM)
	}
	if got := binary.LittleEndian.Uint32(b[8:12]); got != typ {
		return fmt.Errorf("%w: message type %d, want %d", errNTLM, got, typ)
	}
	return nil
}

// Challenge answers a NEGOTIATE message with a CHALLENGE message carrying
// serverChallenge and a target info block with a timestamp.
func (a *ntlmAcceptor) Challenge(negotiate []byte, serverChallenge [8]byte) ([]byte, error) {
	clientFlags, err := parseNegotiate(negotiate)
	if err != nil {
		return nil, err
	}
	a.negotiate = append([]byte(nil), negotiate...)
	a.serverChallenge = serverChallenge
	// Offer what the client asked for among what we support; Unicode,
	// NTLM, target info and version are always on. A NEGOTIATE without
	// NTLMSSP_NEGOTIATE_NTLM (bodgit/ntlmssp's at its NTLMv2 levels,
	// Azure/go-ntlmssp's) is accepted, as Windows accepts it ([MS-NLMP]
	// 3.2.5.1.1 only intersects the flags).
	a.flags = clientFlags&flagsOffered | flagUnicode | flagNTLM | flagRequestTarget |
		flagTargetDomain | flagTargetInfo | flagVersion

	domain := strings.ToUpper(a.domain)
	dnsDomain := strings.ToLower(a.domain) + ".local"
	var ti bytes.Buffer
	writeAV(&ti, avNbDomainName, utf16le(domain))
	writeAV(&ti, avNbComputerName, utf16le(a.computer))
	writeAV(&ti, avDNSDomainName, utf16le(dnsDomain))
	writeAV(&ti, avDNSComputerName, utf16le(strings.ToLower(a.computer)+"."+dnsDomain))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, fileTime(a.now()))
	writeAV(&ti, avTimestamp, ts)
	writeAV(&ti, avEOL, nil)

	target := utf16le(domain)
	const headerLen = 56 // fixed fields including the version
	m := make([]byte, headerLen, headerLen+len(target)+ti.Len())
	copy(m, ntlmSignature)
	binary.LittleEndian.PutUint32(m[8:], ntlmChallengeType)
	putField(m[12:], len(target), headerLen)
	binary.LittleEndian.PutUint32(m[20:], a.flags)
	copy(m[24:32], serverChallenge[:])
	putField(m[40:], ti.Len(), headerLen+len(target))
	// Version: Windows Server 2019, build 17763, NTLM revision 15.
	copy(m[48:56], []byte{10, 0, 0x63, 0x45, 0, 0, 0, 15})
	m = append(m, target...)
	m = append(m, ti.Bytes()...)
	a.challenge = m
	return m, nil
}

// ntlmIdentity is what an accepted AUTHENTICATE message proved.
type ntlmIdentity struct {
	User, Domain string
	Session      *ntlmSession
}

// Authenticate verifies an NTLMv2 AUTHENTICATE message against the
// configured account and, on success, returns the sealing session. A wrong
// password, an unknown user and a tampered message all fail.
func (a *ntlmAcceptor) Authenticate(msg []byte) (*ntlmIdentity, error) {
	if a.challenge == nil {
		return nil, fmt.Errorf("%w: AUTHENTICATE before CHALLENGE", errNTLM)
	}
	if err := checkHeader(msg, ntlmAuthenticateType, 64); err != nil {
		return nil, err
	}
	field := func(off int) ([]byte, error) {
		n := int(binary.LittleEndian.Uint16(msg[off:]))
		at := int(binary.LittleEndian.Uint32(msg[off+4:]))
		if n == 0 {
			return nil, nil
		}
		if at < 0 || at > len(msg) || n > len(msg)-at {
			return nil, fmt.Errorf("%w: field at %d runs past the message", errNTLM, off)
		}
		return msg[at : at+n], nil
	}
	ntResp, err := field(20)
	if err != nil {
		return nil, err
	}
	domainB, err := field(28)
	if err != nil {
		return nil, err
	}
	userB, err := field(36)
	if err != nil {
		return nil, err
	}
	encKey, err := field(52)
	if err != nil {
		return nil, err
	}
	flags := binary.LittleEndian.Uint32(msg[60:64])
	if flags&flagUnicode == 0 {
		return nil, fmt.Errorf("%w: OEM strings are not supported", errNTLM)
	}
	user, domain := fromUTF16LE(userB), fromUTF16LE(domainB)
	if !strings.EqualFold(user, a.user) || (domain != "" && !strings.EqualFold(domain, a.domain)) {
		return nil, fmt.Errorf("pepsim: unknown account %s\\%s", domain, user)
	}
	if len(ntResp) <= 24 {
		return nil, fmt.Errorf("%w: NTLMv1 responses are refused", errNTLM)
	}
	if len(ntResp) < 16+28 {
		return nil, fmt.Errorf("%w: NTLMv2 response too short", errNTLM)
	}
	proof, temp := ntResp[:16], ntResp[16:]
	key := ntowfV2(a.password, user, domain)
	want := hmacMD5(key, a.serverChallenge[:], temp)
	if subtle.ConstantTimeCompare(proof, want) != 1 {
		return nil, fmt.Errorf("pepsim: wrong password for %s\\%s", domain, user)
	}
	sessionBaseKey := hmacMD5(key, proof)
	exported := sessionBaseKey // NTLMv2: KeyExchangeKey = SessionBaseKey
	if flags&flagKeyExch != 0 {
		if len(encKey) != 16 {
			return nil, fmt.Errorf("%w: encrypted session key is %d bytes, want 16", errNTLM, len(encKey))
		}
		c, _ := rc4.NewCipher(sessionBaseKey)
		exported = make([]byte, 16)
		c.XORKeyStream(exported, encKey)
	}
	if a.bindings != nil {
		got, _ := avValue(temp, avChannelBindings)
		if !hmac.Equal(got, a.bindings) {
			return nil, fmt.Errorf("%w: got %x, want %x", errChannelBindings, got, a.bindings)
		}
	}
	if micRequired(temp) {
		if len(msg) < 88 {
			return nil, fmt.Errorf("%w: MIC announced but missing", errNTLM)
		}
		zeroed := append([]byte(nil), msg...)
		clear(zeroed[72:88])
		mic := hmacMD5(exported, a.negotiate, a.challenge, zeroed)
		if !hmac.Equal(mic, msg[72:88]) {
			return nil, fmt.Errorf("%w: MIC does not match", errNTLM)
		}
	}
	if flags&flagsRequired != flagsRequired {
		return nil, fmt.Errorf("%w: client did not negotiate sign, seal and extended session security (flags %#08x)", errNTLM, flags)
	}
	return &ntlmIdentity{User: user, Domain: domain, Session: newNTLMSession(flags, exported)}, nil
}

// micRequired reports whether the client's NTLMv2 blob (temp) carries
// MsvAvFlags with the MIC bit.
func micRequired(temp []byte) bool {
	v, ok := avValue(temp, avFlags)
	return ok && len(v) == 4 && binary.LittleEndian.Uint32(v)&avFlagMIC != 0
}

// avValue returns the value of AV pair id in the client's NTLMv2 blob.
func avValue(temp []byte, id uint16) ([]byte, bool) {
	if len(temp) < 28 {
		return nil, false
	}
	av := temp[28:]
	for len(av) >= 4 {
		k := binary.LittleEndian.Uint16(av)
		n := int(binary.LittleEndian.Uint16(av[2:]))
		if k == avEOL || len(av) < 4+n {
			return nil, false
		}
		if k == id {
			return av[4 : 4+n], true
		}
		av = av[4+n:]
	}
	return nil, false
}

// errChannelBindings is a refused AUTHENTICATE over TLS: the channel
// bindings are missing or do not match the listener's certificate, as a
// WinRM listener with CbtHardeningLevel=Strict refuses it.
var errChannelBindings = errors.New("pepsim: NTLM channel bindings missing or wrong (CbtHardeningLevel=Strict)")

// channelBindingHash returns the MsvAvChannelBindings a client must send
// to a TLS listener serving the certificate certDER: the MD5 of the RFC
// 2744 gss_channel_bindings_struct (no initiator or acceptor address)
// whose application data is RFC 5929's "tls-server-end-point:" and the
// certificate's hash (its signature hash, SHA-256 for MD5 and SHA-1).
func channelBindingHash(certDER []byte) ([]byte, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	var h hash.Hash
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = sha512.New()
	case x509.PureEd25519, x509.UnknownSignatureAlgorithm:
		return nil, fmt.Errorf("no tls-server-end-point hash for %v", cert.SignatureAlgorithm)
	default:
		h = sha256.New()
	}
	h.Write(certDER)
	app := append([]byte("tls-server-end-point:"), h.Sum(nil)...)
	var b bytes.Buffer
	b.Write(make([]byte, 16)) // initiator and acceptor address types and lengths: 0
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(app)))
	b.Write(app)
	sum := md5.Sum(b.Bytes())
	return sum[:], nil
}

// ntlmSession seals and signs messages in both directions of one
// connection ([MS-NLMP] 3.4). It is the server's view: outgoing uses the
// server-to-client keys.
type ntlmSession struct {
	flags              uint32
	sendSign, recvSign []byte
	sendSeal, recvSeal *rc4.Cipher
	sendSeq, recvSeq   uint32
}

var (
	clientSignMagic = []byte("session key to client-to-server signing key magic constant\x00")
	serverSignMagic = []byte("session key to server-to-client signing key magic constant\x00")
	clientSealMagic = []byte("session key to client-to-server sealing key magic constant\x00")
	serverSealMagic = []byte("session key to server-to-client sealing key magic constant\x00")
)

func newNTLMSession(flags uint32, exported []byte) *ntlmSession {
	sealKey := func(magic []byte) []byte {
		k := exported
		switch {
		case flags&flag128 != 0:
		case flags&flag56 != 0:
			k = k[:7]
		default:
			k = k[:5]
		}
		s := md5.Sum(append(append([]byte(nil), k...), magic...))
		return s[:]
	}
	sum := func(magic []byte) []byte {
		s := md5.Sum(append(append([]byte(nil), exported...), magic...))
		return s[:]
	}
	send, _ := rc4.NewCipher(sealKey(serverSealMagic))
	recv, _ := rc4.NewCipher(sealKey(clientSealMagic))
	return &ntlmSession{
		flags:    flags,
		sendSign: sum(serverSignMagic),
		recvSign: sum(clientSignMagic),
		sendSeal: send,
		recvSeal: recv,
	}
}

// signature computes the 16-byte NTLM signature of plain with seq, using
// (and advancing) the RC4 handle of that direction.
func (s *ntlmSession) signature(key []byte, h *rc4.Cipher, seq uint32, plain []byte) []byte {
	sig := make([]byte, 16)
	binary.LittleEndian.PutUint32(sig, 1)
	binary.LittleEndian.PutUint32(sig[12:], seq)
	sum := hmacMD5(key, sig[12:16], plain)[:8]
	if s.flags&flagKeyExch != 0 {
		h.XORKeyStream(sum, sum)
	}
	copy(sig[4:12], sum)
	return sig
}

// Seal encrypts plain for the client and returns the signature and the
// sealed bytes.
func (s *ntlmSession) Seal(plain []byte) (sig, sealed []byte) {
	sealed = make([]byte, len(plain))
	s.sendSeal.XORKeyStream(sealed, plain)
	sig = s.signature(s.sendSign, s.sendSeal, s.sendSeq, plain)
	s.sendSeq++
	return sig, sealed
}

// Unseal decrypts a message from the client and checks its signature and
// sequence number.
func (s *ntlmSession) Unseal(sig, sealed []byte) ([]byte, error) {
	if len(sig) != 16 {
		return nil, fmt.Errorf("%w: signature is %d bytes, want 16", errNTLM, len(sig))
	}
	plain := make([]byte, len(sealed))
	s.recvSeal.XORKeyStream(plain, sealed)
	want := s.signature(s.recvSign, s.recvSeal, s.recvSeq, plain)
	if !hmac.Equal(sig[4:12], want[4:12]) {
		return nil, fmt.Errorf("%w: message signature does not match", errNTLM)
	}
	if !bytes.Equal(sig[12:16], want[12:16]) {
		return nil, fmt.Errorf("%w: sequence number %d, want %d", errNTLM,
			binary.LittleEndian.Uint32(sig[12:]), s.recvSeq)
	}
	s.recvSeq++
	return plain, nil
}

func ntowfV2(password, user, domain string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(user)+domain))
}

func hmacMD5(key []byte, parts ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func writeAV(w *bytes.Buffer, id uint16, v []byte) {
	var h [4]byte
	binary.LittleEndian.PutUint16(h[:], id)
	binary.LittleEndian.PutUint16(h[2:], uint16(len(v)))
	w.Write(h[:])
	w.Write(v)
}

func putField(b []byte, n, offset int) {
	binary.LittleEndian.PutUint16(b, uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(offset))
}

// fileTime converts t to a Windows FILETIME (100 ns ticks since 1601).
func fileTime(t time.Time) uint64 {
	const epochDiff = 116444736000000000
	return uint64(t.UnixNano()/100) + epochDiff
}
