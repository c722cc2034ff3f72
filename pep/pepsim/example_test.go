package pepsim_test

import (
	"fmt"
	"strings"

	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// A simulated PEP for a test: a 1-node stamp on a free loopback port. Point
// the PEP client at srv.Addr() with the user srv.User() and the password.
func ExampleNew() {
	srv := pepsim.New(pepsim.Options{Password: "Example-Passw0rd", Nodes: 1, StampVersion: "1.2311.2.23"})
	defer srv.Close()
	fmt.Println(srv.User(), srv.Nodes(), srv.StampVersion(), srv.Activated())
	fmt.Println(strings.HasPrefix(srv.URL(), "http://127.0.0.1:"), strings.HasSuffix(srv.URL(), "/wsman"))
	// Output:
	// AZS\CloudAdmin 1 1.2311.2.23 false
	// true true
}
