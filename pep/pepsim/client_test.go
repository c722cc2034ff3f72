package pepsim_test

import (
	"context"
	"testing"

	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// TestClientSession checks what the real client asks of the PEP when it
// opens a session: culture en-US (the PEP's cmdlets need it), protocol
// 2.x, the operation timeout, and that Close deletes the pool.
func TestClientSession(t *testing.T) {
	srv := start(t, pepsim.Options{})
	ctx := context.Background()
	c, err := pep.Dial(ctx, pep.Options{Hosts: []string{srv.Addr()}, User: srv.User(), Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StampInformation(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ss := srv.Sessions()
	if len(ss) != 1 {
		t.Fatalf("sessions: got %d, want 1", len(ss))
	}
	s := ss[0]
	if s.Locale != "en-US" || s.DataLocale != "en-US" {
		t.Errorf("locale %q, data locale %q: want en-US and en-US", s.Locale, s.DataLocale)
	}
	if s.ProtocolVersion == "" || s.ProtocolVersion[:2] != "2." {
		t.Errorf("protocolversion %q, want 2.x", s.ProtocolVersion)
	}
	if s.IdleTimeout != "PT3600S" {
		t.Errorf("IdleTimeOut %q, want PT3600S (the module's New-PSSessionOption -IdleTimeout 3600000)", s.IdleTimeout)
	}
	if s.OperationTimeout != "PT20S" {
		t.Errorf("OperationTimeout %q, want PT20S (pypsrp's, the module's default)", s.OperationTimeout)
	}
	if s.Owner != `AZS\CloudAdmin` {
		t.Errorf("owner %q, want AZS\\CloudAdmin", s.Owner)
	}
	if srv.OpenShells() != 0 {
		t.Errorf("open shells after Close: got %d, want 0", srv.OpenShells())
	}
}
