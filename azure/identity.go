package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Identity is who a credential signs in as, for a status line: the account
// (a user's sign-in name, or "application <id>" for a service principal)
// and the tenant. It is read from the claims of an ARM access token, which
// is not verified here (Azure does that) and never shown or kept.
type Identity struct {
	Account string
	Tenant  string
}

// WhoAmI returns the identity of cred in cloud c. The token it needs comes
// from the credential's cache when a request has been made already.
func WhoAmI(ctx context.Context, c Cloud, cred azcore.TokenCredential) (Identity, error) {
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.Scope()}})
	if err != nil {
		return Identity{}, explain("read the signed-in account", "", err)
	}
	return identityOf(tok.Token), nil
}

// identityOf reads the claims of a JWT access token; anything unreadable
// gives an empty Identity.
func identityOf(token string) Identity {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Identity{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Identity{}
	}
	var c struct {
		UPN               string `json:"upn"`
		PreferredUsername string `json:"preferred_username"`
		UniqueName        string `json:"unique_name"`
		Email             string `json:"email"`
		AppID             string `json:"appid"`
		AzP               string `json:"azp"`
		Tid               string `json:"tid"`
		IDType            string `json:"idtyp"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return Identity{}
	}
	id := Identity{Tenant: c.Tid}
	for _, a := range []string{c.UPN, c.PreferredUsername, c.UniqueName, c.Email} {
		if a != "" {
			id.Account = a
			return id
		}
	}
	if app := c.AppID + c.AzP; app != "" {
		id.Account = "application " + firstNonEmpty(c.AppID, c.AzP)
	}
	return id
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
