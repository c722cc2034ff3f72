package azure

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// TokenClaims are the fields of a registration token that the connected
// side reads. Other fields (hardware, issuer, …) are left alone.
type TokenClaims struct {
	CloudID                       string `json:"cloudId"`
	ObjectID                      string `json:"objectId"`
	BillingModel                  string `json:"billingModel"`
	AgreementNumber               string `json:"agreementNumber"`
	UsageReportingEnabled         bool   `json:"usageReportingEnabled"`
	MarketplaceSyndicationEnabled bool   `json:"marketplaceSyndicationEnabled"`
	Version                       string `json:"version"`
}

// ParseRegistrationToken decodes a registration token: standard base64 of
// UTF-8 JSON, the way UnRegister-AzsEnvironment decodes it. Whitespace and
// missing padding are tolerated; a token without cloudId is refused.
func ParseRegistrationToken(token string) (TokenClaims, error) {
	s := strings.Join(strings.Fields(token), "")
	s = strings.TrimRight(s, "=")
	raw, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return TokenClaims{}, fmt.Errorf("azure: registration token is not base64: %w; pass the token file made on the stamp", err)
	}
	var t TokenClaims
	// A field of an unexpected type (a version as a number, say) is left
	// empty; json.Unmarshal fills the others and reports it as a type error.
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(raw, &t); err != nil && !errors.As(err, &typeErr) {
		return TokenClaims{}, fmt.Errorf("azure: registration token is not base64 JSON: %w; pass the token file made on the stamp", err)
	}
	if t.CloudID == "" {
		return TokenClaims{}, errors.New("azure: registration token has no cloudId; pass the token file made on the stamp")
	}
	return t, nil
}

// TokenCloudID returns the cloudId of a registration token (see
// [ParseRegistrationToken]).
func TokenCloudID(token string) (string, error) {
	t, err := ParseRegistrationToken(token)
	return t.CloudID, err
}

// KeyClaims are the fields of an activation key's payload that the
// connected side checks.
type KeyClaims struct {
	SubscriptionID    string `json:"subscriptionId"`
	ResourceGroupName string `json:"resourceGroupName"`
	RegistrationName  string `json:"registrationName"`
	CloudID           string `json:"cloudId"`
	ObjectID          string `json:"objectId"`
	BillingModel      string `json:"billingModel"`
	Expires           string `json:"expires"`
}

// ParseActivationKey decodes the payload of an activation key, a JWS compact
// serialisation header.payload.signature in base64url. The signature is not
// verified: only Azure Stack Hub holds the key for that.
func ParseActivationKey(key string) (KeyClaims, error) {
	parts := strings.Split(strings.TrimSpace(key), ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return KeyClaims{}, fmt.Errorf("azure: activation key has %d dot-separated parts, want 3 (JWS header.payload.signature)", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return KeyClaims{}, fmt.Errorf("azure: activation key payload is not base64url: %w", err)
	}
	var c KeyClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return KeyClaims{}, fmt.Errorf("azure: activation key payload is not JSON: %w", err)
	}
	if c.CloudID == "" {
		return KeyClaims{}, errors.New("azure: activation key payload has no cloudId")
	}
	return c, nil
}
