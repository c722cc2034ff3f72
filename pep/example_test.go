package pep_test

import (
	"context"
	"fmt"

	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// Example opens a session on a simulated PEP (the first address is dead
// and skipped), reads the stamp and creates a registration token.
func Example() {
	sim := pepsim.New(pepsim.Options{Password: "Passw0rd!", Nodes: 4, StampVersion: "1.2311.2.23"})
	defer sim.Close()
	ctx := context.Background()
	c, err := pep.Dial(ctx, pep.Options{
		Hosts:    []string{"127.0.0.1:1", sim.Addr()},
		User:     `AZS\CloudAdmin`,
		Password: "Passw0rd!",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(ctx)
	stamp, err := c.StampInformation(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("nodes:", stamp.NumberOfNodes, "version:", stamp.StampVersion, "token version:", pep.TokenVersionFor(stamp.Version))
	token, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: pep.BillingCapacity, AgreementNumber: "1234567"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("token:", len(token) > 100, "answered by the second address:", c.Host() == sim.Addr())
	// Output:
	// nodes: 4 version: 1.2311.2.23 token version: 6.0
	// token: true answered by the second address: true
}
