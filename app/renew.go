package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
)

// Reasons for a renewal or change of registration, as the Microsoft
// documentation's "Renew or change registration" lists them.
const (
	ReasonRenewal        = "renewal"         // the capacity term was renewed
	ReasonBillingModel   = "billing-model"   // the billing model changes
	ReasonNodes          = "nodes"           // nodes were added or removed
	ReasonSubscription   = "subscription"    // another Azure subscription
	ReasonUsageReporting = "usage-reporting" // usage reporting is turned off (or on)
)

// Reasons lists the reasons in the order help texts name them.
var Reasons = []string{ReasonRenewal, ReasonBillingModel, ReasonNodes, ReasonSubscription, ReasonUsageReporting}

// RenewRequest is a renewal or change of registration on the disconnected
// side.
type RenewRequest struct {
	Reason string
	Token  TokenRequest
	// Replaces names the registration the change replaces; nil takes it
	// from the stamp's profile (the last activation's key), or leaves the
	// connected side to find it by the stamp's cloud ID.
	Replaces *ReplacedRegistration
}

// RenewPlan is what a renewal will do, in words, for the question asked
// before it starts.
type RenewPlan struct {
	Reason   string
	Stamp    StampView
	Replaces *ReplacedRegistration // nil: found by cloud ID on the connected side
	Steps    []string
	Warning  string // what removing the activation means
}

// validReason reports whether r is one of Reasons.
func validReason(r string) bool {
	for _, x := range Reasons {
		if r == x {
			return true
		}
	}
	return false
}

// PlanRenewal says what a renewal or change will do, in the documented
// order for a disconnected stamp, without doing anything.
func (d *Disconnected) PlanRenewal(req RenewRequest) (RenewPlan, error) {
	if !validReason(req.Reason) {
		return RenewPlan{}, fmt.Errorf("%q is not a reason for a renewal or change; give one of %s", Printable(req.Reason), strings.Join(Reasons, ", "))
	}
	if err := req.Token.Validate(d.stamp.Version); err != nil {
		return RenewPlan{}, err
	}
	rep := req.Replaces
	p, err := d.svc.env.readProfile(d.stamp.CloudID)
	if err != nil {
		return RenewPlan{}, err
	}
	resume := p != nil && p.Workflow != nil && p.Workflow.Reason == req.Reason
	switch {
	case rep != nil:
	case resume:
		rep = p.Workflow.Replaces
	case p != nil && p.Activation != nil && p.Activation.RegistrationName != "":
		a := p.Activation
		rep = &ReplacedRegistration{Name: a.RegistrationName, ResourceGroup: a.ResourceGroup, Subscription: a.Subscription, BillingModel: a.BillingModel}
	}
	old := "the stamp's registration (found by its cloud ID in the subscription)"
	if rep != nil {
		old = fmt.Sprintf("the registration %s (resource group %s, subscription %s)", rep.Name, orDefault(rep.ResourceGroup, DefaultResourceGroup), orDefault(rep.Subscription, "as signed in"))
	}
	first := fmt.Sprintf("here: remove the activation of stamp %s (Remove-AzureStackActivation)", d.stamp.Name)
	if resume {
		first = fmt.Sprintf("here: nothing to remove: the %s started %s removed the activation already; it resumes", workflowTitle(req.Reason), p.Workflow.Started.UTC().Format("2006-01-02"))
	}
	return RenewPlan{Reason: req.Reason, Stamp: d.stamp, Replaces: rep,
		Steps: []string{
			first,
			fmt.Sprintf("here: make a new registration token (billing model %s), marked as the %s of %s", req.Token.BillingModel, workflowTitle(req.Reason), old),
			"connected side: register that token (azs-courier register), which first removes " + old + ", then registers the new one and fetches its activation key",
			"here: activate the stamp with the new key (azs-courier activate), which ends the " + workflowTitle(req.Reason),
		},
		Warning: "Removing the activation leaves the stamp unregistered until the new activation key comes back and is imported: plan the return of the key before you start.",
	}, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Renew runs the disconnected side of a renewal or change in the documented
// order: remove the activation, then make the new token, marked with the
// reason and the registration it replaces (the connected side's register
// reads them). The stamp's profile keeps the workflow's state, so that a
// later run (or the GUI) shows it waits for the activation key; importing
// and activating the key ends it.
func (d *Disconnected) Renew(ctx context.Context, req RenewRequest, progress func(Event)) (*ArtefactView, error) {
	plan, err := d.PlanRenewal(req)
	if err != nil {
		return nil, err
	}
	started := d.svc.env.now().UTC()
	// A workflow already under way has removed the activation: resume at
	// the token (its file may be lost, or the token was not made).
	var resumed *Workflow
	if p, err := d.svc.env.readProfile(d.stamp.CloudID); err == nil && p != nil && p.Workflow != nil && p.Workflow.Reason == req.Reason {
		resumed = p.Workflow
	}
	if resumed == nil {
		if err := d.Deactivate(ctx, progress); err != nil {
			return nil, fmt.Errorf("the %s stopped before anything else: removing the activation failed: %w", workflowTitle(req.Reason), err)
		}
		d.svc.env.stampEvent(d.stamp.CloudID, workflowTitle(req.Reason)+" started", "", "", func(p *StampProfile) {
			p.Workflow = &Workflow{Reason: req.Reason, Started: started, Step: WorkflowActivationRemoved, Replaces: plan.Replaces}
		})
	} else {
		plan.Replaces = resumed.Replaces
		orDiscard(progress)(Event{Step: "renew", Message: fmt.Sprintf("resuming the %s started %s: the activation is already removed", workflowTitle(req.Reason), resumed.Started.UTC().Format("2006-01-02")), Fraction: -1, Level: LevelProgress})
	}
	v, err := d.CreateToken(ctx, req.Token, progress)
	if err != nil {
		return nil, fmt.Errorf("the activation is removed, but the new token is not made: %w; run the %s again (it resumes here)", err, workflowTitle(req.Reason))
	}
	v.made.Reason, v.made.Replaces = req.Reason, plan.Replaces
	v.made.Purpose = workflowTitle(req.Reason) + " of the registration"
	d.svc.env.stampEvent(d.stamp.CloudID, "token for the "+workflowTitle(req.Reason), v.SHA256, "", func(p *StampProfile) {
		if p.Workflow != nil {
			p.Workflow.Step, p.Workflow.TokenSHA256 = WorkflowWaitingForKey, v.SHA256
		}
	})
	return v, nil
}

// NoteWorkflowFile records in the stamp's profile where the workflow's
// token was written, for 'stamps' to show.
func (s *Service) NoteWorkflowFile(cloudID, path string) {
	s.env.stampEvent(cloudID, "written", "", absPath(path), func(p *StampProfile) {
		if p.Workflow != nil {
			p.Workflow.Files = append(p.Workflow.Files, absPath(path))
		}
	})
}

// AbandonWorkflow ends the renewal or change under way on the stamp named
// ref without finishing it, recording that in its profile and the custody
// ledger. The stamp stays as it is (without an activation, if it was
// removed).
func (s *Service) AbandonWorkflow(ref string) (*Workflow, error) {
	p, err := s.FindStamp(ref)
	if err != nil {
		return nil, err
	}
	w := p.Workflow
	if w == nil {
		return nil, fmt.Errorf("stamp %s has no renewal or change under way", p.Name)
	}
	if err := s.env.checkLedger(); err != nil {
		return nil, err
	}
	if err := s.env.updateProfile(p.CloudID, func(p *StampProfile) {
		p.addEvent(s.env.now(), workflowTitle(w.Reason)+" abandoned", "", "started "+w.Started.UTC().Format("2006-01-02")+", at: "+w.Step)
		p.Workflow = nil
	}); err != nil {
		return nil, err
	}
	return w, s.env.recordDone(courier.Entry{Step: "workflow abandoned", CloudID: p.CloudID, Outcome: "ok",
		Detail: workflowTitle(w.Reason) + " started " + w.Started.UTC().Format("2006-01-02") + ", at: " + w.Step}, nil, "the workflow is abandoned")
}
