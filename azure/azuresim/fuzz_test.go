package azuresim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

func FuzzDecodeToken(f *testing.F) {
	for _, n := range []string{"1node", "4node", "16node"} {
		f.Add(strings.TrimSpace(string(testutil.ReadShared(f, "tokens", "registration-token-"+n+".txt"))))
	}
	f.Add("")
	f.Add("e30=")
	f.Add("eyJjbG91ZElkIjoiYSJ9")
	f.Fuzz(func(t *testing.T, token string) {
		tf, err := decodeToken(token)
		if err == nil && tf.CloudID == "" {
			t.Errorf("accepted a token without cloudId: %q", token)
		}
	})
}

// FuzzRegistrationBody feeds arbitrary PUT bodies to the registration
// handler: it must answer 2xx only for a body the spec allows, and 4xx
// otherwise, never panic.
func FuzzRegistrationBody(f *testing.F) {
	tok := strings.TrimSpace(string(testutil.ReadShared(f, "tokens", "registration-token-1node.txt")))
	f.Add(`{"location":"global","properties":{"registrationToken":"` + tok + `"}}`)
	f.Add(`{"location":"Global","properties":{"registrationToken":"eyJjbG91ZElkIjoiYSJ9"}}`)
	f.Add(`{"location":"westus","properties":{}}`)
	f.Add(`{}`)
	f.Add(`[]`)
	f.Add(`{"location":"global","properties":{"registrationToken":"x"}} {}`)
	s := &Server{opts: Options{Now: testNow}}
	f.Fuzz(func(t *testing.T, body string) {
		sub := newSubState(Subscription{ID: DefaultSubscriptionID})
		g := &group{name: "azurestack", location: "westcentralus", regs: map[string]*registration{}}
		sub.groups["azurestack"] = g
		w := httptest.NewRecorder()
		s.putRegistration(w, sub, g, "r", []byte(body))
		switch {
		case w.Code == http.StatusCreated:
			if len(g.regs) != 1 || g.regs["r"].cloudID == "" {
				t.Errorf("201 for %q but no registration with a cloud ID stored", body)
			}
		case w.Code >= 400 && w.Code < 500:
			if len(g.regs) != 0 {
				t.Errorf("%d for %q but a registration was stored", w.Code, body)
			}
		default:
			t.Errorf("status %d for %q, want 201 or 4xx", w.Code, body)
		}
	})
}

func testNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
