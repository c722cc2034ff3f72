package azure

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

// strictDecode decodes data into v and fails on any field v has no place for,
// so a model that misses a field of the spec's examples fails here.
func strictDecode(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s into %T: %v", data, v, err)
	}
}

type example struct {
	Parameters struct {
		APIVersion string          `json:"api-version"`
		Token      json.RawMessage `json:"token"`
	} `json:"parameters"`
	Responses map[string]struct {
		Body json.RawMessage `json:"body"`
	} `json:"responses"`
}

func TestModelsDecodeSpecExamples(t *testing.T) {
	dir := testutil.Shared(t, "arm")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ARM examples in %s: %v", dir, err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var ex example
			if err := json.Unmarshal(data, &ex); err != nil {
				t.Fatal(err)
			}
			if ex.Parameters.APIVersion != RegistrationAPIVersion {
				t.Errorf("api-version: got %q, want %q", ex.Parameters.APIVersion, RegistrationAPIVersion)
			}
			if len(ex.Responses) == 0 {
				t.Fatal("no responses")
			}
			for status, resp := range ex.Responses {
				if len(resp.Body) == 0 {
					continue // Delete: 200/204 without body
				}
				switch name {
				case "Get.json", "Put.json":
					var r Registration
					strictDecode(t, resp.Body, &r)
					if deref(r.Location) != LocationGlobal {
						t.Errorf("%s: location: got %q, want %q", status, deref(r.Location), LocationGlobal)
					}
					if r.Properties == nil || deref(r.Properties.ObjectID) == "" || deref(r.Properties.BillingModel) == "" {
						t.Errorf("%s: properties not decoded: %+v", status, r.Properties)
					}
					info := infoOf(&r)
					if info.Name != "testregistration" || info.ResourceGroup != "azurestack" || info.SubscriptionID != "dd8597b4-8739-4467-8b10-f8679f62bfbf" {
						t.Errorf("%s: info: got %+v, want name testregistration in azurestack", status, info)
					}
					if name == "Put.json" && info.CloudID != "5bf881b2-6be7-42a1-9f47-d6fcb6737747" {
						t.Errorf("cloudId: got %q", info.CloudID)
					}
				case "List.json":
					var l RegistrationList
					strictDecode(t, resp.Body, &l)
					if len(l.Value) != 1 || deref(l.Value[0].Name) != "testregistration" {
						t.Errorf("list: got %d values, want 1 named testregistration", len(l.Value))
					}
				case "Post.json":
					var k ActivationKeyResult
					strictDecode(t, resp.Body, &k)
					if n := len(deref(k.ActivationKey)); n < 1000 {
						t.Errorf("activation key: got %d characters, want the example's 2399", n)
					}
				default:
					t.Errorf("no model check for %s: add one", name)
				}
			}
			if name == "Put.json" {
				var p RegistrationParameter
				strictDecode(t, ex.Parameters.Token, &p)
				if deref(p.Location) != LocationGlobal || p.Properties == nil || len(deref(p.Properties.RegistrationToken)) != 880 {
					t.Errorf("parameter: got %+v, want location global and the 880-character token", p)
				}
				// What we send must be what the spec's example sends.
				out, err := json.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				var a, b any
				_ = json.Unmarshal(out, &a)
				_ = json.Unmarshal(ex.Parameters.Token, &b)
				if !jsonEqual(a, b) {
					t.Errorf("re-encoded parameter differs:\n got %s\nwant %s", out, ex.Parameters.Token)
				}
			}
		})
	}
	for _, want := range []string{"Delete.json", "Get.json", "List.json", "Post.json", "Put.json"} {
		if !seen[want] {
			t.Errorf("example %s missing from %s", want, dir)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestParseActivationKeyVectors(t *testing.T) {
	for _, n := range []string{"1node", "4node", "16node"} {
		t.Run(n, func(t *testing.T) {
			key := string(testutil.ReadShared(t, "tokens", "activation-key-"+n+".txt"))
			token := string(testutil.ReadShared(t, "tokens", "registration-token-"+n+".txt"))
			c, err := ParseActivationKey(key)
			if err != nil {
				t.Fatal(err)
			}
			id, err := TokenCloudID(token)
			if err != nil {
				t.Fatal(err)
			}
			if c.CloudID != id {
				t.Errorf("key cloudId %q, token cloudId %q: want equal", c.CloudID, id)
			}
			if c.RegistrationName == "" || c.SubscriptionID == "" || c.ResourceGroupName == "" {
				t.Errorf("claims incomplete: %+v", c)
			}
		})
	}
}

func TestParseActivationKeyRejects(t *testing.T) {
	for _, tc := range []struct{ name, key string }{
		{"empty", ""},
		{"two parts", "a.b"},
		{"bad base64", "a.!!!.c"},
		{"not json", "a.bm90IGpzb24.c"},
		{"no cloudId", "a.e30.c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := ParseActivationKey(tc.key); err == nil {
				t.Errorf("ParseActivationKey(%q) = %+v, want error", tc.key, c)
			}
		})
	}
}

func FuzzParseActivationKey(f *testing.F) {
	f.Add(string(testutil.ReadShared(f, "tokens", "activation-key-1node.txt")))
	f.Add("a.e30.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, key string) {
		c, err := ParseActivationKey(key)
		if err == nil && c.CloudID == "" {
			t.Errorf("accepted a key without cloudId: %q", key)
		}
	})
}

func FuzzTokenCloudID(f *testing.F) {
	f.Add(string(testutil.ReadShared(f, "tokens", "registration-token-1node.txt")))
	f.Add("e30=")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		id, err := TokenCloudID(token)
		if err == nil && id == "" {
			t.Errorf("accepted a token without cloudId: %q", token)
		}
	})
}

func TestCloudScope(t *testing.T) {
	c, err := LookupCloud("AzureCloud")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Scope(), "https://management.core.windows.net//.default"; got != want {
		t.Errorf("scope: got %q, want %q", got, want)
	}
	for name, loc := range map[string]string{"azurecloud": "westcentralus", "AzureUSGovernment": "usgovvirginia", "AzureChinaCloud": "ChinaEast"} {
		c, err := LookupCloud(name)
		if err != nil || c.DefaultLocation != loc {
			t.Errorf("LookupCloud(%q): got %q, %v; want location %q", name, c.DefaultLocation, err, loc)
		}
	}
	if _, err := LookupCloud("AzureGermanCloud"); err == nil {
		t.Error("LookupCloud(AzureGermanCloud): want error")
	}
	if _, err := CustomCloud("http://x", "https://y", ""); err == nil {
		t.Error("CustomCloud with http ARM endpoint: want error")
	}
}

func TestParseRegistrationToken(t *testing.T) {
	c, err := ParseRegistrationToken(string(testutil.ReadShared(t, "tokens", "registration-token-1node.txt")))
	if err != nil {
		t.Fatal(err)
	}
	want := TokenClaims{CloudID: "cd613e30-d8f1-4adf-91b7-584a2265b1f5", ObjectID: "1e2feb89-414c-443c-9027-c4d1c386bbc4",
		BillingModel: "Capacity", AgreementNumber: "EA-1234567", Version: "4.0"}
	if c != want {
		t.Errorf("claims:\n got %+v\nwant %+v", c, want)
	}
	// A field of another type than expected leaves that field empty only.
	odd := base64.StdEncoding.EncodeToString([]byte(`{"cloudId":"x","version":4,"usageReportingEnabled":"yes","billingModel":"Development"}`))
	if c, err := ParseRegistrationToken(odd); err != nil || c.CloudID != "x" || c.BillingModel != "Development" || c.Version != "" {
		t.Errorf("odd types: got %+v, %v", c, err)
	}
	if _, err := ParseRegistrationToken(base64.StdEncoding.EncodeToString([]byte(`{"cloudId":7}`))); err == nil {
		t.Error("a numeric cloudId was accepted")
	}
}
