package pepsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bodgit/ntlmssp"
	"gopkg.in/yaml.v3"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

// realHandshake returns a NEGOTIATE and the AUTHENTICATE bodgit's client
// answers to our CHALLENGE, for seeds and the round-trip test.
func realHandshake(t testing.TB, password string) (a *ntlmAcceptor, negotiate, authenticate []byte) {
	t.Helper()
	nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo("CloudAdmin", password), ntlmssp.SetDomain("AZS"),
		ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		t.Fatal(err)
	}
	negotiate, err = nc.Authenticate(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a = &ntlmAcceptor{user: "CloudAdmin", domain: "AZS", password: "right", computer: "AZS-ERCS01",
		now: func() time.Time { return time.Unix(1_700_000_000, 0) }}
	ch, err := a.Challenge(negotiate, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	if err != nil {
		t.Fatal(err)
	}
	authenticate, err = nc.Authenticate(ch, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a, negotiate, authenticate
}

func TestNTLMSealRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		password string
		ok       bool
	}{{"right", true}, {"wrong", false}} {
		a, _, auth := realHandshake(t, tt.password)
		id, err := a.Authenticate(auth)
		if (err == nil) != tt.ok {
			t.Fatalf("password %q: got error %v, want ok=%v", tt.password, err, tt.ok)
		}
		if !tt.ok {
			continue
		}
		// Tampering with any byte of the proof or the MIC must fail.
		for _, off := range []int{72, len(auth) - 1} {
			bad := bytes.Clone(auth)
			bad[off] ^= 1
			if _, err := a.Authenticate(bad); err == nil {
				t.Errorf("AUTHENTICATE with byte %d flipped was accepted", off)
			}
		}
		// Seal twice and unseal in order; a replayed message fails.
		sess := id.Session
		for _, msg := range []string{"<s:Envelope/>", strings.Repeat("x", 5000)} {
			sig, sealed := sess.Seal([]byte(msg))
			if bytes.Contains(sealed, []byte(msg)) {
				t.Error("sealed bytes contain the plaintext")
			}
			if len(sig) != 16 || binary.LittleEndian.Uint32(sig) != 1 {
				t.Errorf("signature %x: want 16 bytes, version 1", sig)
			}
		}
	}
}

// FuzzNTLM feeds arbitrary NEGOTIATE and AUTHENTICATE messages to the
// acceptor: it must never panic and never accept without the password.
func FuzzNTLM(f *testing.F) {
	_, neg, auth := realHandshake(f, "right")
	f.Add(neg, auth)
	f.Add(neg, auth[:64])
	f.Add([]byte("NTLMSSP\x00\x01\x00\x00\x00"), []byte("NTLMSSP\x00\x03\x00\x00\x00"))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, negotiate, authenticate []byte) {
		a := &ntlmAcceptor{user: "CloudAdmin", domain: "AZS", password: "right", computer: "X", now: time.Now}
		if _, err := a.Challenge(negotiate, [8]byte{9, 9, 9, 9, 9, 9, 9, 9}); err != nil {
			return
		}
		// Only a proof made with the password for this challenge can
		// pass; even the seed's real proof was made for another challenge.
		if id, err := a.Authenticate(authenticate); err == nil {
			t.Fatalf("accepted a forged AUTHENTICATE (identity %+v)", id)
		}
	})
}

// FuzzParseEncrypted feeds arbitrary bodies to the multipart/encrypted
// parser: no panic, and what it accepts re-frames to a parseable body.
func FuzzParseEncrypted(f *testing.F) {
	f.Add(formatEncrypted(5, bytes.Repeat([]byte{1}, 16), []byte("hello")))
	f.Add([]byte("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=3\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\x10\x00\x00\x00AAAAAAAAAAAAAAAAabc--Encrypted Boundary--\r\n"))
	f.Add([]byte("-- Encrypted Boundary\r\nContent-Type: application/HTTP-SPNEGO-session-encrypted\r\nOriginalContent: type=x;Length=99999999999\r\n--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseEncrypted(body)
		if err != nil {
			return
		}
		again, err := parseEncrypted(formatEncrypted(len(p.Sealed), p.Signature, p.Sealed))
		if err != nil || !bytes.Equal(again.Sealed, p.Sealed) || !bytes.Equal(again.Signature, p.Signature) {
			t.Fatalf("re-framed body does not parse back: %v", err)
		}
	})
}

// maxFuzzInput bounds the inputs the request fuzzers look at: a WS-Man
// request is a few KiB; the fuzzer's time is better spent on structure
// than on megabytes of base64.
const maxFuzzInput = 16 << 10

// payloadContent matches the base64 PSRP payloads of an envelope.
var payloadContent = regexp.MustCompile(`(<(?:[A-Za-z0-9_]+:)?(?:creationXml|Arguments|Stream)\b[^>]*>)([^<]*)(</)`)

// smallSeed cuts the base64 payloads of a recorded request to their first
// 48 bytes (still valid base64): seeds of many KiB make the fuzzer spend
// its time minimising them (each new finding is minimised for up to a
// minute) instead of executing.
func smallSeed(req string) []byte {
	return payloadContent.ReplaceAllFunc([]byte(req), func(m []byte) []byte {
		parts := payloadContent.FindSubmatch(m)
		data, err := base64.StdEncoding.DecodeString(string(parts[2]))
		if err != nil || len(data) <= 48 {
			return m
		}
		return append(append(append([]byte(nil), parts[1]...), base64.StdEncoding.EncodeToString(data[:48])...), parts[3]...)
	})
}

// recordedRequests returns the requests of shared pypsrp recordings,
// rewritten for the PEP's ResourceURI.
func recordedRequests(f *testing.F, names ...string) []string {
	var out []string
	for _, name := range names {
		var rec struct {
			Messages []struct {
				Request string `yaml:"request"`
			} `yaml:"messages"`
		}
		if err := yaml.Unmarshal(testutil.ReadShared(f, "psrp", name), &rec); err != nil {
			f.Fatal(err)
		}
		for _, m := range rec.Messages {
			out = append(out, strings.NewReplacer("http://schemas.microsoft.com/powershell/JEARole", ResourceURI,
				"http://schemas.microsoft.com/powershell/Microsoft.PowerShell", ResourceURI).Replace(m.Request))
		}
	}
	return out
}

// FuzzParseRequest feeds WS-Man request envelopes to the request parser,
// seeded with every request of the shared pypsrp recordings (payloads cut
// short).
func FuzzParseRequest(f *testing.F) {
	for _, req := range recordedRequests(f, "test_psrp_with_jea_configuration.yml", "test_psrp_open_runspace.yml",
		"test_psrp_multiple_invocations.yml", "test_psrp_small_msg_size.yml", "test_psrp_with_input.yml") {
		f.Add(smallSeed(req))
	}
	f.Add([]byte("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"/>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		r, fault := parseRequest(body)
		if (r == nil) == (fault == nil) {
			t.Fatalf("got request %v and fault %v: want exactly one", r != nil, fault != nil)
		}
		if r != nil {
			_, _ = operationTimeout(r.Header.OperationTimeout)
			if r.Body.Shell != nil {
				_, _ = decodeBase64(r.Body.Shell.CreationXML)
			}
		}
	})
}

func TestOperationTimeout(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT20S", 20 * time.Second, true},
		{"PT20.000S", 20 * time.Second, true},
		{"PT0.5S", 500 * time.Millisecond, true},
		{"PT1M30S", 90 * time.Second, true},
		{"", 60 * time.Second, true},
		{"PT5H", 10 * time.Minute, true}, // capped
		{"20", 0, false},
		{"PT", 0, false},
		{"PTxS", 0, false},
		{"PT-1S", 0, false},
	}
	for _, tt := range tests {
		got, err := operationTimeout(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("operationTimeout(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestChallengeLayout(t *testing.T) {
	_, neg, _ := realHandshake(t, "right")
	a := &ntlmAcceptor{user: "CloudAdmin", domain: "AZS", password: "x", computer: "AZS-ERCS01", now: time.Now}
	ch, err := a.Challenge(neg, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	if err != nil {
		t.Fatal(err)
	}
	flags := binary.LittleEndian.Uint32(ch[20:])
	for name, f := range map[string]uint32{"SIGN": flagSign, "SEAL": flagSeal, "KEY_EXCH": flagKeyExch, "128": flag128, "NTLM2": flagESS, "TARGET_INFO": flagTargetInfo} {
		if flags&f == 0 {
			t.Errorf("CHALLENGE lacks %s (flags %#08x)", name, flags)
		}
	}
	if !bytes.Equal(ch[24:32], []byte{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("server challenge: got %x", ch[24:32])
	}
	// The target info must carry a timestamp (AV id 7), or clients fall
	// back to LMv2 responses.
	n := int(binary.LittleEndian.Uint16(ch[40:]))
	off := int(binary.LittleEndian.Uint32(ch[44:]))
	if !bytes.Contains(ch[off:off+n], []byte{7, 0, 8, 0}) {
		t.Error("target info has no MsvAvTimestamp")
	}
}

// fuzzServer is a Server that is not listening, for driving handleWSMan
// directly.
func fuzzServer() *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts: Options{User: DefaultUser, CloudID: DefaultCloudID, StampVersion: DefaultStampVersion, Nodes: 1,
			RegionName: "local", DomainFQDN: "azs.local", Now: time.Now, Rand: rand.Reader},
		domain: "AZS", user: "CloudAdmin", log: slog.New(slog.DiscardHandler),
		ctx: ctx, cancel: cancel, shells: make(map[string]*shell), url: "http://127.0.0.1:5985/wsman",
		started: time.Now(), faultsSet: make(chan struct{}),
	}
}

// shellIDPattern finds the ShellId of a recorded request.
var shellIDPattern = regexp.MustCompile(`(?:ShellId="|Name="ShellId">)([0-9A-Fa-f-]{36})`)

// bodyPattern finds the body of a recorded request.
var bodyPattern = regexp.MustCompile(`(?s)<s:Body>(.*)</s:Body>`)

// FuzzHandleWSMan feeds requests to the WS-Man and PSRP server logic below
// HTTP, NTLM and the envelope header (FuzzParseRequest covers the
// header): the fuzzer picks the action and writes the body, the harness
// puts them into a fixed header for a pool opened once with a recorded
// Create. Seeds are the action and body of every recorded request, their
// payloads cut short. Receives never wait: the request's context is
// already cancelled, so only output already queued is returned. Between
// inputs the pool's pipelines are dropped (and the pool opened again if
// the input deleted it), so every input meets the same state. It must
// never panic, and every reply must be a SOAP envelope.
func FuzzHandleWSMan(f *testing.F) {
	reqs := recordedRequests(f, "test_psrp_with_jea_configuration.yml", "test_psrp_open_runspace.yml",
		"test_psrp_multiple_invocations.yml", "test_psrp_with_input.yml")
	var create, shellID string
	for _, req := range reqs {
		if strings.Contains(req, "transfer/Create<") {
			create, shellID = req, shellIDPattern.FindStringSubmatch(req)[1]
			break
		}
	}
	actions := []string{actionCreate, actionDelete, actionCommand, actionSend, actionReceive, actionSignal}
	for _, req := range reqs {
		r, fault := parseRequest([]byte(req))
		body := bodyPattern.FindStringSubmatch(req)
		if fault != nil || body == nil {
			continue
		}
		if m := shellIDPattern.FindStringSubmatch(body[1]); m != nil {
			body[1] = strings.ReplaceAll(body[1], m[1], shellID)
		}
		f.Add(uint8(slices.Index(actions, r.Header.Action)), smallSeed(body[1]))
	}
	s := fuzzServer()
	f.Cleanup(s.cancel)
	c1, c2 := net.Pipe()
	f.Cleanup(func() { c1.Close(); c2.Close() })
	cs := &connState{conn: c1, identity: `AZS\CloudAdmin`}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	open := func(t testing.TB) {
		if status, reply, err := s.handleWSMan(done, cs, []byte(create)); err != nil || status != 200 {
			t.Fatalf("recorded Create: %d %v %.200s", status, err, reply)
		}
	}
	open(f)
	header := func(action string) string {
		return `<s:Envelope xmlns:s="` + nsSOAP + `" xmlns:wsa="` + nsAddr + `" xmlns:wsman="` + nsWSMan + `" xmlns:rsp="` + nsShell + `"><s:Header>` +
			`<wsa:Action s:mustUnderstand="true">` + action + `</wsa:Action><wsa:MessageID>uuid:00000000-0000-4000-8000-000000000001</wsa:MessageID>` +
			`<wsman:OperationTimeout>PT20S</wsman:OperationTimeout><wsman:ResourceURI s:mustUnderstand="true">` + ResourceURI + `</wsman:ResourceURI>` +
			`<wsman:OptionSet s:mustUnderstand="true"><wsman:Option MustComply="true" Name="protocolversion">2.3</wsman:Option></wsman:OptionSet>` +
			`<wsman:SelectorSet><wsman:Selector Name="ShellId">` + shellID + `</wsman:Selector></wsman:SelectorSet></s:Header><s:Body>`
	}
	headers := make([]string, len(actions))
	for i, a := range actions {
		headers[i] = header(a)
	}
	f.Fuzz(func(t *testing.T, action uint8, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		msg := append([]byte(headers[int(action)%len(headers)]), body...)
		msg = append(msg, "</s:Body></s:Envelope>"...)
		status, reply, err := s.handleWSMan(done, cs, msg)
		if err == nil && ((status != 200 && status != 500) || !bytes.HasPrefix(reply, []byte("<s:Envelope"))) {
			t.Fatalf("status %d, reply %.80q", status, reply)
		}
		// Back to one freshly opened pool with nothing running.
		s.mu.Lock()
		for id, sh := range s.shells {
			for _, p := range sh.pipes {
				if p.cancel != nil {
					p.cancel()
				}
			}
			if id != shellID {
				delete(s.shells, id)
			}
		}
		sh := s.shells[shellID]
		if sh != nil {
			sh.pipes, sh.holder, sh.waiting = map[string]*pipeline{}, nil, nil
		}
		s.invs, s.sessions = nil, nil
		s.mu.Unlock()
		if sh == nil {
			open(t)
		}
	})
}
