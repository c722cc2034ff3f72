package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

// reviewFlags are the release review of a command that exports an
// artefact: recorded in the manifest and the custody ledger, and checked
// against the site policy.
type reviewFlags struct {
	reviewers []string
	ticket    string
	media     string
}

func addReviewFlags(cmd *cobra.Command, r *reviewFlags) {
	fl := cmd.Flags()
	fl.StringArrayVar(&r.reviewers, "reviewer", nil, "a `NAME` who reviewed the release (repeat for each)")
	fl.StringVar(&r.ticket, "ticket", "", "the change ticket `ID` of the release")
	fl.StringVar(&r.media, "media", "", "the label or serial `ID` of the removable medium (default: the drive's, when known)")
}

func (r *reviewFlags) review() app.Review {
	return app.Review{Reviewers: r.reviewers, Ticket: r.ticket, Media: r.media}
}

// checkRelease asks the site policy, before any slow work, whether the
// release by each route to path is allowed with the review given. A rule
// that a flag would satisfy is a usage error (exit 2).
func (r *reviewFlags) checkRelease(cmd *cobra.Command, env *Env, path string, routes ...string) error {
	for _, route := range routes {
		if err := env.service().CheckRelease(route, r.review(), path); err != nil {
			var pe *app.PolicyError
			if errors.As(err, &pe) && pe.Missing {
				return &UsageError{Err: err, Command: cmd.CommandPath()}
			}
			return err
		}
	}
	return nil
}

func newPolicyCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Show the site policy in force",
		Long: `A site policy (policy.json in the configuration folder, or the file given with
--policy) sets what a release needs and what an import needs, e.g.

  {"minReviewers": 2, "requireTicket": true, "requireMedia": true,
   "requireManifest": true, "requireTrustedSigner": true, "routes": ["file", "paper"]}

Routes: file (the artefact file with its manifest), qr-screen (QR codes on a
screen or as images), paper (the printed A4 sheet). QR codes carry no manifest
or signature, so requireManifest and requireTrustedSigner refuse QR imports.
An export or import that breaks the policy is refused, naming the rule, and
nothing is written.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf(cmd, "say what to do: show")
		},
	}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the rules of the site policy in force",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := env.service().Policy()
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(env.IO.Out, p)
			}
			w := env.IO.Out
			if p.Path == "" {
				_, err := fmt.Fprintln(w, "No site policy: every route is allowed and nothing is required. Put one in "+env.App.ConfigDir+" as policy.json.")
				return err
			}
			yes := func(b bool) string {
				if b {
					return "required"
				}
				return "not required"
			}
			fmt.Fprintf(w, "Site policy %s\n", p.Path)
			fmt.Fprintf(w, "  reviewers per release  %d\n", p.MinReviewers)
			fmt.Fprintf(w, "  change ticket          %s\n", yes(p.RequireTicket))
			fmt.Fprintf(w, "  media ID               %s\n", yes(p.RequireMedia))
			fmt.Fprintf(w, "  manifest on import     %s\n", yes(p.RequireManifest))
			fmt.Fprintf(w, "  trusted signer         %s\n", yes(p.RequireTrustedSigner))
			_, err = fmt.Fprintf(w, "  routes                 %s\n", strings.Join(p.Routes, ", "))
			return err
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print the policy as JSON")
	cmd.AddCommand(show)
	return cmd
}

// release is where a command that makes an artefact writes it: the file
// (with its manifest) and, with qrDir, its QR frames, under the release
// review.
type release struct {
	out    string
	qrDir  string
	force  bool
	review reviewFlags
}

// check reports, before any slow work, what would stop the write: the file
// exists or its folder takes none, the QR folder likewise, or the site
// policy refuses the release by these routes with this review.
func (r *release) check(cmd *cobra.Command, env *Env) error {
	if err := app.CheckOutput(r.out, r.force); err != nil {
		return err
	}
	routes := []string{app.RouteFile}
	if r.qrDir != "" {
		if err := app.CheckOutputDir(r.qrDir); err != nil {
			return err
		}
		routes = append(routes, app.RouteQRScreen)
	}
	return r.review.checkRelease(cmd, env, r.out, routes...)
}

// write writes v as the release says and tells the user: "wrote the
// <what> (cloud ID …, SHA-256 …) to FILE", then the QR frames. A write that
// fails after the file is named so the user can finish it by hand.
func (r *release) write(ctx context.Context, env *Env, v *app.ArtefactView, what, purpose string) error {
	svc := env.service()
	if err := svc.WriteArtefact(ctx, app.WriteRequest{Artefact: v, Path: r.out, Purpose: purpose, Force: r.force,
		Release: true, Review: r.review.review()}); err != nil {
		return err
	}
	fmt.Fprintf(env.IO.Out, "wrote the %s (cloud ID %s, SHA-256 %s) to %s\n", what, v.CloudID, v.SHA256Groups(), r.out)
	if r.qrDir == "" {
		return nil
	}
	res, err := svc.WriteQR(ctx, app.QRRequest{Artefact: v, Dir: r.qrDir, Force: r.force, Review: r.review.review()})
	if err != nil {
		return fmt.Errorf("the file is written, but the QR frames are not: %w; run 'azs-courier qr encode %s --out DIR'", err, r.out)
	}
	_, err = fmt.Fprintf(env.IO.Out, "saved %d QR frame(s) in %s\n", res.Parts, r.qrDir)
	return err
}
