package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/courier"
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
	pollInterval  time.Duration
}

func addAzureFlags(cmd *cobra.Command, f *azureFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.cloud, "cloud", azure.CloudPublic, "Azure cloud: AzureCloud, AzureUSGovernment or AzureChinaCloud")
	fl.StringVar(&f.armEndpoint, "arm-endpoint", "", "custom cloud: Resource Manager `URL` (with --authority-host)")
	fl.StringVar(&f.authorityHost, "authority-host", "", "custom cloud: Entra ID authority `URL` (with --arm-endpoint)")
	fl.StringVar(&f.caFile, "ca-file", "", "custom cloud: PEM `FILE` of CA certificates the authority and ARM connections trust")
	fl.StringVar(&f.auth, "auth", string(azure.AuthDeviceCode), "sign-in: device-code, browser, azure-cli or environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)")
	fl.StringVar(&f.tenant, "tenant", "", "Entra ID tenant `ID` to sign in to")
	fl.StringVar(&f.subscription, "subscription", "", "Azure subscription `ID`; asked for when the account has several")
	fl.DurationVar(&f.retryDelay, "retry-delay", 0, "first delay between retries of failed Azure requests (default 800ms)")
	fl.DurationVar(&f.pollInterval, "poll-interval", 0, "wait between checks of the resource provider's state (default 5s)")
	_ = fl.MarkHidden("retry-delay")
	_ = fl.MarkHidden("poll-interval")
}

// azureCloud returns the cloud the flags name.
func (f *azureFlags) azureCloud(cmd *cobra.Command) (azure.Cloud, error) {
	if f.armEndpoint != "" || f.authorityHost != "" {
		if f.armEndpoint == "" || f.authorityHost == "" {
			return azure.Cloud{}, usageErrorf(cmd, "a custom cloud needs both --arm-endpoint and --authority-host")
		}
		if cmd.Flags().Changed("cloud") {
			return azure.Cloud{}, usageErrorf(cmd, "give either --cloud or --arm-endpoint with --authority-host, not both")
		}
		c, err := azure.CustomCloud(f.armEndpoint, f.authorityHost, f.caFile)
		if err != nil {
			return azure.Cloud{}, &UsageError{Err: err, Command: cmd.CommandPath()}
		}
		return c, nil
	}
	if f.caFile != "" {
		return azure.Cloud{}, usageErrorf(cmd, "--ca-file applies to a custom cloud; add --arm-endpoint and --authority-host")
	}
	c, err := azure.LookupCloud(f.cloud)
	if err != nil {
		return azure.Cloud{}, &UsageError{Err: err, Command: cmd.CommandPath()}
	}
	return c, nil
}

// validate checks the Azure flags without using the network, so that usage
// errors come before any file is read or any sign-in starts.
func (f *azureFlags) validate(cmd *cobra.Command) error {
	if _, err := f.azureCloud(cmd); err != nil {
		return err
	}
	if _, err := azure.ParseAuthMethod(f.auth); err != nil {
		return &UsageError{Err: err, Command: cmd.CommandPath()}
	}
	return nil
}

// newRegistrar signs in and returns a Registrar for the chosen subscription.
func (e *Env) newRegistrar(ctx context.Context, cmd *cobra.Command, f *azureFlags) (*azure.Registrar, error) {
	c, err := f.azureCloud(cmd)
	if err != nil {
		return nil, err
	}
	method, err := azure.ParseAuthMethod(f.auth)
	if err != nil {
		return nil, &UsageError{Err: err, Command: cmd.CommandPath()}
	}
	retry := policy.RetryOptions{RetryDelay: f.retryDelay}
	if f.retryDelay > 0 {
		retry.MaxRetryDelay = 30 * f.retryDelay
	}
	cred, err := azure.NewCredential(c, azure.CredentialOptions{
		Method: method, TenantID: f.tenant, Retry: retry,
		UserPrompt: func(_ context.Context, dc azure.DeviceCode) error {
			fmt.Fprintln(e.IO.ErrOut, dc.Message)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	copts := &azure.ClientOptions{Retry: retry}
	sub := f.subscription
	if sub == "" {
		if sub, err = e.pickSubscription(ctx, c, cred, copts); err != nil {
			return nil, err
		}
	}
	verbose, _ := cmd.Flags().GetBool("verbose")
	progress := printEvents(e.IO.ErrOut, verbose)
	return azure.NewRegistrar(azure.Options{
		Cloud: c, Credential: cred, SubscriptionID: sub, Client: *copts, PollInterval: f.pollInterval,
		Progress: func(step, msg string) { progress(Event{Step: step, Message: msg, Fraction: -1, Level: LevelVerbose}) },
	})
}

// pickSubscription returns the only subscription, or asks which one to use,
// or fails listing them when there is no terminal to ask on.
func (e *Env) pickSubscription(ctx context.Context, c azure.Cloud, cred azcore.TokenCredential, o *azure.ClientOptions) (string, error) {
	subs, err := azure.ListSubscriptions(ctx, c, cred, o)
	if err != nil {
		return "", azureError(err)
	}
	var enabled []azure.Subscription
	for _, s := range subs {
		if st := azDeref(s.State); st == "" || strings.EqualFold(st, "Enabled") {
			enabled = append(enabled, s)
		}
	}
	switch len(enabled) {
	case 0:
		return "", errors.New("the signed-in account has no enabled Azure subscription; sign in with another account or --tenant")
	case 1:
		return azDeref(enabled[0].SubscriptionID), nil
	}
	var list []string
	for _, s := range enabled {
		list = append(list, fmt.Sprintf("%s (%s)", azDeref(s.SubscriptionID), azDeref(s.DisplayName)))
	}
	if e.IO.InTTY && e.Prompter != nil {
		for _, s := range enabled {
			ok, err := e.Prompter.Confirm(fmt.Sprintf("Use subscription %s (%s)?", azDeref(s.SubscriptionID), azDeref(s.DisplayName)))
			if err != nil && !errors.Is(err, ErrNoTerminal) {
				return "", err
			}
			if ok {
				return azDeref(s.SubscriptionID), nil
			}
		}
	}
	return "", fmt.Errorf("the account has %d subscriptions: %s; choose one with --subscription ID", len(enabled), strings.Join(list, ", "))
}

func azDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// azureError turns azure's identity mismatches into courier's, so that they
// end with exit status 3 like every other integrity or identity check.
func azureError(err error) error {
	var me *azure.MismatchError
	if errors.As(err, &me) {
		return &courier.MismatchError{What: me.What, Want: me.Want, Got: me.Got,
			Fix: "check --name, --resource-group and --subscription; do not use this key"}
	}
	return err
}

// ---- register ----

type registerOptions struct {
	env      *Env
	azure    azureFlags
	token    string
	name     string
	group    string
	location string
}

func newRegisterCmd(env *Env) *cobra.Command {
	opts := &registerOptions{env: env}
	cmd := &cobra.Command{
		Use:   "register --token FILE|- --name NAME",
		Short: "Register a stamp's registration token in Azure (Register-AzsEnvironment)",
		Long: `Register creates the Microsoft.AzureStack registration resource for a registration
token: it registers the resource provider and waits until it is registered,
creates or updates the resource group, PUTs the registration (api-version
2017-06-01, location global) and locks it (CanNotDelete lock
RegistrationResourceLock), as Register-AzsEnvironment does. Before any write it
checks that no other registration holds the token's cloud ID. Running it again
with the same token and name succeeds without change.`,
		Example: `  azs-courier register --token registration-token.txt --name azurestack-cd613e30
  azs-courier register --token - --name hub01 --resource-group azurestack --subscription 00000000-…`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "token", "name"); err != nil {
				return err
			}
			if err := opts.azure.validate(cmd); err != nil {
				return err
			}
			return runRegister(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.token, "token", "", "registration token `FILE`, or - for standard input")
	cmd.Flags().StringVar(&opts.name, "name", "", "registration resource `NAME`")
	cmd.Flags().StringVar(&opts.group, "resource-group", azure.DefaultResourceGroup, "resource `GROUP` of the registration")
	cmd.Flags().StringVar(&opts.location, "location", "", "resource group `LOCATION` (default: the cloud's, e.g. westcentralus)")
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runRegister(ctx context.Context, cmd *cobra.Command, opts *registerOptions) error {
	env := opts.env
	a, err := env.readArtefact(ctx, opts.token, courier.KindToken, "register")
	if err != nil {
		return err
	}
	r, err := env.newRegistrar(ctx, cmd, &opts.azure)
	if err != nil {
		return azureError(err)
	}
	info, err := r.Register(ctx, a.Text, a.CloudID(), opts.name, opts.group, opts.location)
	entry := courier.Entry{Step: "register", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(), Outcome: "ok"}
	if err != nil {
		entry.Outcome = outcome(err)
		env.record(entry)
		return azureError(err)
	}
	entry.Detail = "registration " + info.ID
	env.record(entry)
	fmt.Fprintf(env.IO.Out, "registered %s in resource group %s (subscription %s): cloud ID %s, billing model %s, locked with %s\n",
		info.Name, info.ResourceGroup, info.SubscriptionID, info.CloudID, info.BillingModel, azure.LockName)
	return nil
}

// ---- activation-key ----

type activationKeyOptions struct {
	env   *Env
	azure azureFlags
	name  string
	group string
	out   string
	qrDir string
	force bool
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
		Example: `  azs-courier activation-key --name azurestack-cd613e30 --out activation-key.txt
  azs-courier activation-key --name hub01 --out E:\activation-key.txt --qr E:\key-qr`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "name", "out"); err != nil {
				return err
			}
			if err := opts.azure.validate(cmd); err != nil {
				return err
			}
			return runActivationKey(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.name, "name", "", "registration resource `NAME`")
	cmd.Flags().StringVar(&opts.group, "resource-group", azure.DefaultResourceGroup, "resource `GROUP` of the registration")
	cmd.Flags().StringVar(&opts.out, "out", "", "write the activation key to `FILE`")
	cmd.Flags().StringVar(&opts.qrDir, "qr", "", "also save the key as QR frames (PNG) in `DIR`")
	cmd.Flags().BoolVar(&opts.force, "force", false, "replace an existing --out file")
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runActivationKey(ctx context.Context, cmd *cobra.Command, opts *activationKeyOptions) error {
	env := opts.env
	if !opts.force {
		if err := courier.CheckNew(opts.out); err != nil {
			return err
		}
	}
	r, err := env.newRegistrar(ctx, cmd, &opts.azure)
	if err != nil {
		return azureError(err)
	}
	key, err := r.ActivationKey(ctx, opts.name, opts.group)
	if err != nil {
		return azureError(err)
	}
	a, err := courier.Parse([]byte(key.Key))
	if err != nil {
		return fmt.Errorf("the activation key Azure returned for %s is not readable: %w", opts.name, err)
	}
	if a.Kind != courier.KindKey {
		return &courier.MismatchError{What: "kind of what Azure returned", Want: courier.KindKey.Title(), Got: a.Kind.Title()}
	}
	if want := key.Registration.CloudID; want != "" && !strings.EqualFold(a.CloudID(), want) {
		return &courier.MismatchError{What: "cloud ID of the activation key for " + opts.name, Want: want, Got: a.CloudID(),
			Fix: "do not use this key; check the registration in Azure"}
	}
	if err := env.writeArtefact(ctx, opts.out, a, "activation key for registration "+key.Registration.Name, opts.force); err != nil {
		return err
	}
	fmt.Fprintf(env.IO.Out, "wrote the activation key of %s (cloud ID %s, SHA-256 %s) to %s\n",
		key.Registration.Name, a.CloudID(), GroupHash(a.SHA256), opts.out)
	if opts.qrDir != "" {
		n, err := env.writeQR(ctx, opts.qrDir, a, opts.force)
		if err != nil {
			return fmt.Errorf("the key file is written, but the QR frames are not: %w; run 'azs-courier qr encode %s --out DIR'", err, opts.out)
		}
		fmt.Fprintf(env.IO.Out, "saved %d QR frame(s) in %s\n", n, opts.qrDir)
	}
	return nil
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
		Example: `  azs-courier unregister --name azurestack-cd613e30
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
			if err := opts.azure.validate(cmd); err != nil {
				return err
			}
			return runUnregister(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.name, "name", "", "registration resource `NAME`")
	cmd.Flags().StringVar(&opts.token, "token", "", "find the registration by the cloud ID of this registration token `FILE` (- for standard input)")
	cmd.Flags().StringVar(&opts.cloudID, "cloud-id", "", "find the registration by cloud `ID`")
	cmd.Flags().StringVar(&opts.group, "resource-group", azure.DefaultResourceGroup, "resource `GROUP` (for --name)")
	cmd.Flags().BoolVar(&opts.yes, "yes", false, "do not ask for confirmation")
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runUnregister(ctx context.Context, cmd *cobra.Command, opts *unregisterOptions) error {
	env := opts.env
	req := azure.UnregisterRequest{Name: opts.name, CloudID: opts.cloudID, ResourceGroup: opts.group}
	if opts.token != "" {
		a, err := env.readArtefact(ctx, opts.token, courier.KindToken, "unregister")
		if err != nil {
			return err
		}
		req.CloudID = a.CloudID()
	}
	r, err := env.newRegistrar(ctx, cmd, &opts.azure)
	if err != nil {
		return azureError(err)
	}
	found, err := r.Find(ctx, req)
	if err != nil {
		return azureError(err)
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
	gone, err := r.Unregister(ctx, azure.UnregisterRequest{Name: found.Name, ResourceGroup: found.ResourceGroup, CloudID: found.CloudID})
	entry := courier.Entry{Step: "unregister", CloudID: found.CloudID, Outcome: "ok", Detail: "registration " + found.ID}
	if err != nil {
		entry.Outcome = outcome(err)
		env.record(entry)
		return azureError(err)
	}
	env.record(entry)
	fmt.Fprintf(env.IO.Out, "unregistered %s in resource group %s (cloud ID %s)\n", gone.Name, gone.ResourceGroup, gone.CloudID)
	return nil
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
			if err := opts.azure.validate(cmd); err != nil {
				return err
			}
			return runRegistrations(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.group, "resource-group", "", "only this resource `GROUP` (default: the whole subscription)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	addAzureFlags(cmd, &opts.azure)
	return cmd
}

func runRegistrations(ctx context.Context, cmd *cobra.Command, opts *registrationsOptions) error {
	env := opts.env
	r, err := env.newRegistrar(ctx, cmd, &opts.azure)
	if err != nil {
		return azureError(err)
	}
	list, err := r.List(ctx, opts.group)
	if err != nil {
		return azureError(err)
	}
	if opts.json {
		if list == nil {
			list = []azure.RegistrationInfo{}
		}
		enc := json.NewEncoder(env.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintf(env.IO.Out, "no registrations in subscription %s\n", r.SubscriptionID())
		return nil
	}
	tw := tabwriter.NewWriter(env.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRESOURCE GROUP\tCLOUD ID\tBILLING MODEL")
	for _, reg := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", reg.Name, reg.ResourceGroup, reg.CloudID, reg.BillingModel)
	}
	return tw.Flush()
}
