package courier

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Kind names what an artefact is.
type Kind string

// The two kinds of artefact that cross the gap.
const (
	KindToken Kind = "registration-token"
	KindKey   Kind = "activation-key"
)

// Title returns the kind as people say it: "registration token" or
// "activation key".
func (k Kind) Title() string {
	switch k {
	case KindToken:
		return "registration token"
	case KindKey:
		return "activation key"
	}
	return string(k)
}

// MaxSize is the largest file or paste accepted, in bytes. Real tokens and
// keys are a few KiB; a 16-node token is about 11 KiB.
const MaxSize = 1 << 20

// MaxNodes is the most hardware nodes an artefact may list: an Azure Stack
// Hub scale unit has 4 to 16 nodes (the ASDK one).
const MaxNodes = 16

// Artefact is a registration token or an activation key in canonical form,
// with its decoded fields.
type Artefact struct {
	Kind     Kind
	Text     string // canonical text: one line, ASCII, no BOM, no newline
	SHA256   string // lowercase hex SHA-256 of Text
	Encoding string // how the input was encoded (EncodingASCII, EncodingUTF16LEBOM, ...)
	// SourceSHA256 is the lowercase hex SHA-256 of the bytes as they were
	// given (what Get-FileHash shows for the original file). It equals SHA256
	// only for canonical input.
	SourceSHA256 string
	Token        *Token // decoded fields when Kind is KindToken
	Key          *Key   // decoded fields when Kind is KindKey
}

// CloudID returns the cloud ID the artefact belongs to.
func (a *Artefact) CloudID() string {
	switch {
	case a.Token != nil:
		return a.Token.CloudID
	case a.Key != nil:
		return a.Key.CloudID
	}
	return ""
}

// BillingModel returns the billing model the artefact carries.
func (a *Artefact) BillingModel() string {
	switch {
	case a.Token != nil:
		return a.Token.BillingModel
	case a.Key != nil:
		return a.Key.BillingModel
	}
	return ""
}

// Nodes returns the hardware nodes the artefact describes.
func (a *Artefact) Nodes() []Node {
	switch {
	case a.Token != nil:
		return a.Token.HardwareInfo
	case a.Key != nil:
		return a.Key.HardwareInfo
	}
	return nil
}

// Node is one hardware node of a stamp as the token and key describe it. The
// hardware fields are hashes.
type Node struct {
	Name     string   `json:"name"`
	UUID     string   `json:"uuid"`
	NumCores int      `json:"numCores"`
	BIOS     []string `json:"bios,omitempty"`
	CPU      []string `json:"cpu,omitempty"`
	Disk     []string `json:"disk,omitempty"`
	Memory   []string `json:"memory,omitempty"`
	NIC      []string `json:"nic,omitempty"`
}

// Token holds the fields of a registration token: standard base64 of UTF-8
// JSON made by the PEP's New-RegistrationToken.
type Token struct {
	BillingModel                  string `json:"billingModel"`
	ObjectID                      string `json:"objectId"`
	CloudID                       string `json:"cloudId"`
	MarketplaceSyndicationEnabled bool   `json:"marketplaceSyndicationEnabled"`
	UsageReportingEnabled         bool   `json:"usageReportingEnabled"`
	AgreementNumber               string `json:"agreementNumber,omitempty"`
	MsAssetTag                    string `json:"msAssetTag,omitempty"`
	HardwareInfo                  Nodes  `json:"hardwareInfo"`
	Issuer                        string `json:"issuer"`
	Version                       string `json:"version"`
}

// Nodes is the hardwareInfo list of a token or key. Decoding it refuses
// more than MaxNodes entries as they come, so that a hostile list of a
// quarter of a million empty entries costs no more than the bytes it takes.
type Nodes []Node

// UnmarshalJSON decodes the list, at most MaxNodes entries.
func (l *Nodes) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*l = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("hardwareInfo is not a list")
	}
	*l = (*l)[:0]
	for dec.More() {
		if len(*l) == MaxNodes {
			return errTooManyNodes
		}
		var n Node
		if err := dec.Decode(&n); err != nil {
			return err
		}
		*l = append(*l, n)
	}
	return nil
}

var errTooManyNodes = fmt.Errorf("hardwareInfo lists more than %d nodes", MaxNodes)

// Key holds the fields of an activation key: a JWS in compact serialisation
// (header.payload.signature, base64url) made by Azure's getactivationkey.
// The signature is not verified here; the stamp does that.
type Key struct {
	KeyID                         string `json:"-"` // header kid
	Algorithm                     string `json:"-"` // header alg
	SubscriptionID                string `json:"subscriptionId"`
	ResourceGroupName             string `json:"resourceGroupName"`
	RegistrationName              string `json:"registrationName"`
	CloudID                       string `json:"cloudId"`
	ObjectID                      string `json:"objectId"`
	BillingModel                  string `json:"billingModel"`
	Expires                       string `json:"expires"`
	UsageReportingEnabled         bool   `json:"usageReportingEnabled"`
	MarketplaceSyndicationEnabled bool   `json:"marketplaceSyndicationEnabled"`
	HardwareInfo                  Nodes  `json:"hardwareInfo"`
	Issuer                        string `json:"issuer"`
	Version                       string `json:"version"`
}

// Parse recognises a registration token or activation key in data, whatever
// the encoding and wrapping (see the package documentation), and returns it in
// canonical form. Input that is not an artefact yields an *InputError that
// says what is wrong and what to do. Parse never allocates much more than
// len(data); inputs larger than MaxSize are refused.
func Parse(data []byte) (*Artefact, error) {
	if len(data) > MaxSize {
		return nil, tooLargeError(int64(len(data)))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &InputError{
			Problem: "the input is empty",
			Fix:     "give the file that holds the registration token or activation key, or paste its text",
		}
	}
	text, enc, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	payload := extractPayload(text)
	if payload == "" {
		return nil, &InputError{
			Problem: "the input holds no token or key text",
			Fix:     "give the file that holds the registration token or activation key",
		}
	}
	if i := strings.IndexFunc(payload, func(r rune) bool { return !isStdBase64(r) && !isURLBase64(r) && r != '.' }); i >= 0 {
		return nil, &InputError{
			Problem: fmt.Sprintf("not a registration token or activation key: character %q at position %d is not base64", firstRune(payload[i:]), i+1),
			Fix:     "give the token or key text exactly as the stamp or Azure produced it",
		}
	}
	var a *Artefact
	if strings.Contains(payload, ".") {
		a, err = parseKey(payload)
	} else {
		a, err = parseToken(payload)
	}
	if err != nil {
		return nil, err
	}
	a.Encoding = enc
	a.SourceSHA256 = Hash(string(data))
	return a, nil
}

// Hash returns the lowercase hex SHA-256 of text, as Artefact.SHA256 holds it.
func Hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

func tooLargeError(n int64) error {
	return &InputError{
		Problem: fmt.Sprintf("the input is %s, larger than the 1 MiB an artefact can be", sizeString(n)),
		Fix:     "give the token or key file itself, not an archive, image or log",
	}
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func parseToken(s string) (*Artefact, error) {
	if i := strings.IndexFunc(s, func(r rune) bool { return !isStdBase64(r) }); i >= 0 {
		return nil, &InputError{
			Problem: fmt.Sprintf("not a registration token: character %q at position %d is not base64", firstRune(s[i:]), i+1),
			Fix:     "give the token text exactly as Get-AzsRegistrationToken wrote it",
		}
	}
	raw, err := decodeStdBase64(s)
	if err != nil {
		return nil, &InputError{
			Problem: fmt.Sprintf("the registration token is truncated or damaged: its %d base64 characters do not decode", len(s)),
			Fix:     "copy the whole token again from the file the stamp produced",
		}
	}
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		// A token is base64 of a JSON object; this is base64 of something else.
		return nil, &InputError{
			Problem: "not a registration token or activation key: the text is base64, but of no token or key",
			Fix:     "give the file that holds the registration token or activation key",
		}
	}
	if !json.Valid(raw) {
		return nil, &InputError{
			Problem: "the registration token decodes but its content is not valid JSON (truncated or altered)",
			Fix:     "copy the whole token again from the file the stamp produced",
		}
	}
	var t Token
	if err := json.Unmarshal(raw, &t); err != nil {
		if errors.Is(err, errTooManyNodes) {
			return nil, tooManyNodes("registration token")
		}
		return nil, &InputError{
			Problem: fmt.Sprintf("the registration token's JSON has an unexpected shape (%v)", err),
			Fix:     "give a token made by New-RegistrationToken on the stamp's privileged endpoint",
		}
	}
	if t.CloudID == "" {
		return nil, &InputError{
			Problem: "the text decodes to JSON without a cloudId, so it is not a registration token",
			Fix:     "give a token made by New-RegistrationToken on the stamp's privileged endpoint",
		}
	}
	if !IsGUID(t.CloudID) {
		return nil, notGUID("registration token", t.CloudID)
	}
	return &Artefact{Kind: KindToken, Text: s, SHA256: Hash(s), Token: &t}, nil
}

func parseKey(s string) (*Artefact, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, &InputError{
			Problem: fmt.Sprintf("the activation key has %d dot-separated parts, not 3 (header.payload.signature)", len(parts)),
			Fix:     "copy the whole key again from the file Get-AzsActivationKey wrote",
		}
	}
	names := [3]string{"header", "payload", "signature"}
	var dec [3][]byte
	for i, p := range parts {
		if p == "" {
			return nil, &InputError{
				Problem: fmt.Sprintf("the activation key's %s is empty", names[i]),
				Fix:     "copy the whole key again from the file Get-AzsActivationKey wrote",
			}
		}
		if j := strings.IndexFunc(p, func(r rune) bool { return !isURLBase64(r) }); j >= 0 {
			return nil, &InputError{
				Problem: fmt.Sprintf("not an activation key: character %q in its %s is not base64url", firstRune(p[j:]), names[i]),
				Fix:     "give the key text exactly as Get-AzsActivationKey wrote it",
			}
		}
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
		if err != nil {
			return nil, &InputError{
				Problem: fmt.Sprintf("the activation key's %s is truncated or damaged: it does not decode", names[i]),
				Fix:     "copy the whole key again from the file Get-AzsActivationKey wrote",
			}
		}
		dec[i] = b
	}
	var hdr struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(dec[0], &hdr); err != nil || hdr.Alg == "" {
		return nil, &InputError{
			Problem: "not an activation key: its first part is not a JWS header (JSON with alg)",
			Fix:     "give the key text exactly as Get-AzsActivationKey wrote it",
		}
	}
	if hdr.Alg != "RS256" {
		// Azure signs activation keys with RS256; "none" or another
		// algorithm is a key Azure never issued.
		return nil, &InputError{
			Problem: fmt.Sprintf("the activation key's header says alg %q, but Azure signs activation keys with RS256", hdr.Alg),
			Fix:     "do not use this key; fetch the key again from Azure (Get-AzsActivationKey or 'azs-courier activation-key')",
		}
	}
	if len(dec[2]) < minSignature {
		return nil, &InputError{
			Problem: fmt.Sprintf("the activation key's signature is %d bytes, too short for an RS256 signature of Azure (%d)", len(dec[2]), minSignature),
			Fix:     "do not use this key; fetch the key again from Azure (Get-AzsActivationKey or 'azs-courier activation-key')",
		}
	}
	var k Key
	if err := json.Unmarshal(dec[1], &k); err != nil {
		if errors.Is(err, errTooManyNodes) {
			return nil, tooManyNodes("activation key")
		}
		return nil, &InputError{
			Problem: "the activation key's payload is not valid JSON (truncated or altered)",
			Fix:     "copy the whole key again from the file Get-AzsActivationKey wrote",
		}
	}
	if k.CloudID == "" {
		return nil, &InputError{
			Problem: "the key's payload has no cloudId, so it is not an Azure Stack Hub activation key",
			Fix:     "give the key Get-AzsActivationKey or 'azs-courier activation-key' produced",
		}
	}
	if !IsGUID(k.CloudID) {
		return nil, notGUID("activation key", k.CloudID)
	}
	k.KeyID, k.Algorithm = hdr.Kid, hdr.Alg
	return &Artefact{Kind: KindKey, Text: s, SHA256: Hash(s), Key: &k}, nil
}

// minSignature is the length of an RS256 signature with the 2048-bit keys
// Azure signs activation keys with.
const minSignature = 256

func tooManyNodes(what string) error {
	return &InputError{
		Problem: fmt.Sprintf("the %s lists more than %d hardware nodes, more than an Azure Stack Hub scale unit can have", what, MaxNodes),
		Fix:     "do not use it; make it again on the stamp or fetch it again from Azure",
	}
}

func notGUID(what, id string) error {
	shown := id
	if len(shown) > 64 {
		shown = shown[:64] + "..."
	}
	return &InputError{
		Problem: fmt.Sprintf("the %s's cloudId %q is not a GUID", what, shown),
		Fix:     "do not use it; a stamp's cloud ID has the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
	}
}

// IsGUID reports whether s has the textual form of a GUID:
// 8-4-4-4-12 hexadecimal digits.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// decodeStdBase64 decodes standard base64, padded or not.
func decodeStdBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

func isStdBase64(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '='
}

func isURLBase64(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '='
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}
