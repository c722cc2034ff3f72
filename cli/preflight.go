package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

// ---- preflight ----

type preflightOptions struct {
	env      *Env
	azure    azureFlags
	token    string
	name     string
	group    string
	location string
	json     bool
}

func newPreflightCmd(env *Env) *cobra.Command {
	opts := &preflightOptions{env: env}
	cmd := &cobra.Command{
		Use:   "preflight --token FILE|- [--name NAME]",
		Short: "Check, with reads only, that registering a token would work",
		Long: `Preflight checks, before anything is written, what register needs: the signed-in
account, tenant and subscription; the Microsoft.AzureStack resource provider;
the location; the resource group; the caller's permitted actions at the target
scope (resource group write, Microsoft.AzureStack/registrations/*,
Microsoft.AzureStack/register/action, Microsoft.Authorization/locks/*), naming
each missing one and a role that grants it; another registration holding the
token's cloud ID; and the name, free or already this stamp's. register runs the
same checks first and stops at a failed one. Exit status 1 when a check fails.`,
		Example: `  azs-courier preflight --token registration-token.txt
  azs-courier preflight --token registration-token.txt --name hub01 --resource-group azurestack --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "token"); err != nil {
				return err
			}
			return opts.azure.run(cmd, env, func(ctx context.Context, req app.SignInRequest) error {
				return runPreflight(ctx, cmd, opts, req)
			})
		},
	}
	cmd.Flags().StringVar(&opts.token, "token", "", "registration token `FILE`, or - for standard input")
	cmd.Flags().StringVar(&opts.name, "name", "", "registration resource `NAME` (default: AzureStack-<cloud ID>)")
	cmd.Flags().StringVar(&opts.group, "resource-group", app.DefaultResourceGroup, "resource `GROUP` of the registration")
	cmd.Flags().StringVar(&opts.location, "location", "", "resource group `LOCATION` (default: the cloud's)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the report as JSON")
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runPreflight(ctx context.Context, cmd *cobra.Command, opts *preflightOptions, req app.SignInRequest) error {
	env := opts.env
	token, err := env.readArtefact(ctx, "--token", opts.token, app.KindToken, "preflight")
	if err != nil {
		return err
	}
	progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
	conn, sub, err := opts.azure.signIn(ctx, env, req, progress)
	if err != nil {
		return err
	}
	name := opts.name
	if name == "" {
		name = app.DefaultRegistrationName(token.CloudID)
	}
	rep, err := conn.Preflight(ctx, app.PreflightRequest{Subscription: sub, Token: token, Name: name, ResourceGroup: opts.group, Location: opts.location}, verboseOnly(progress))
	if err != nil {
		return err
	}
	if opts.json {
		if err := printJSON(env.IO.data(), rep); err != nil {
			return err
		}
	} else {
		printPreflight(env.IO.Out, rep)
	}
	if err := rep.Err(); err != nil {
		return fmt.Errorf("%d check(s) failed; fix them, then run register: %w", len(rep.Failed()), err)
	}
	return nil
}

// printPreflight writes the report as a table: each check, its outcome,
// what it found and the fix.
func printPreflight(w io.Writer, rep *app.PreflightReport) {
	fmt.Fprintf(w, "Preflight for cloud ID %s as %s in resource group %s (%s)\n", rep.CloudID, rep.Name, rep.ResourceGroup, rep.Location)
	fmt.Fprintf(w, "  account %s, tenant %s, subscription %s %s\n", rep.Account, rep.TenantID, rep.SubscriptionID, rep.SubscriptionName)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range rep.Checks {
		var mark string
		switch c.Status {
		case app.CheckPass:
			mark = "ok"
		case app.CheckWarn:
			mark = "warn"
		default:
			mark = "FAIL"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", mark, c.Name, app.Printable(c.Finding))
		if c.Fix != "" && c.Status != app.CheckPass {
			fmt.Fprintf(tw, "  \t\tfix: %s\n", app.Printable(c.Fix))
		}
	}
	tw.Flush()
}

// ---- role ----

func newRoleCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "Show or create the least-privilege custom role for registering",
		Long: `The documentation's custom role for registering (resource groups, registrations,
the resource provider, role assignments, permissions read) lacks the lock
actions register needs; this role adds Microsoft.Authorization/locks/*, so an
admin can let someone register without Owner. 'role show' prints it as a file
for New-AzRoleDefinition -InputFile or az role definition create; 'role create'
creates it in the subscription (or adds what an existing role of the name lacks).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf(cmd, "say what to do: show or create")
		},
	}
	var sub string
	show := &cobra.Command{
		Use:     "show --subscription ID",
		Short:   "Print the custom role as a JSON file (no sign-in)",
		Example: `  azs-courier role show --subscription 00000000-0000-0000-0000-000000000000 > registration-role.json`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "subscription"); err != nil {
				return err
			}
			v, err := app.RegistrationRoleFile(sub)
			if err != nil {
				return err
			}
			_, err = env.IO.data().Write(v.Definition)
			return err
		},
	}
	show.Flags().StringVar(&sub, "subscription", "", "the subscription `ID` the role is assignable in")

	var az azureFlags
	create := &cobra.Command{
		Use:     "create --subscription ID",
		Short:   "Create the custom role in the subscription, or complete one of its name",
		Example: `  azs-courier role create --subscription 00000000-0000-0000-0000-000000000000`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "subscription"); err != nil {
				return err
			}
			return az.run(cmd, env, func(ctx context.Context, req app.SignInRequest) error {
				progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
				conn, sub, err := az.signIn(ctx, env, req, progress)
				if err != nil {
					return err
				}
				v, err := conn.RegistrationRole(ctx, sub, verboseOnly(progress))
				if err != nil {
					return err
				}
				switch {
				case v.Created:
					fmt.Fprintf(env.IO.Out, "created the custom role %q in subscription %s\n", v.Name, sub)
				case v.Updated:
					fmt.Fprintf(env.IO.Out, "updated the custom role %q in subscription %s: added %s\n", v.Name, sub, strings.Join(v.Added, ", "))
				default:
					fmt.Fprintf(env.IO.Out, "the custom role %q in subscription %s already grants what registering needs\n", v.Name, sub)
				}
				_, err = fmt.Fprintf(env.IO.Out, "Assign it to the admin who registers, on the subscription or the resource group (New-AzRoleAssignment or az role assignment create).\n")
				return err
			})
		},
	}
	addAzureFlags(create, &az)
	cmd.AddCommand(show, create)
	return cmd
}

// ---- verify ----

type verifyOptions struct {
	env     *Env
	azure   azureFlags
	token   string
	cloudID string
	json    bool
}

func newVerifyCmd(env *Env) *cobra.Command {
	opts := &verifyOptions{env: env}
	cmd := &cobra.Command{
		Use:   "verify --token FILE | --cloud-id ID",
		Short: "Show the stamp's registration in Azure and check it against the token",
		Long: `Verify finds the registration of a stamp in the subscription, by the cloud ID of a
registration token or given directly, and shows its name, resource group,
billing model and whether the CanNotDelete lock is in place; with a token, it
checks that the registration was made from a token like it (cloud ID, object
ID, billing model). Nothing is changed. Exit status 1 when the stamp is not
registered, the lock is missing, or the token does not match.`,
		Example: `  azs-courier verify --token registration-token.txt
  azs-courier verify --cloud-id cd613e30-d8f1-4adf-91b7-584a2265b1f5 --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("token") == cmd.Flags().Changed("cloud-id") {
				return usageErrorf(cmd, "give exactly one of --token or --cloud-id")
			}
			return opts.azure.run(cmd, env, func(ctx context.Context, req app.SignInRequest) error {
				return runVerify(ctx, cmd, opts, req)
			})
		},
	}
	cmd.Flags().StringVar(&opts.token, "token", "", "the stamp's registration token `FILE` (- for standard input)")
	cmd.Flags().StringVar(&opts.cloudID, "cloud-id", "", "the stamp's cloud `ID`")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the status as JSON")
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runVerify(ctx context.Context, cmd *cobra.Command, opts *verifyOptions, req app.SignInRequest) error {
	env := opts.env
	sreq := app.StatusRequest{CloudID: opts.cloudID}
	if opts.token != "" {
		token, err := env.readArtefact(ctx, "--token", opts.token, app.KindToken, "verify")
		if err != nil {
			return err
		}
		sreq.Token = token
	}
	progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
	conn, sub, err := opts.azure.signIn(ctx, env, req, progress)
	if err != nil {
		return err
	}
	sreq.Subscription = sub
	st, err := conn.Status(ctx, sreq, verboseOnly(progress))
	if errors.Is(err, app.ErrNotRegistered) {
		return fmt.Errorf("%w; register it with azs-courier register", err)
	}
	if err != nil {
		return err
	}
	if opts.json {
		if err := printJSON(env.IO.data(), st); err != nil {
			return err
		}
	} else {
		r := st.Registration
		w := env.IO.Out
		fmt.Fprintf(w, "Registration %s in resource group %s (subscription %s)\n", r.Name, r.ResourceGroup, r.SubscriptionID)
		fmt.Fprintf(w, "  cloud ID       %s\n  billing model  %s\n", r.CloudID, r.BillingModel)
		switch {
		case st.Locked:
			fmt.Fprintf(w, "  lock           %s (%s)\n", st.LockName, st.LockLevel)
		case st.LockUnknown != "":
			fmt.Fprintf(w, "  lock           unknown: %s\n", app.Printable(st.LockUnknown))
		default:
			fmt.Fprintf(w, "  lock           none\n")
		}
		if st.TokenChecked {
			if st.TokenMatches {
				fmt.Fprintf(w, "  token          matches the registration\n")
			} else {
				fmt.Fprintf(w, "  token          differs: %s\n", app.Printable(strings.Join(st.Differences, "; ")))
			}
		}
	}
	switch {
	case st.TokenChecked && !st.TokenMatches:
		return fmt.Errorf("the registration %s was not made from this token (%s); register this token again to update it", st.Registration.Name, strings.Join(st.Differences, "; "))
	case !st.Locked && st.LockUnknown == "":
		return fmt.Errorf("the registration %s has no CanNotDelete lock; run register again with the same token and name to restore it", st.Registration.Name)
	}
	return nil
}
