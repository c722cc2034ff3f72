package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

func newRenewCmd(env *Env) *cobra.Command {
	var f pepFlags
	var o tokenOptions
	var reason, replaces, replacesGroup, replacesSub string
	var yes, abandon bool
	cmd := &cobra.Command{
		Use:   "renew --stamp STAMP --reason REASON --billing-model MODEL --out FILE",
		Short: "Renew or change the registration: remove the activation, then make the new token",
		Long: `Renew runs the disconnected side of a renewal or change of registration in the
order Microsoft's documentation gives for a disconnected stamp: it removes the
activation (Remove-AzureStackActivation), then makes the new registration token,
marked in its manifest with the reason and the registration it replaces (from the
stamp's last activation, or --replaces). Carried to the connected side, 'register
--token FILE --out KEY' removes the old registration, registers the new one and
fetches its key; 'activate' here then ends the renewal.

Reasons: ` + strings.Join(app.Reasons, ", ") + `. It says what will happen and asks first
(--yes answers for scripts). The stamp's profile keeps how far it came: run it
again to resume, or --abandon to give it up.`,
		Example: `  azs-courier renew --stamp hub01 --reason renewal --billing-model Capacity --agreement-number 1234567 --out ` + onDrive("renewal-token.txt") + `
  azs-courier renew --stamp hub01 --reason nodes --billing-model Capacity --agreement-number 1234567 --out ` + onDrive("token.txt") + ` --yes
  azs-courier renew --stamp hub01 --abandon`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if abandon {
				if f.stamp == "" {
					return usageErrorf(cmd, "--abandon needs --stamp NAME|CLOUDID")
				}
				w, err := env.service().AbandonWorkflow(f.stamp)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(env.IO.Out, "abandoned the %s started %s (it had reached: %s); the stamp stays as it is\n", w.Reason, w.Started.UTC().Format("2006-01-02"), w.Step)
				return err
			}
			if err := f.check(cmd, env); err != nil {
				return err
			}
			if err := requireFlags(cmd, "reason", "billing-model", "out"); err != nil {
				return err
			}
			valid := false
			for _, r := range app.Reasons {
				valid = valid || r == reason
			}
			if !valid {
				return usageErrorf(cmd, "--reason %q: give one of %s", reason, strings.Join(app.Reasons, ", "))
			}
			if err := validateTokenFlags(cmd, &o); err != nil {
				return err
			}
			rel := release{out: o.out, qrDir: o.qrDir, force: o.force, review: o.review}
			if err := rel.check(cmd, env); err != nil {
				return err
			}
			req := app.RenewRequest{Reason: reason, Token: o.req}
			if replaces != "" {
				req.Replaces = &app.ReplacedRegistration{Name: replaces, ResourceGroup: replacesGroup, Subscription: replacesSub}
			}
			var view *app.ArtefactView
			var stamp app.StampView
			err := withDeadline(cmd.Context(), f.timeout, opRenew, func(ctx context.Context) error {
				progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
				return f.session(ctx, env, progress, func(d *app.Disconnected) error {
					stamp = d.Stamp()
					plan, err := d.PlanRenewal(req)
					if err != nil {
						return err
					}
					w := env.IO.ErrOut
					fmt.Fprintf(w, "The %s of stamp %s (cloud ID %s), in this order:\n", plan.Reason, stamp.Name, stamp.CloudID)
					for i, s := range plan.Steps {
						fmt.Fprintf(w, "  %d. %s\n", i+1, s)
					}
					fmt.Fprintf(w, "%s\n", plan.Warning)
					if !yes {
						ok, err := env.Prompter.Confirm("Start the " + plan.Reason + " now?")
						if errors.Is(err, ErrNoTerminal) {
							return errors.New("the renewal removes the activation and needs confirmation, and there is no terminal to ask on; add --yes")
						}
						if err != nil {
							return err
						}
						if !ok {
							return errors.New("renewal not started; nothing was changed")
						}
					}
					view, err = d.Renew(ctx, req, progress)
					return err
				})
			})
			if err != nil {
				return err
			}
			if err := rel.write(cmd.Context(), env, view, reason+" token", ""); err != nil {
				return fmt.Errorf("the activation is removed and the token made: %w; run renew again (it resumes)", err)
			}
			env.service().NoteWorkflowFile(stamp.CloudID, o.out)
			if o.qrDir != "" {
				fmt.Fprintln(env.IO.Out, "QR codes carry no manifest: if the token crosses as QR codes, give register --replaces NAME on the connected side")
			}
			_, err = fmt.Fprintf(env.IO.Out, "Next: on the connected side, azs-courier register --token %s --out activation-key.txt; then here, azs-courier activate --stamp %s --key activation-key.txt\n", o.out, stamp.CloudID)
			return err
		},
	}
	addPEPFlags(cmd, &f, timeoutActivation)
	fl := cmd.Flags()
	fl.StringVar(&reason, "reason", "", "why: "+strings.Join(app.Reasons, ", "))
	fl.StringVar(&o.req.BillingModel, "billing-model", "", "the new token's billing model: Capacity, Development or Custom")
	fl.StringVar(&o.req.AgreementNumber, "agreement-number", "", "Enterprise Agreement `NUMBER` (Capacity)")
	fl.StringVar(&o.req.MsAssetTag, "ms-asset-tag", "", "MS asset `TAG` (Custom)")
	fl.BoolVar(&o.req.UsageReportingEnabled, "usage-reporting", false, "report usage to Azure (not with Capacity)")
	fl.BoolVar(&o.req.MarketplaceSyndicationEnabled, "marketplace-syndication", false, "allow marketplace syndication")
	fl.StringVar(&o.out, "out", "", "write the new token to `FILE`")
	fl.StringVar(&o.qrDir, "qr", "", "also save the token as QR frames (PNG) in `DIR`")
	fl.BoolVar(&o.force, "force", false, "replace an existing --out file")
	fl.StringVar(&replaces, "replaces", "", "the registration `NAME` it replaces (default: the stamp's last activation)")
	fl.StringVar(&replacesGroup, "replaces-resource-group", "", "the resource `GROUP` of --replaces (default: azurestack)")
	fl.StringVar(&replacesSub, "replaces-subscription", "", "the subscription `ID` of --replaces, when it changes")
	fl.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	fl.BoolVar(&abandon, "abandon", false, "give up the renewal or change under way on --stamp (the stamp stays as it is)")
	addReviewFlags(cmd, &o.review)
	return cmd
}
