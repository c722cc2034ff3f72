package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/azs-courier/azs-courier/app"
)

// TestReleaseReviewAndCustody: under a site policy of two reviewers and a
// ticket, the export says what is missing and saves only once the review
// is filled in; the manifest records it; the custody sheet prints beside
// the file; and the receiving side records who carried it.
func TestReleaseReviewAndCustody(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policy, []byte(`{"minReviewers": 2, "requireTicket": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	u, _ := newTestUIOn(t, test.NewTempApp(t), func(e *app.Env) { e.PolicyPath = policy })
	test.Tap(u.Training)
	waitFor(t, u, "the simulators", u.TrainingReady)
	tr := u.training
	d, c := u.TrainingDisc, u.TrainingConn
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	d.Billing.SetSelected("Development")
	test.Tap(d.CreateToken)
	waitFor(t, u, "the token review", func() bool { return d.Step() == StepReview })
	test.Tap(d.ToExport)

	e := d.Export
	if !strings.Contains(e.PolicyNote.Text, "2 reviewer(s), a change ticket") {
		t.Errorf("policy note %q does not say what the policy needs", e.PolicyNote.Text)
	}
	if !e.Save.Disabled() || !strings.Contains(e.Exists.Text, "minReviewers 2") {
		t.Fatalf("without a review: Save enabled %v, message %q; want it disabled naming the rule", !e.Save.Disabled(), e.Exists.Text)
	}
	test.Type(e.Reviewers, "A. Officer")
	if !e.Save.Disabled() || !strings.Contains(e.Exists.Text, "only 1 is named") {
		t.Errorf("one reviewer: Save enabled %v, message %q", !e.Save.Disabled(), e.Exists.Text)
	}
	e.Reviewers.SetText("A. Officer\nB. Lead")
	if !e.Save.Disabled() || !strings.Contains(e.Exists.Text, "ticket") {
		t.Errorf("no ticket: Save enabled %v, message %q", !e.Save.Disabled(), e.Exists.Text)
	}
	test.Type(e.Ticket, "CHG-4711")
	if e.Save.Disabled() {
		t.Fatalf("review complete but Save disabled: %q", e.Exists.Text)
	}
	test.Tap(e.Save)
	tokenFile := filepath.Join(tr.Drive, "registration-token.txt")
	waitFor(t, u, "the token file", func() bool { return strings.Contains(e.Result.Text, "Saved and read back") })
	var m struct {
		Reviewers []string
		Ticket    string
		Signer    string
	}
	data, _ := os.ReadFile(tokenFile + ".courier.json")
	if err := json.Unmarshal(data, &m); err != nil || len(m.Reviewers) != 2 || m.Ticket != "CHG-4711" || m.Signer == "" {
		t.Fatalf("manifest %s (%v): want two reviewers, the ticket and a signer", data, err)
	}
	if !e.Custody.Visible() {
		t.Fatal("no custody sheet button after the save")
	}
	test.Tap(e.Custody)
	sheet := filepath.Join(tr.Drive, "registration-token-custody-sheet.pdf")
	waitFor(t, u, "the custody sheet", func() bool { return strings.Contains(e.Result.Text, "Custody sheet: "+sheet) })
	if st, err := os.Stat(sheet); err != nil || st.Size() < 1000 {
		t.Fatalf("custody sheet %s: %v", sheet, err)
	}

	// The connected side imports the file: the review shows the signer and
	// the reviewers, and the receipt is recorded.
	u.TrainingTabs.SelectIndex(1)
	test.Tap(c.SignIn)
	waitFor(t, u, "the subscription picker", func() bool { return c.ToImport.Visible() && c.Subscription.Selected != "" })
	test.Tap(c.ToImport)
	c.Import.ImportFile(tokenFile)
	waitFor(t, u, "the token review", func() bool { return c.Step() == StepReview })
	review := textOf(c.Object())
	for _, want := range []string{"this installation", "A. Officer, B. Lead", "CHG-4711"} {
		if !strings.Contains(review, want) {
			t.Errorf("the review lacks %q", want)
		}
	}
	if !c.Receipt.Object().Visible() || !c.Receipt.Record.Disabled() {
		t.Fatal("the receipt panel is hidden, or Record is enabled without a carrier")
	}
	test.Type(c.Receipt.Carrier, "C. Courier")
	test.Tap(c.Receipt.Record)
	waitFor(t, u, "the receipt", func() bool { return strings.Contains(c.Receipt.Result.Text, "carried by C. Courier") })
}
