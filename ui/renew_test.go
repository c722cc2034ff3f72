package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/azs-courier/azs-courier/app"
)

// roundTrip plays a token from the disconnected side through Azure and
// back to an activation, through the training drive: the steps the user
// takes, the token made by make (a first token, or a renewal's).
func roundTrip(t *testing.T, u *UI, make func()) {
	t.Helper()
	d, c, tr := u.TrainingDisc, u.TrainingConn, u.training
	u.TrainingTabs.SelectIndex(0)
	make()
	waitFor(t, u, "the token review", func() bool { return d.Step() == StepReview })
	test.Tap(d.ToExport)
	d.Export.save(true) // Replace: the last round trip's file is there
	waitFor(t, u, "the token file", func() bool {
		return strings.Contains(d.Export.Result.Text, "Saved and read back") && !d.Export.task.Running()
	})
	tokenFile := filepath.Join(tr.Drive, "registration-token.txt")

	u.TrainingTabs.SelectIndex(1)
	if c.conn == nil {
		test.Tap(c.SignIn)
		waitFor(t, u, "the subscription picker", func() bool { return c.ToImport.Visible() && c.Subscription.Selected != "" })
		test.Tap(c.ToImport)
	} else {
		c.showImport()
	}
	c.Import.ImportFile(tokenFile)
	waitFor(t, u, "the token review", func() bool { return c.Step() == StepReview })
	test.Tap(c.ToRegister)
	waitFor(t, u, "the checks before registering", func() bool { return !c.Register.Disabled() })
	test.Tap(c.Register)
	waitFor(t, u, "the registration", func() bool { return c.Step() == StepKey })
	test.Tap(c.GetKey)
	waitFor(t, u, "the key export", func() bool { return c.Step() == StepExport })
	c.Export.save(true)
	waitFor(t, u, "the key file", func() bool {
		return strings.Contains(c.Export.Result.Text, "Saved and read back") && !c.Export.task.Running()
	})

	u.TrainingTabs.SelectIndex(0)
	d.showImport()
	d.Import.ImportFile(filepath.Join(tr.Drive, "activation-key.txt"))
	waitFor(t, u, "the key check", func() bool { return d.Step() == StepActivate })
	test.Tap(d.Activate)
	waitFor(t, u, "the activation", func() bool { return d.Step() == StepDone })
}

// TestRenewalInTraining: after a first registration, Renew or change
// registration on the token step says what it will do, removes the
// activation and makes the token marked as the renewal's; the connected
// side removes the old registration first and registers a new, dated one;
// activating its key ends the renewal in the stamp's profile.
func TestRenewalInTraining(t *testing.T) {
	u, _ := startTraining(t)
	d, c, tr := u.TrainingDisc, u.TrainingConn, u.training
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	d.Billing.SetSelected("Capacity")
	test.Type(d.Agreement, "EA-1234567")
	roundTrip(t, u, func() { test.Tap(d.CreateToken) })
	first := c.reg.Name
	if first != app.DefaultRegistrationName(tr.StampCloudID()) {
		t.Fatalf("first registration %q", first)
	}

	d.showToken()
	roundTrip(t, u, func() {
		test.Tap(d.Renew)
		plan := textOf(d.renewBox)
		if !strings.Contains(plan, "remove the activation") || !strings.Contains(plan, first) || !strings.Contains(plan, "unregistered until") {
			t.Errorf("the renewal's plan does not say what it will do: %q", plan)
		}
		if !tr.StampActivated() {
			t.Fatal("the activation went before the renewal was started")
		}
		test.Tap(d.StartRenew)
		waitFor(t, u, "the renewal's token", func() bool { return d.Step() == StepReview })
		if tr.StampActivated() {
			t.Error("the stamp is still activated after the renewal started")
		}
		if txt := textOf(d.Object()); !strings.Contains(txt, "This token is for the renewal") {
			t.Errorf("the review does not say it is the renewal's token")
		}
	})
	if c.reg.Replaced == nil || c.reg.Replaced.Name != first || c.reg.Name == first || !strings.HasPrefix(c.reg.Name, first+"-") {
		t.Errorf("renewal registered %q replacing %+v; want a dated name replacing %q", c.reg.Name, c.reg.Replaced, first)
	}
	if got := tr.Registrations(); len(got) != 1 {
		t.Errorf("simulated Azure holds %v after the renewal, want the new registration alone", got)
	}
	// The connected side checks what Azure holds for the token's stamp.
	u.TrainingTabs.SelectIndex(1)
	c.showReview()
	test.Tap(c.Verify)
	waitFor(t, u, "the registration check", func() bool { return c.VerifyResult.Text != "" || c.verifyTask.ErrorText() != "" })
	if v := c.VerifyResult.Text; !strings.Contains(v, c.reg.Name) || !strings.Contains(v, "Locked") || !strings.Contains(v, "made from this token") {
		t.Errorf("registration check %q (%s)", v, c.verifyTask.ErrorText())
	}
	stamps, err := u.trainingSvc.Stamps()
	if err != nil || len(stamps) != 1 || stamps[0].Workflow != nil || !strings.Contains(stamps[0].Activation, c.reg.Name) {
		t.Errorf("the stamp's profile after the renewal: %+v, %v", stamps, err)
	}
}

// TestConnectWithARememberedStamp: importing AzureStackStampInformation.json
// on the connect screen remembers the stamp and fills its addresses and
// account; a stamp connected to is offered next time.
func TestConnectWithARememberedStamp(t *testing.T) {
	u, _ := startTraining(t)
	d := u.TrainingDisc
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	d.showConnect()
	if len(d.Stamps.Options) != 1 || !strings.Contains(d.Stamps.Options[0], u.training.StampCloudID()[:8]) {
		t.Fatalf("remembered stamps %v: want the one connected to", d.Stamps.Options)
	}
	info, err := os.ReadFile(filepath.Join("..", "app", "testdata", "AzureStackStampInformation.json"))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "AzureStackStampInformation.json")
	os.WriteFile(other, []byte(strings.ReplaceAll(string(info), "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", "c0ffee00-1a69-46c7-8da4-f9fc3c6da5d7")), 0o600)
	d.ImportStampFile(other)
	if d.Hosts.Text != "10.20.30.224, 10.20.30.225, 10.20.30.226" || d.User.Text != `AZS\CloudAdmin` || len(d.Stamps.Options) != 2 {
		t.Errorf("after import: hosts %q, user %q, stamps %v", d.Hosts.Text, d.User.Text, d.Stamps.Options)
	}
	if !strings.Contains(d.StampInfo.Text, "Version 1.2311.2.23, 4 nodes") {
		t.Errorf("the picked stamp's summary: %q", d.StampInfo.Text)
	}
}
