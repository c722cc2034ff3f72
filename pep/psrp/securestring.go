package psrp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"unicode/utf16"
)

// The session key ([MS-PSRP] 2.2.2.3, 2.2.2.4, 2.2.5.1.24): the client
// sends an RSA public key as a Windows PUBLICKEYBLOB, the server answers
// with a 256-bit AES key encrypted to it (RSAES-PKCS1-v1_5) in a
// SIMPLEBLOB, and SecureStrings then travel as AES-256-CBC ciphertext of
// their UTF-16LE text.

// ErrSessionKey reports a session key exchange or SecureString that cannot
// be completed or decoded.
var ErrSessionKey = errors.New("psrp: session key")

// Blob headers: PUBLICKEYBLOB version 2, CALG_RSA_KEYX, "RSA1", 2048 bits;
// SIMPLEBLOB version 2, CALG_AES_256, encrypted with CALG_RSA_KEYX.
var (
	publicKeyBlobHeader  = []byte{0x06, 0x02, 0x00, 0x00, 0x00, 0xa4, 0x00, 0x00, 'R', 'S', 'A', '1'}
	sessionKeyBlobHeader = []byte{0x01, 0x02, 0x00, 0x00, 0x10, 0x66, 0x00, 0x00, 0x00, 0xa4, 0x00, 0x00}
)

// SessionKeyBits is the RSA key size of the client's key pair.
const SessionKeyBits = 2048

// PublicKeyBlob encodes pub as the PUBLICKEYBLOB of a PUBLIC_KEY message:
// the blob header, the bit length and the exponent as little-endian
// uint32, then the modulus, little-endian.
func PublicKeyBlob(pub *rsa.PublicKey) []byte {
	n := pub.N.Bytes()
	slices.Reverse(n)
	size := (pub.N.BitLen() + 7) / 8
	b := append([]byte(nil), publicKeyBlobHeader...)
	b = binary.LittleEndian.AppendUint32(b, uint32(pub.N.BitLen()))
	b = binary.LittleEndian.AppendUint32(b, uint32(pub.E))
	b = append(b, n...)
	return append(b, make([]byte, size-len(n))...) // leading zeros, now trailing
}

// ParsePublicKeyBlob decodes a PUBLICKEYBLOB, as a server does.
func ParsePublicKeyBlob(b []byte) (*rsa.PublicKey, error) {
	if len(b) < 20 || !bytes.Equal(b[:12], publicKeyBlobHeader) {
		return nil, fmt.Errorf("%w: not an RSA PUBLICKEYBLOB", ErrSessionKey)
	}
	bits := int(binary.LittleEndian.Uint32(b[12:]))
	e := binary.LittleEndian.Uint32(b[16:])
	mod := b[20:]
	if bits < 1024 || bits > 16384 || len(mod) != (bits+7)/8 || e < 3 || e > 1<<31-1 {
		return nil, fmt.Errorf("%w: PUBLICKEYBLOB of %d bits, %d modulus bytes, exponent %d", ErrSessionKey, bits, len(mod), e)
	}
	mod = slices.Clone(mod)
	slices.Reverse(mod)
	return &rsa.PublicKey{N: new(big.Int).SetBytes(mod), E: int(e)}, nil
}

// EncryptSessionKey encrypts a 32-byte AES key to pub as the SIMPLEBLOB of
// an ENCRYPTED_SESSION_KEY message, as the server sends it: the blob
// header, then the RSAES-PKCS1-v1_5 ciphertext byte-reversed
// (CryptExportKey's little-endian order).
func EncryptSessionKey(pub *rsa.PublicKey, key []byte) ([]byte, error) {
	//lint:ignore SA1019 [MS-PSRP] 2.2.2.4 prescribes RSAES-PKCS1-v1_5.
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSessionKey, err)
	}
	slices.Reverse(ct)
	return append(append([]byte(nil), sessionKeyBlobHeader...), ct...), nil
}

// DecryptSessionKey recovers the AES-256 session key from the SIMPLEBLOB
// of an ENCRYPTED_SESSION_KEY message. The client decrypts exactly one
// such message per key pair and gives up on any failure, so the padding
// check cannot serve as an oracle.
func DecryptSessionKey(priv *rsa.PrivateKey, blob []byte) ([]byte, error) {
	if len(blob) != len(sessionKeyBlobHeader)+priv.Size() || !bytes.Equal(blob[:len(sessionKeyBlobHeader)], sessionKeyBlobHeader) {
		return nil, fmt.Errorf("%w: not an AES-256 SIMPLEBLOB for this key (%d bytes)", ErrSessionKey, len(blob))
	}
	ct := slices.Clone(blob[len(sessionKeyBlobHeader):])
	slices.Reverse(ct)
	//lint:ignore SA1019 [MS-PSRP] 2.2.2.4 prescribes RSAES-PKCS1-v1_5.
	key, err := rsa.DecryptPKCS1v15(nil, priv, ct)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: the encrypted session key does not decrypt to an AES-256 key", ErrSessionKey)
	}
	return key, nil
}

// EncryptSecureString returns the content of an <SS> element for plain
// ([MS-PSRP] 2.2.5.1.24): base64 of the AES-256-CBC encryption (zero IV,
// PKCS#7 padding) of its UTF-16LE encoding under the session key.
func EncryptSecureString(key []byte, plain string) (string, error) {
	block, err := aes.NewCipher(key)
	if err != nil || len(key) != 32 {
		return "", fmt.Errorf("%w: not an AES-256 key", ErrSessionKey)
	}
	u := utf16.Encode([]rune(plain))
	pad := aes.BlockSize - (2*len(u))%aes.BlockSize
	buf := make([]byte, 2*len(u), 2*len(u)+pad)
	for i, c := range u {
		binary.LittleEndian.PutUint16(buf[2*i:], c)
	}
	buf = append(buf, bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// DecryptSecureString reverses [EncryptSecureString], as a server does.
func DecryptSecureString(key []byte, text string) (string, error) {
	block, err := aes.NewCipher(key)
	if err != nil || len(key) != 32 {
		return "", fmt.Errorf("%w: not an AES-256 key", ErrSessionKey)
	}
	ct, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", fmt.Errorf("%w: a SecureString is not AES ciphertext", ErrSessionKey)
	}
	buf := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(buf, ct)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(buf[len(buf)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) || (len(buf)-pad)%2 != 0 {
		return "", fmt.Errorf("%w: a SecureString does not decrypt with the session key", ErrSessionKey)
	}
	buf = buf[:len(buf)-pad]
	u := make([]uint16, len(buf)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(buf[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// PublicKey is the PUBLIC_KEY message ([MS-PSRP] 2.2.2.3).
type PublicKey struct{ Blob []byte }

// MessageType returns PublicKeyType.
func (PublicKey) MessageType() MessageType { return PublicKeyType }

// MarshalCLIXML encodes the key as pypsrp and PowerShell send it.
func (k PublicKey) MarshalCLIXML() []byte {
	return members(Named("PublicKey", String(base64.StdEncoding.EncodeToString(k.Blob)))).MarshalCLIXML()
}

// ParsePublicKey decodes PUBLIC_KEY data.
func ParsePublicKey(data []byte) (PublicKey, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return PublicKey{}, err
	}
	b, err := base64.StdEncoding.DecodeString(v.MemberStr("PublicKey"))
	if err != nil || len(b) == 0 {
		return PublicKey{}, fmt.Errorf("%w: PUBLIC_KEY has no base64 PublicKey", ErrCLIXML)
	}
	return PublicKey{Blob: b}, nil
}

// EncryptedSessionKey is the ENCRYPTED_SESSION_KEY message ([MS-PSRP]
// 2.2.2.4).
type EncryptedSessionKey struct{ Blob []byte }

// MessageType returns EncryptedSessionKeyType.
func (EncryptedSessionKey) MessageType() MessageType { return EncryptedSessionKeyType }

// MarshalCLIXML encodes the key.
func (k EncryptedSessionKey) MarshalCLIXML() []byte {
	return members(Named("EncryptedSessionKey", String(base64.StdEncoding.EncodeToString(k.Blob)))).MarshalCLIXML()
}

// ParseEncryptedSessionKey decodes ENCRYPTED_SESSION_KEY data.
func ParseEncryptedSessionKey(data []byte) (EncryptedSessionKey, error) {
	v, err := UnmarshalCLIXML(data)
	if err != nil {
		return EncryptedSessionKey{}, err
	}
	b, err := base64.StdEncoding.DecodeString(v.MemberStr("EncryptedSessionKey"))
	if err != nil || len(b) == 0 {
		return EncryptedSessionKey{}, fmt.Errorf("%w: ENCRYPTED_SESSION_KEY has no base64 EncryptedSessionKey", ErrCLIXML)
	}
	return EncryptedSessionKey{Blob: b}, nil
}

// PublicKeyRequest is the PUBLIC_KEY_REQUEST message ([MS-PSRP] 2.2.2.5):
// an empty string.
type PublicKeyRequest struct{}

// MessageType returns PublicKeyRequestType.
func (PublicKeyRequest) MessageType() MessageType { return PublicKeyRequestType }

// MarshalCLIXML encodes the empty string.
func (PublicKeyRequest) MarshalCLIXML() []byte { return []byte("<S></S>") }

// typePSCredential is the .NET type of a credential.
const typePSCredential = "System.Management.Automation.PSCredential"

// PSCredential returns a PSCredential object ([MS-PSRP] 2.2.3.25): the
// adapted properties UserName and Password, the latter an <SS> value
// made by [RunspacePool.SecureString].
func PSCredential(user string, password Value) Value {
	ts := typePSCredential
	return ObjValue(&Object{
		TypeNames: []string{typePSCredential, "System.Object"},
		ToString:  &ts,
		Props:     []Value{Named("UserName", String(user)), Named("Password", password)},
	})
}
