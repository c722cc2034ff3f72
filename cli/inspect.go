package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

type inspectOptions struct {
	env            *Env
	path           string
	json           bool
	writeCanonical string
	force          bool
	review         reviewFlags
}

func newInspectCmd(env *Env) *cobra.Command {
	opts := &inspectOptions{env: env}
	cmd := &cobra.Command{
		Use:   "inspect FILE|-",
		Short: "Check a registration token or activation key and show what it holds",
		Long: `Inspect reads a registration token or activation key in whatever form it
arrived (UTF-8 or UTF-16 with or without BOM, CRLF, wrapped lines, quotes, a
pasted $RegistrationToken = "..." line; - reads standard input: paste, then
` + eofKeys + `), checks it against its manifest when one lies beside it, and
prints the decoded fields for review. The SHA-256 is of the canonical text, so
it is the same whatever the encoding. With --write-canonical it also writes the
canonical file and its manifest.`,
		Example: `  azs-courier inspect registration-token.txt
  azs-courier inspect activation-key.txt --json
  azs-courier inspect token-from-email.txt --write-canonical E:\registration-token.txt`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.path = args[0]
			if opts.writeCanonical != "" {
				if err := opts.review.checkRelease(cmd, env, opts.writeCanonical, app.RouteFile); err != nil {
					return err
				}
			}
			return runInspect(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the fields as JSON")
	cmd.Flags().StringVar(&opts.writeCanonical, "write-canonical", "", "also write the canonical artefact and its manifest to `OUT`")
	cmd.Flags().BoolVar(&opts.force, "force", false, "with --write-canonical, replace an existing file")
	addReviewFlags(cmd, &opts.review)
	return cmd
}

func runInspect(ctx context.Context, opts *inspectOptions) error {
	env := opts.env
	svc := env.service()
	v, err := env.readArtefact(ctx, "", opts.path, "", "inspect")
	if err != nil {
		return err
	}
	if opts.writeCanonical != "" {
		if err := svc.WriteArtefact(ctx, app.WriteRequest{Artefact: v, Path: opts.writeCanonical, Purpose: "canonical copy of " + opts.path, Force: opts.force,
			Release: true, Review: opts.review.review()}); err != nil {
			return err
		}
	}
	if opts.json {
		return printJSON(env.IO.Out, v.Summary())
	}
	printSummary(env.IO.Out, v.Summary())
	if opts.writeCanonical != "" {
		fmt.Fprintf(env.IO.Out, "\nWrote %s and %s\n", opts.writeCanonical, app.ManifestPath(opts.writeCanonical))
	}
	return nil
}

func printSummary(w io.Writer, s app.Summary) {
	title := s.Kind.Title()
	fmt.Fprintf(w, "%s%s\n", strings.ToUpper(title[:1]), title[1:])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range s.Fields() {
		fmt.Fprintf(tw, "  %s\t%s\n", f.Label, f.Value)
	}
	fmt.Fprintf(tw, "  %s\t%s\n", "Manifest", s.ManifestStatus)
	if s.Origin != nil {
		fmt.Fprintf(tw, "  %s\t%s\n", "Signed by", s.Origin)
	}
	tw.Flush()
}
