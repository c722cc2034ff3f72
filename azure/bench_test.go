package azure_test

import (
	"context"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/azure/azuresim"
)

// moduleRequests is what RegisterWithAzure.psm1 sends for Register-AzsEnvironment
// plus Get-AzsActivationKey on a first registration (azure-registration.md
// §2.4, §3.10, §3.4): GET locations, POST RP register, GET lock,
// PUT resource group, PUT registration, PUT lock, POST GetActivationKey.
// It neither polls the provider nor checks for a taken cloud ID.
const moduleRequests = 7

// BenchmarkRegisterActivationKey measures a first registration plus the
// activation key against azuresim with 50 ms of latency on every answer,
// signed in with the real client-secret flow. It reports ARM and authority
// requests per operation next to the PowerShell module's count.
func BenchmarkRegisterActivationKey(b *testing.B) {
	sim := azuresim.New(azuresim.Options{Latency: 50 * time.Millisecond})
	defer sim.Close()
	cloud, err := azure.CustomCloud(sim.URL(), sim.URL(), "")
	if err != nil {
		b.Fatal(err)
	}
	tr := azure.TransportWithRoots(sim.CertPool())
	ctx := context.Background()
	tok := token(b, "1node")
	var arm, auth int
	ops := 0
	for b.Loop() {
		// A new credential per operation, so sign-in is part of what is measured.
		b.StopTimer()
		sim.ResetRequests()
		b.StartTimer()
		cred, err := azure.NewCredential(cloud, azure.CredentialOptions{Method: azure.AuthClientSecret, Transport: tr,
			TenantID: sim.TenantID(), ClientID: sim.ClientID(), ClientSecret: sim.ClientSecret()})
		if err != nil {
			b.Fatal(err)
		}
		r, err := azure.NewRegistrar(azure.Options{Cloud: cloud, Credential: cred, SubscriptionID: sim.SubscriptionID(),
			Client: azure.ClientOptions{Transport: tr}, PollInterval: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Register(ctx, tok, "", "azs-registration", "", ""); err != nil {
			b.Fatal(err)
		}
		if _, err := r.ActivationKey(ctx, "azs-registration", ""); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, req := range sim.Requests() {
			if req.Kind == "arm" {
				arm++
			} else {
				auth++
			}
		}
		ops++
		if _, err := r.Unregister(ctx, azure.UnregisterRequest{Name: "azs-registration"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(arm)/float64(ops), "arm-requests/op")
	b.ReportMetric(float64(auth)/float64(ops), "authority-requests/op")
	b.ReportMetric(moduleRequests, "psm1-arm-requests/op")
}
