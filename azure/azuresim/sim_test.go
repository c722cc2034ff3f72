package azuresim_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/azure/azuresim"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

type client struct {
	t     *testing.T
	sim   *azuresim.Server
	http  *http.Client
	token string
}

func newClient(t *testing.T, o azuresim.Options) *client {
	t.Helper()
	sim, err := azuresim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	c := &client{t: t, sim: sim, http: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sim.CertPool()}}}}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sim.ClientID()},
		"client_secret": {sim.ClientSecret()}, "scope": {sim.Audience() + "/.default"}}
	resp, err := c.http.PostForm(sim.URL()+"/"+sim.TenantID()+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: status %d, %v", resp.StatusCode, err)
	}
	c.token = tok.AccessToken
	return c
}

// do sends an ARM request and returns the status and the decoded body.
func (c *client) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.sim.URL()+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			c.t.Fatalf("%s %s: answer is not JSON: %s", method, path, b)
		}
	}
	return resp.StatusCode, v
}

func errCode(v map[string]any) string {
	e, _ := v["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

const (
	sub  = "/subscriptions/" + azuresim.DefaultSubscriptionID
	reg  = sub + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/testregistration"
	lock = reg + "/providers/Microsoft.Authorization/locks/RegistrationResourceLock"
	v17  = "?api-version=2017-06-01"
	vLk  = "?api-version=2020-05-01"
)

func keys(v map[string]any) string {
	var k []string
	for key, val := range v {
		k = append(k, key)
		if m, ok := val.(map[string]any); ok {
			for sub := range m {
				k = append(k, key+"."+sub)
			}
		}
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

func example(t *testing.T, file, status string) map[string]any {
	var ex struct {
		Responses map[string]struct {
			Body json.RawMessage `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(testutil.ReadShared(t, "arm", file), &ex); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(ex.Responses[status].Body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// setup registers the provider and creates the resource group.
func (c *client) setup() {
	c.t.Helper()
	if st, _ := c.do("POST", sub+"/providers/Microsoft.AzureStack/register?api-version=2021-04-01", ""); st != 200 {
		c.t.Fatalf("register provider: %d", st)
	}
	if st, _ := c.do("PUT", sub+"/resourcegroups/azurestack?api-version=2021-04-01", `{"location":"westcentralus"}`); st != 201 {
		c.t.Fatalf("create resource group: %d", st)
	}
}

func putBody(t *testing.T) string {
	return `{"location":"global","properties":{"registrationToken":"` +
		strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-1node.txt"))) + `"}}`
}

// TestAnswersShapedLikeSpecExamples compares the simulator's answers with
// ../shared/testdata/arm field by field (names, not values).
func TestAnswersShapedLikeSpecExamples(t *testing.T) {
	c := newClient(t, azuresim.Options{})
	c.setup()
	st, put := c.do("PUT", reg+v17, putBody(t))
	if st != 201 || keys(put) != keys(example(t, "Put.json", "201")) {
		t.Errorf("PUT: got %d %s, want 201 %s", st, keys(put), keys(example(t, "Put.json", "201")))
	}
	if st, again := c.do("PUT", reg+v17, putBody(t)); st != 200 || again["etag"] != put["etag"] {
		t.Errorf("PUT again: got %d etag %v, want 200 and the same etag %v", st, again["etag"], put["etag"])
	}
	// Get.json's example lacks cloudId; the simulator answers as Put.json does.
	if st, get := c.do("GET", reg+v17, ""); st != 200 || keys(get) != keys(example(t, "Put.json", "200")) {
		t.Errorf("GET: got %d %s", st, keys(get))
	}
	st, list := c.do("GET", sub+"/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations"+v17, "")
	items, _ := list["value"].([]any)
	if st != 200 || len(items) != 1 {
		t.Errorf("LIST: got %d with %d items, want 200 with 1", st, len(items))
	}
	st, key := c.do("POST", reg+"/getactivationkey"+v17, "")
	if st != 200 || keys(key) != keys(example(t, "Post.json", "200")) || strings.Count(key["activationKey"].(string), ".") != 2 {
		t.Errorf("POST getactivationkey: got %d %v", st, keys(key))
	}
	if st, _ := c.do("DELETE", reg+v17, ""); st != 200 {
		t.Errorf("DELETE: got %d, want 200", st)
	}
	if st, _ := c.do("DELETE", reg+v17, ""); st != 204 {
		t.Errorf("DELETE again: got %d, want 204", st)
	}
}

// TestActivationKeyShapedLikeVectors checks that a key is a JWS RS256 the
// simulator signed, whose payload has exactly the fields of the shared
// activation-key vectors and carries the token's cloud ID.
func TestActivationKeyShapedLikeVectors(t *testing.T) {
	c := newClient(t, azuresim.Options{})
	c.setup()
	if st, _ := c.do("PUT", reg+v17, putBody(t)); st != 201 {
		t.Fatalf("PUT: %d", st)
	}
	_, v := c.do("POST", reg+"/getactivationkey"+v17, "")
	key, _ := v["activationKey"].(string)
	parts := strings.Split(key, ".")
	if len(parts) != 3 {
		t.Fatalf("key has %d parts, want 3", len(parts))
	}
	decode := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	header, payload := decode(parts[0]), decode(parts[1])
	if header["alg"] != "RS256" || header["kid"] == "" {
		t.Errorf("header: got %v, want alg RS256 and a kid", header)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(c.sim.PublicKey(), crypto.SHA256, sum[:], sig); err != nil {
		t.Errorf("signature does not verify with the simulator's key: %v", err)
	}
	vector := strings.Split(strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "activation-key-1node.txt"))), ".")
	if got, want := keys(payload), keys(decode(vector[1])); got != want {
		t.Errorf("payload fields:\n got %s\nwant %s", got, want)
	}
	if payload["cloudId"] != "cd613e30-d8f1-4adf-91b7-584a2265b1f5" || payload["registrationName"] != "testregistration" {
		t.Errorf("payload: cloudId %v, registrationName %v", payload["cloudId"], payload["registrationName"])
	}
}

func TestLockedRegistrationCannotBeDeleted(t *testing.T) {
	c := newClient(t, azuresim.Options{})
	c.setup()
	if st, _ := c.do("PUT", reg+v17, putBody(t)); st != 201 {
		t.Fatalf("PUT: %d", st)
	}
	if st, _ := c.do("PUT", lock+vLk, `{"properties":{"level":"CanNotDelete","notes":"n"}}`); st != 201 {
		t.Fatalf("lock: %d", st)
	}
	st, v := c.do("DELETE", reg+v17, "")
	if st != 409 || errCode(v) != "ScopeLocked" {
		t.Errorf("DELETE locked: got %d %s, want 409 ScopeLocked", st, errCode(v))
	}
	if st, _ := c.do("DELETE", lock+vLk, ""); st != 200 {
		t.Fatalf("unlock: %d", st)
	}
	if st, _ := c.do("DELETE", reg+v17, ""); st != 200 {
		t.Errorf("DELETE unlocked: got %d, want 200", st)
	}
}

func TestRejects(t *testing.T) {
	c := newClient(t, azuresim.Options{})
	c.setup()
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"location not global", "PUT", reg + v17, `{"location":"westus","properties":{"registrationToken":"eyJjbG91ZElkIjoiYSJ9"}}`, 400, "LocationNotAvailableForResourceType"},
		{"no location", "PUT", reg + v17, `{"properties":{"registrationToken":"eyJjbG91ZElkIjoiYSJ9"}}`, 400, "LocationRequired"},
		{"no token", "PUT", reg + v17, `{"location":"global","properties":{}}`, 400, "InvalidRegistrationToken"},
		{"malformed token", "PUT", reg + v17, `{"location":"global","properties":{"registrationToken":"not base64!"}}`, 400, "InvalidRegistrationToken"},
		{"unknown field", "PUT", reg + v17, `{"location":"global","kind":"x","properties":{"registrationToken":"eyJjbG91ZElkIjoiYSJ9"}}`, 400, "InvalidRequestContent"},
		{"no api-version", "GET", reg, "", 400, "MissingApiVersionParameter"},
		{"unknown api-version", "GET", reg + "?api-version=2015-01-01", "", 400, "NoRegisteredProviderFound"},
		{"body on getactivationkey", "POST", reg + "/getactivationkey" + v17, "{}", 400, "InvalidRequestContent"},
		{"lock on a missing registration", "PUT", lock + vLk, `{"properties":{"level":"CanNotDelete"}}`, 404, "ResourceNotFound"},
		{"unknown subscription", "GET", "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/x?api-version=2021-04-01", "", 404, "SubscriptionNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, v := c.do(tc.method, tc.path, tc.body)
			if st != tc.status || errCode(v) != tc.code {
				t.Errorf("got %d %s, want %d %s (%v)", st, errCode(v), tc.status, tc.code, v)
			}
		})
	}
}

func TestVerifiesTokens(t *testing.T) {
	c := newClient(t, azuresim.Options{})
	good := c.token
	for _, tc := range []struct{ name, token, code string }{
		{"none", "", "AuthenticationFailed"},
		{"garbage", "a.b.c", "InvalidAuthenticationToken"},
		{"tampered", good[:len(good)-4] + "AAAA", "InvalidAuthenticationToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.token = tc.token
			st, v := c.do("GET", "/subscriptions?api-version=2022-12-01", "")
			if st != 401 || errCode(v) != tc.code {
				t.Errorf("got %d %s, want 401 %s", st, errCode(v), tc.code)
			}
		})
	}
	c.token = good
	if st, _ := c.do("GET", "/subscriptions?api-version=2022-12-01", ""); st != 200 {
		t.Errorf("good token: got %d, want 200", st)
	}
	// A token for another audience is refused at the token endpoint.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.sim.ClientID()},
		"client_secret": {c.sim.ClientSecret()}, "scope": {"https://management.core.windows.net//.default"}}
	resp, err := c.http.PostForm(c.sim.URL()+"/"+c.sim.TenantID()+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("token for another audience: got %d, want 400", resp.StatusCode)
	}
}

func TestMissingProviderRegistration(t *testing.T) {
	c := newClient(t, azuresim.Options{})
	if st, v := c.do("GET", sub+"/providers/Microsoft.AzureStack/registrations?api-version=2022-06-01", ""); st != 409 || errCode(v) != "MissingSubscriptionRegistration" {
		t.Errorf("list before provider registration: got %d %s, want 409 MissingSubscriptionRegistration", st, errCode(v))
	}
}
