package courier_test

import (
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/courier"
)

func TestParsePolicy(t *testing.T) {
	for _, tt := range []struct {
		in, err string
	}{
		{`{"minReviewers": 2, "requireTicket": true, "requireMedia": true, "requireTrustedSigner": true, "routes": ["file", "paper"]}`, ""},
		{`{}`, ""},
		{`{"requireTiket": true}`, `unknown field "requireTiket"`},
		{`{"routes": ["usb"]}`, `route "usb" is not one of file, qr-screen, paper`},
		{`{"routes": []}`, "would allow no transfer"},
		{`{"minReviewers": -1}`, "out of range"},
		{`{} {}`, "more than one"},
		{`[]`, "not a policy"},
	} {
		p, err := courier.ParsePolicy([]byte(tt.in))
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: got %v (%+v), want an error with %q", tt.in, err, p, tt.err)
		}
	}
	p, _ := courier.ParsePolicy([]byte(`{"routes": ["file"]}`))
	if !p.Allows(courier.RouteFile) || p.Allows(courier.RouteQRScreen) {
		t.Errorf("routes [file]: Allows file %v, qr-screen %v", p.Allows(courier.RouteFile), p.Allows(courier.RouteQRScreen))
	}
	if !(courier.Policy{}).Allows(courier.RoutePaper) {
		t.Error("no routes listed should allow every route")
	}
}
