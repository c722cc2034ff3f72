package azure_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/azure/azuresim"
)

// Example registers a stamp in the simulated Azure, fetches its activation
// key and removes the registration again, as the connected side of the
// disconnected workflow does.
func Example() {
	sim := azuresim.New(azuresim.Options{})
	defer sim.Close()

	cloud, err := azure.CustomCloud(sim.URL(), sim.URL(), "")
	if err != nil {
		log.Fatal(err)
	}
	tr := azure.TransportWithRoots(sim.CertPool()) // or a --ca-file in the cloud
	cred, err := azure.NewCredential(cloud, azure.CredentialOptions{Method: azure.AuthClientSecret, Transport: tr,
		TenantID: sim.TenantID(), ClientID: sim.ClientID(), ClientSecret: sim.ClientSecret()})
	if err != nil {
		log.Fatal(err)
	}
	r, err := azure.NewRegistrar(azure.Options{Cloud: cloud, Credential: cred, SubscriptionID: sim.SubscriptionID(),
		Client: azure.ClientOptions{Transport: tr}})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	token := base64.StdEncoding.EncodeToString([]byte(
		`{"billingModel":"Development","objectId":"1e2feb89-414c-443c-9027-c4d1c386bbc4","cloudId":"0c6e7e1e-2f2a-4c43-9e4b-5d6f7a8b9c0d","version":"4.0"}`))

	reg, err := r.Register(ctx, token, "", "hub01", "", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("registered", reg.Name, "in", reg.ResourceGroup, "for cloud", reg.CloudID)

	key, err := r.ActivationKey(ctx, "hub01", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("activation key for", key.Claims.RegistrationName, "cloud", key.Claims.CloudID, "billing", key.Claims.BillingModel)

	gone, err := r.Unregister(ctx, azure.UnregisterRequest{Token: token})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("unregistered", gone.Name)
	// Output:
	// registered hub01 in azurestack for cloud 0c6e7e1e-2f2a-4c43-9e4b-5d6f7a8b9c0d
	// activation key for hub01 cloud 0c6e7e1e-2f2a-4c43-9e4b-5d6f7a8b9c0d billing Development
	// unregistered hub01
}
