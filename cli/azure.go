package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

// azureFlags are the flags every connected-side command takes.
type azureFlags struct {
	cloud         string
	armEndpoint   string
	authorityHost string
	caFile        string
	auth          string
	tenant        string
	subscription  string
	retryDelay    time.Duration
	tryTimeout    time.Duration
	pollInterval  time.Duration
	timeout       time.Duration
}

func addAzureFlags(cmd *cobra.Command, f *azureFlags) {
	addTimeoutFlag(cmd, &f.timeout, timeoutAzure)
	fl := cmd.Flags()
	fl.StringVar(&f.cloud, "cloud", app.DefaultCloud, "Azure cloud: "+strings.Join(app.CloudNames(), ", "))
	fl.StringVar(&f.armEndpoint, "arm-endpoint", "", "custom cloud: Resource Manager `URL` (with --authority-host)")
	fl.StringVar(&f.authorityHost, "authority-host", "", "custom cloud: Entra ID authority `URL` (with --arm-endpoint)")
	fl.StringVar(&f.caFile, "ca-file", "", "custom cloud: PEM `FILE` of CA certificates the authority and ARM connections trust")
	fl.StringVar(&f.auth, "auth", app.DefaultAuthMethod, "sign-in: device-code, browser, azure-cli or environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)")
	fl.StringVar(&f.tenant, "tenant", "", "Entra ID tenant `ID` to sign in to")
	fl.StringVar(&f.subscription, "subscription", "", "Azure subscription `ID`; asked for when the account has several")
	fl.DurationVar(&f.retryDelay, "retry-delay", 0, "first delay between retries of failed Azure requests (default 800ms)")
	fl.DurationVar(&f.pollInterval, "poll-interval", 0, "wait between checks of the resource provider's state (default 5s)")
	fl.DurationVar(&f.tryTimeout, "try-timeout", 0, "longest wait for one try of an Azure request (default 20s)")
	_ = fl.MarkHidden("retry-delay")
	_ = fl.MarkHidden("try-timeout")
	_ = fl.MarkHidden("poll-interval")
}

// request turns the flags into a sign-in request and checks it without
// using the network, so that usage errors come before any file is read or
// any sign-in starts.
func (f *azureFlags) request(cmd *cobra.Command, env *Env) (app.SignInRequest, error) {
	custom := f.armEndpoint != "" || f.authorityHost != ""
	switch {
	case custom && (f.armEndpoint == "" || f.authorityHost == ""):
		return app.SignInRequest{}, usageErrorf(cmd, "a custom cloud needs both --arm-endpoint and --authority-host")
	case custom && cmd.Flags().Changed("cloud"):
		return app.SignInRequest{}, usageErrorf(cmd, "give either --cloud or --arm-endpoint with --authority-host, not both")
	case !custom && f.caFile != "":
		return app.SignInRequest{}, usageErrorf(cmd, "--ca-file applies to a custom cloud; add --arm-endpoint and --authority-host")
	}
	req := app.SignInRequest{Cloud: f.cloud, ARMEndpoint: f.armEndpoint, AuthorityHost: f.authorityHost, CAFile: f.caFile,
		Method: f.auth, Tenant: f.tenant, Subscription: f.subscription, RetryDelay: f.retryDelay, TryTimeout: f.tryTimeout, PollInterval: f.pollInterval,
		DeviceCode: func(_ context.Context, message string) error {
			fmt.Fprintln(env.IO.ErrOut, message)
			return nil
		},
	}
	if err := req.Validate(); err != nil {
		return app.SignInRequest{}, &UsageError{Err: err, Command: cmd.CommandPath()}
	}
	return req, nil
}

// signIn signs in and settles the subscription: the one given, the only
// enabled one, or the one the user picks.
func (f *azureFlags) signIn(ctx context.Context, env *Env, req app.SignInRequest, progress func(app.Event)) (*app.Connected, string, error) {
	conn, err := env.service().SignIn(ctx, req, verboseOnly(progress))
	if err != nil {
		return nil, "", err
	}
	if req.Subscription != "" {
		return conn, req.Subscription, nil
	}
	sub, err := pickSubscription(env, conn.Subscriptions())
	return conn, sub, err
}

// pickSubscription returns the only enabled subscription, or asks which one
// to use, or fails listing them when there is no terminal to ask on.
func pickSubscription(env *Env, subs []app.SubscriptionView) (string, error) {
	var enabled []app.SubscriptionView
	for _, s := range subs {
		if s.Enabled {
			enabled = append(enabled, s)
		}
	}
	switch len(enabled) {
	case 0:
		return "", errors.New("the signed-in account has no enabled Azure subscription; sign in with another account or --tenant")
	case 1:
		return enabled[0].ID, nil
	}
	var list []string
	for _, s := range enabled {
		list = append(list, fmt.Sprintf("%s (%s)", s.ID, s.Name))
	}
	if env.IO.InTTY && env.Prompter != nil {
		for _, s := range enabled {
			ok, err := env.Prompter.Confirm(fmt.Sprintf("Use subscription %s (%s)?", s.ID, s.Name))
			if err != nil && !errors.Is(err, ErrNoTerminal) {
				return "", err
			}
			if ok {
				return s.ID, nil
			}
		}
	}
	return "", fmt.Errorf("the account has %d subscriptions: %s; choose one with --subscription ID", len(enabled), strings.Join(list, ", "))
}

// ---- register ----

type registerOptions struct {
	env           *Env
	azure         azureFlags
	token         string
	name          string
	group         string
	location      string
	replaces      string
	replacesGroup string
	out           string // also fetch the activation key into this file
	qrDir         string
	force         bool
	review        reviewFlags
}

func newRegisterCmd(env *Env) *cobra.Command {
	opts := &registerOptions{env: env}
	cmd := &cobra.Command{
		Use:   "register --token FILE|- [--name NAME] [--out KEY]",
		Short: "Register a stamp's registration token in Azure (Register-AzsEnvironment)",
		Long: `Register creates the Microsoft.AzureStack registration resource for a registration
token: it registers the resource provider and waits until it is registered,
creates or updates the resource group, PUTs the registration (api-version
2017-06-01, location global) and locks it (CanNotDelete lock
RegistrationResourceLock), as Register-AzsEnvironment does. Before any write it
runs the checks 'preflight' shows and stops at a failed one. Running it again
with the same token and name succeeds without change. The name defaults to
AzureStack-<cloud ID>.

A token made by 'renew' (its manifest says so), or --replaces NAME, is a renewal
or change: register first removes the registration it replaces (its lock, the
resource, and checks it is gone), then registers the new one, as the
documentation orders it for a disconnected stamp; a capacity renewal takes a
new, dated name. With --out it also fetches the new activation key.`,
		Example: `  azs-courier register --token registration-token.txt
  azs-courier register --token - --name hub01 --resource-group azurestack --subscription 00000000-...
  azs-courier register --token ` + onDrive("renewal-token.txt") + ` --out ` + onDrive("activation-key.txt"),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "token"); err != nil {
				return err
			}
			if opts.replacesGroup != "" && opts.replaces == "" {
				return usageErrorf(cmd, "--replaces-resource-group needs --replaces NAME")
			}
			if opts.qrDir != "" && opts.out == "" {
				return usageErrorf(cmd, "--qr needs --out KEY: the key is fetched only with --out")
			}
			if opts.out != "" {
				if err := opts.release().check(cmd, env); err != nil {
					return err
				}
			}
			return opts.azure.run(cmd, env, func(ctx context.Context, req app.SignInRequest) error {
				return runRegister(ctx, cmd, opts, req)
			})
		},
	}
	cmd.Flags().StringVar(&opts.token, "token", "", "registration token `FILE`, or - for standard input (paste, then "+eofKeys+")")
	cmd.Flags().StringVar(&opts.name, "name", "", "registration resource `NAME` (default: AzureStack-<cloud ID>, dated for a capacity renewal)")
	cmd.Flags().StringVar(&opts.group, "resource-group", app.DefaultResourceGroup, "resource `GROUP` of the registration")
	cmd.Flags().StringVar(&opts.location, "location", "", "resource group `LOCATION` (default: the cloud's, e.g. westcentralus)")
	cmd.Flags().StringVar(&opts.replaces, "replaces", "", "a renewal or change: first remove the stamp's registration `NAME` (default: from the token's manifest)")
	cmd.Flags().StringVar(&opts.replacesGroup, "replaces-resource-group", "", "the resource `GROUP` of --replaces (default: azurestack)")
	cmd.Flags().StringVar(&opts.out, "out", "", "also fetch the activation key and write it to `FILE`")
	cmd.Flags().StringVar(&opts.qrDir, "qr", "", "with --out, also save the key as QR frames (PNG) in `DIR`")
	cmd.Flags().BoolVar(&opts.force, "force", false, "replace an existing --out file")
	addReviewFlags(cmd, &opts.review)
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runRegister(ctx context.Context, cmd *cobra.Command, opts *registerOptions, req app.SignInRequest) error {
	env := opts.env
	token, err := env.readArtefact(ctx, "--token", opts.token, app.KindToken, "register")
	if err != nil {
		return err
	}
	progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
	conn, sub, err := opts.azure.signIn(ctx, env, req, progress)
	if err != nil {
		return err
	}
	rreq := app.RegisterRequest{Token: token, Subscription: sub, Name: opts.name, ResourceGroup: opts.group, Location: opts.location}
	if opts.replaces != "" {
		rreq.Replaces = &app.ReplacedRegistration{Name: opts.replaces, ResourceGroup: opts.replacesGroup}
	}
	if reason, rep := token.Renewal(); reason != "" {
		what := "the stamp's registration"
		if rep != nil {
			what = rep.Name
		}
		fmt.Fprintf(env.IO.ErrOut, "  renew: the token is for a %s replacing %s\n", reason, what)
	}
	reg, err := conn.Register(ctx, rreq, verboseOnly(progress))
	if err != nil {
		return err
	}
	if r := reg.Replaced; r != nil {
		fmt.Fprintf(env.IO.Out, "removed %s in resource group %s (subscription %s), which this registration replaces\n", r.Name, r.ResourceGroup, r.Subscription)
	}
	fmt.Fprintf(env.IO.Out, "registered %s in resource group %s (subscription %s): cloud ID %s, billing model %s, locked with %s\n",
		reg.Name, reg.ResourceGroup, reg.Subscription, reg.CloudID, reg.BillingModel, app.RegistrationLockName)
	if opts.out == "" {
		return nil
	}
	key, err := conn.ActivationKey(ctx, app.KeyRequest{Subscription: sub, Name: reg.Name, ResourceGroup: reg.ResourceGroup}, verboseOnly(progress))
	if err != nil {
		return fmt.Errorf("registered, but the activation key is not fetched: %w; run azs-courier activation-key --name %s --out %s", err, reg.Name, opts.out)
	}
	return opts.release().write(ctx, env, key, "activation key of "+reg.Name, "activation key for registration "+reg.Name)
}

// verboseOnly shows the Azure calls' steps only with --verbose, as detail.
func verboseOnly(progress func(app.Event)) func(app.Event) {
	return func(ev app.Event) {
		if ev.Level == app.LevelInfo {
			ev.Level = app.LevelVerbose
		}
		progress(ev)
	}
}

// ---- activation-key ----

type activationKeyOptions struct {
	env    *Env
	azure  azureFlags
	name   string
	group  string
	out    string
	qrDir  string
	force  bool
	review reviewFlags
}

func newActivationKeyCmd(env *Env) *cobra.Command {
	opts := &activationKeyOptions{env: env}
	cmd := &cobra.Command{
		Use:   "activation-key --name NAME --out FILE",
		Short: "Fetch the activation key of a registration (Get-AzsActivationKey)",
		Long: `Activation-key asks Azure for the activation key of a registration (POST
getactivationkey, api-version 2017-06-01), checks that the key carries the
registration's cloud ID, name and resource group, and writes it atomically with
its manifest. With --qr it also saves the key as QR frames (PNG files).`,
		Example: `  azs-courier activation-key --name AzureStack-cd613e30-d8f1-4adf-91b7-584a2265b1f5 --out activation-key.txt
  azs-courier activation-key --name hub01 --out E:\activation-key.txt --qr E:\key-qr`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "name", "out"); err != nil {
				return err
			}
			return opts.azure.run(cmd, env, func(ctx context.Context, req app.SignInRequest) error {
				return runActivationKey(ctx, cmd, opts, req)
			})
		},
	}
	cmd.Flags().StringVar(&opts.name, "name", "", "registration resource `NAME`")
	cmd.Flags().StringVar(&opts.group, "resource-group", app.DefaultResourceGroup, "resource `GROUP` of the registration")
	cmd.Flags().StringVar(&opts.out, "out", "", "write the activation key to `FILE`")
	cmd.Flags().StringVar(&opts.qrDir, "qr", "", "also save the key as QR frames (PNG) in `DIR`")
	cmd.Flags().BoolVar(&opts.force, "force", false, "replace an existing --out file")
	addReviewFlags(cmd, &opts.review)
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runActivationKey(ctx context.Context, cmd *cobra.Command, opts *activationKeyOptions, req app.SignInRequest) error {
	env := opts.env
	if err := opts.release().check(cmd, env); err != nil {
		return err
	}
	progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
	conn, sub, err := opts.azure.signIn(ctx, env, req, progress)
	if err != nil {
		return err
	}
	key, err := conn.ActivationKey(ctx, app.KeyRequest{Subscription: sub, Name: opts.name, ResourceGroup: opts.group}, verboseOnly(progress))
	if err != nil {
		return err
	}
	return opts.release().write(ctx, env, key, "activation key of "+opts.name, "activation key for registration "+opts.name)
}

// ---- unregister ----

type unregisterOptions struct {
	env     *Env
	azure   azureFlags
	name    string
	token   string
	cloudID string
	group   string
	yes     bool
}

func newUnregisterCmd(env *Env) *cobra.Command {
	opts := &unregisterOptions{env: env}
	cmd := &cobra.Command{
		Use:   "unregister (--name NAME | --token FILE | --cloud-id ID)",
		Short: "Remove a registration from Azure (UnRegister-AzsEnvironment)",
		Long: `Unregister finds a registration by name (in --resource-group), or by the cloud ID
of a registration token or given directly (searched in the whole subscription),
removes its lock, deletes it and checks that it is gone. It asks before deleting
unless --yes is given.`,
		Example: `  azs-courier unregister --name AzureStack-cd613e30-d8f1-4adf-91b7-584a2265b1f5
  azs-courier unregister --token registration-token.txt --yes
  azs-courier unregister --cloud-id cd613e30-d8f1-4adf-91b7-584a2265b1f5`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, f := range []string{"name", "token", "cloud-id"} {
				if cmd.Flags().Changed(f) {
					n++
				}
			}
			if n != 1 {
				return usageErrorf(cmd, "give exactly one of --name, --token or --cloud-id")
			}
			return opts.azure.run(cmd, env, func(ctx context.Context, req app.SignInRequest) error {
				return runUnregister(ctx, cmd, opts, req)
			})
		},
	}
	cmd.Flags().StringVar(&opts.name, "name", "", "registration resource `NAME`")
	cmd.Flags().StringVar(&opts.token, "token", "", "find the registration by the cloud ID of this registration token `FILE` (- for standard input)")
	cmd.Flags().StringVar(&opts.cloudID, "cloud-id", "", "find the registration by cloud `ID`")
	cmd.Flags().StringVar(&opts.group, "resource-group", app.DefaultResourceGroup, "resource `GROUP` (for --name)")
	cmd.Flags().BoolVar(&opts.yes, "yes", false, "do not ask for confirmation")
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runUnregister(ctx context.Context, cmd *cobra.Command, opts *unregisterOptions, sreq app.SignInRequest) error {
	env := opts.env
	req := app.UnregisterRequest{Name: opts.name, CloudID: opts.cloudID, ResourceGroup: opts.group}
	if opts.token != "" {
		token, err := env.readArtefact(ctx, "--token", opts.token, app.KindToken, "unregister")
		if err != nil {
			return err
		}
		req.CloudID = token.CloudID
	}
	progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
	conn, sub, err := opts.azure.signIn(ctx, env, sreq, progress)
	if err != nil {
		return err
	}
	req.Subscription = sub
	found, err := conn.FindRegistration(ctx, req)
	if err != nil {
		return err
	}
	if !opts.yes {
		if !env.IO.InTTY || env.Prompter == nil {
			return fmt.Errorf("unregister deletes registration %s (cloud ID %s); add --yes to confirm", found.Name, found.CloudID)
		}
		ok, err := env.Prompter.Confirm(fmt.Sprintf("Remove the lock and delete registration %s in %s (cloud ID %s)?", found.Name, found.ResourceGroup, found.CloudID))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("unregister cancelled; nothing was changed")
		}
	}
	gone, err := conn.Unregister(ctx, app.UnregisterRequest{Subscription: sub, Name: found.Name, ResourceGroup: found.ResourceGroup,
		CloudID: found.CloudID}, verboseOnly(progress))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.IO.Out, "unregistered %s in resource group %s (cloud ID %s)\n", gone.Name, gone.ResourceGroup, gone.CloudID)
	return err
}

// ---- registrations ----

type registrationsOptions struct {
	env   *Env
	azure azureFlags
	group string
	json  bool
}

func newRegistrationsCmd(env *Env) *cobra.Command {
	opts := &registrationsOptions{env: env}
	cmd := &cobra.Command{
		Use:   "registrations",
		Short: "List the Azure Stack registrations in the subscription",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return opts.azure.run(cmd, env, func(ctx context.Context, req app.SignInRequest) error {
				return runRegistrations(ctx, cmd, opts, req)
			})
		},
	}
	cmd.Flags().StringVar(&opts.group, "resource-group", "", "only this resource `GROUP` (default: the whole subscription)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runRegistrations(ctx context.Context, cmd *cobra.Command, opts *registrationsOptions, req app.SignInRequest) error {
	env := opts.env
	conn, sub, err := opts.azure.signIn(ctx, env, req, printEvents(env.IO.ErrOut, verboseFlag(cmd)))
	if err != nil {
		return err
	}
	list, err := conn.Registrations(ctx, sub, opts.group)
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(env.IO.Out, list)
	}
	if len(list) == 0 {
		_, err := fmt.Fprintf(env.IO.Out, "no registrations in subscription %s\n", sub)
		return err
	}
	tw := tabwriter.NewWriter(env.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRESOURCE GROUP\tCLOUD ID\tBILLING MODEL")
	for _, reg := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", reg.Name, reg.ResourceGroup, reg.CloudID, reg.BillingModel)
	}
	return tw.Flush()
}

// run builds the sign-in request from the flags and runs body under the
// command's --timeout, as every Azure command does.
func (f *azureFlags) run(cmd *cobra.Command, env *Env, body func(ctx context.Context, req app.SignInRequest) error) error {
	req, err := f.request(cmd, env)
	if err != nil {
		return err
	}
	return withDeadline(cmd.Context(), f.timeout, opAzure, func(ctx context.Context) error { return body(ctx, req) })
}

func (o *registerOptions) release() *release {
	return &release{out: o.out, qrDir: o.qrDir, force: o.force, review: o.review}
}

func (o *activationKeyOptions) release() *release {
	return &release{out: o.out, qrDir: o.qrDir, force: o.force, review: o.review}
}
