package azure

import (
	"encoding/base64"
	"testing"
)

func TestIdentityOf(t *testing.T) {
	jwt := func(claims string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
	}
	for _, tt := range []struct {
		token string
		want  Identity
	}{
		{jwt(`{"upn":"ops@contoso.com","tid":"t-1","appid":"a"}`), Identity{"ops@contoso.com", "t-1"}},
		{jwt(`{"preferred_username":"jane@fabrikam.com","tid":"t-2"}`), Identity{"jane@fabrikam.com", "t-2"}},
		{jwt(`{"appid":"11111111-2222","tid":"t-3"}`), Identity{"application 11111111-2222", "t-3"}},
		{"not-a-jwt", Identity{}},
		{"a.!!!.b", Identity{}},
	} {
		if got := identityOf(tt.token); got != tt.want {
			t.Errorf("identityOf(%q) = %+v, want %+v", tt.token, got, tt.want)
		}
	}
}
