package azuresim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// deviceCode is a pending device-code sign-in.
type deviceCode struct {
	userCode string
	clientID string
	expires  time.Time
	polls    int
	approved bool
}

func isAuthorityPath(p string) bool {
	return strings.Contains(p, "/oauth2/") || strings.Contains(p, "/.well-known/") || p == "/devicelogin"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// sign returns a JWS compact serialisation of claims, RS256 with the sim key.
func (s *Server) sign(claims any) (string, error) {
	h, err := json.Marshal(map[string]string{"kid": s.kid, "alg": "RS256"})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// tokenClaims are the claims of an access token the simulator issues.
type tokenClaims struct {
	Aud   string `json:"aud"`
	Iss   string `json:"iss"`
	Iat   int64  `json:"iat"`
	Nbf   int64  `json:"nbf"`
	Exp   int64  `json:"exp"`
	Tid   string `json:"tid"`
	Oid   string `json:"oid"`
	AppID string `json:"appid"`
	UPN   string `json:"upn,omitempty"`
}

// verify checks an access token's signature, audience and expiry.
func (s *Server) verify(token string) (tokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenClaims{}, errors.New("the token is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return tokenClaims{}, errors.New("the token signature is not base64url")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return tokenClaims{}, errors.New("the token signature is invalid")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return tokenClaims{}, errors.New("the token payload is not base64url")
	}
	var c tokenClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return tokenClaims{}, errors.New("the token payload is not JSON")
	}
	if strings.TrimRight(c.Aud, "/") != strings.TrimRight(s.Audience(), "/") {
		return c, fmt.Errorf("the token audience %q is not %q", c.Aud, s.Audience())
	}
	return c, nil
}

func (s *Server) issuer(tenant string) string { return s.url + "/" + tenant + "/v2.0" }

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": description,
		"timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z")})
}

func (s *Server) serveAuthority(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.URL.Path == "/devicelogin" {
		s.deviceLogin(w, r)
		return
	}
	// /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/oauth2/v2.0/{token,devicecode}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	tenant := seg[0]
	if !strings.EqualFold(tenant, s.opts.TenantID) && tenant != "organizations" && tenant != "common" {
		oauthError(w, http.StatusBadRequest, "invalid_tenant",
			"AADSTS90002: Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return
	}
	rest := strings.Join(seg[1:], "/")
	switch {
	case r.Method == http.MethodGet && rest == "v2.0/.well-known/openid-configuration":
		base := s.url + "/" + tenant
		writeJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
			"issuer":                                s.issuer(tenant),
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"tenant_region_scope":                   "NA",
		})
	case r.Method == http.MethodPost && rest == "oauth2/v2.0/devicecode":
		s.newDeviceCode(w, body)
	case r.Method == http.MethodPost && rest == "oauth2/v2.0/token":
		s.token(w, tenant, body)
	default:
		oauthError(w, http.StatusNotFound, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests or is unknown: "+r.URL.Path)
	}
}

// audience returns the resource of a "<resource>/.default" scope.
func audience(scope string) (string, bool) {
	for _, sc := range strings.Fields(scope) {
		if strings.HasSuffix(sc, "/.default") {
			return strings.TrimSuffix(sc, "/.default"), true
		}
	}
	return "", false
}

func (s *Server) token(w http.ResponseWriter, tenant string, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must be application/x-www-form-urlencoded.")
		return
	}
	if tenant == "organizations" || tenant == "common" {
		tenant = s.opts.TenantID
	}
	var oid, appID, upn string
	user := false
	switch form.Get("grant_type") {
	case "client_credentials":
		if form.Get("client_id") != s.opts.ClientID {
			oauthError(w, http.StatusBadRequest, "unauthorized_client",
				"AADSTS700016: Application with identifier '"+form.Get("client_id")+"' was not found in the directory.")
			return
		}
		if form.Get("client_secret") != s.opts.ClientSecret {
			oauthError(w, http.StatusUnauthorized, "invalid_client",
				"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
			return
		}
		oid, appID = spObjectID, s.opts.ClientID
	case "urn:ietf:params:oauth:grant-type:device_code", "device_code": // MSAL sends the short form
		code := form.Get("device_code")
		s.mu.Lock()
		dc, ok := s.devices[code]
		if ok && !dc.approved && !s.opts.DeviceCodeManual && dc.polls >= 1 {
			dc.approved = true
		}
		if ok {
			dc.polls++
		}
		s.mu.Unlock()
		switch {
		case !ok:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70000: The provided value for the 'device_code' is not valid.")
			return
		case s.opts.Now().After(dc.expires):
			oauthError(w, http.StatusBadRequest, "expired_token", "AADSTS70019: Verification code expired.")
			return
		case !dc.approved:
			oauthError(w, http.StatusBadRequest, "authorization_pending",
				"AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
			return
		}
		s.mu.Lock()
		delete(s.devices, code)
		s.mu.Unlock()
		oid, appID, upn, user = userObjectID, form.Get("client_id"), DefaultUser, true
	case "refresh_token":
		s.mu.Lock()
		who, ok := s.refresh[form.Get("refresh_token")]
		s.mu.Unlock()
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS9002313: Invalid request. The refresh token is malformed or not valid.")
			return
		}
		oid, appID, upn, user = who, form.Get("client_id"), DefaultUser, true
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type",
			"AADSTS70003: The app requested an unsupported grant type '"+form.Get("grant_type")+"'.")
		return
	}
	aud, ok := audience(form.Get("scope"))
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
		return
	}
	if strings.TrimRight(aud, "/") != strings.TrimRight(s.Audience(), "/") {
		oauthError(w, http.StatusBadRequest, "invalid_resource",
			"AADSTS500011: The resource principal named "+aud+" was not found in the tenant named "+tenant+".")
		return
	}
	now := s.opts.Now()
	exp := now.Add(s.opts.TokenLifetime)
	access, err := s.sign(tokenClaims{Aud: aud, Iss: "https://sts.azuresim.local/" + tenant + "/", Iat: now.Unix(), Nbf: now.Add(-5 * time.Minute).Unix(),
		Exp: exp.Unix(), Tid: tenant, Oid: oid, AppID: appID, UPN: upn})
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	resp := map[string]any{
		"token_type": "Bearer", "expires_in": int(s.opts.TokenLifetime.Seconds()), "ext_expires_in": int(s.opts.TokenLifetime.Seconds()),
		"access_token": access,
	}
	s.mu.Lock()
	s.issued = append(s.issued, access)
	s.mu.Unlock()
	if user {
		rt := randomHex(24)
		s.mu.Lock()
		s.refresh[rt] = oid
		s.issued = append(s.issued, rt)
		s.mu.Unlock()
		idTok, _ := json.Marshal(map[string]any{"aud": appID, "iss": s.issuer(tenant), "iat": now.Unix(), "nbf": now.Unix(),
			"exp": exp.Unix(), "tid": tenant, "oid": oid, "sub": oid, "preferred_username": upn, "name": "Stamp Operator", "ver": "2.0"})
		clientInfo, _ := json.Marshal(map[string]string{"uid": oid, "utid": tenant})
		resp["scope"] = form.Get("scope")
		resp["refresh_token"] = rt
		resp["id_token"] = b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64(idTok) + "."
		resp["client_info"] = b64(clientInfo)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

const (
	spObjectID   = "6a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	userObjectID = "0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b"
)

func (s *Server) newDeviceCode(w http.ResponseWriter, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("client_id") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
		return
	}
	if _, ok := audience(form.Get("scope")); !ok {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "AADSTS70011: The provided value for the input parameter 'scope' is not valid.")
		return
	}
	code := randomHex(32)
	user := strings.ToUpper(randomHex(4))
	s.mu.Lock()
	s.devices[code] = &deviceCode{userCode: user, clientID: form.Get("client_id"), expires: s.opts.Now().Add(15 * time.Minute)}
	s.mu.Unlock()
	verify := s.url + "/devicelogin"
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code": user, "device_code": code, "verification_uri": verify, "expires_in": 900, "interval": 1,
		"message": "To sign in, use a web browser to open the page " + verify + " and enter the code " + user + " to authenticate.",
	})
}

// deviceLogin approves a device code: GET /devicelogin?code=USERCODE.
func (s *Server) deviceLogin(w http.ResponseWriter, r *http.Request) {
	code := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("code")))
	s.mu.Lock()
	found := false
	for _, dc := range s.devices {
		if dc.userCode == code {
			dc.approved, found = true, true
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !found {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "azuresim: no pending sign-in with code %q; open %s/devicelogin?code=CODE with the code shown\n", code, s.url)
		return
	}
	fmt.Fprintf(w, "azuresim: signed in as %s; return to the application\n", DefaultUser)
}

// ApproveDeviceCode approves the pending device-code sign-in with userCode,
// as a user entering it at the verification URL would.
func (s *Server) ApproveDeviceCode(userCode string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, dc := range s.devices {
		if strings.EqualFold(dc.userCode, userCode) {
			dc.approved = true
			return true
		}
	}
	return false
}
