package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

// pepFlags are the flags every disconnected-side command takes. The
// password is never a flag: it comes from --password-stdin,
// AZS_PEP_PASSWORD or a prompt without echo.
type pepFlags struct {
	stamp         string
	hosts         string
	user          string
	passwordStdin bool
	trace         string
	traceForce    bool
	https         bool
	caFile        string
	timeout       time.Duration
	transcripts   string
	shareUser     string

	pwFrom string // where password found it, for hints on a refused password
}

// refused adds a hint to err, the PEP refusing the password, when the
// password came from a pipe or the environment and ends in white space:
// cmd's "echo secret | azs-courier" and "set AZS_PEP_PASSWORD=secret &&"
// both keep the space before the operator.
func (f *pepFlags) refused(err error, pw string) error {
	if f.pwFrom == "" || !errors.Is(err, app.ErrPEPCredentials) || strings.TrimRight(pw, " \t") == pw {
		return err
	}
	return fmt.Errorf("%w; the password from %s ends with a space, which is part of it: in cmd write the operator without a space before it (echo secret| ..., set %s=secret&& ...)", err, f.pwFrom, pepPasswordEnv)
}

func addPEPFlags(cmd *cobra.Command, f *pepFlags, timeout time.Duration) {
	addTimeoutFlag(cmd, &f.timeout, timeout)
	fl := cmd.Flags()
	fl.StringVar(&f.stamp, "stamp", "", "a remembered stamp's `NAME` or cloud ID, for its ERCS addresses and account (see 'azs-courier stamps')")
	fl.StringVar(&f.hosts, "pep", "", "ERCS VM address(es) of the privileged endpoint: `HOST[:PORT][,HOST...]`, tried in order")
	fl.StringVar(&f.user, "user", "", "PEP account, `DOMAIN\\CloudAdmin`")
	fl.BoolVar(&f.passwordStdin, "password-stdin", false, "read the PEP password from the first line of standard input"+stdinHint)
	fl.BoolVar(&f.https, "https", false, "use WinRM over HTTPS (port 5986, certificate verified) instead of NTLM-sealed HTTP on 5985")
	fl.StringVar(&f.caFile, "ca-file", "", "with --https, trust the PEM certificates in `FILE` (default: the system's)")
	fl.StringVar(&f.trace, "trace", "", "record the decrypted WS-Man exchange to a new `FILE` (pypsrp format; the password is never written)")
	fl.BoolVar(&f.traceForce, "force-trace", false, "replace an existing --trace file")
	fl.StringVar(&f.transcripts, "transcripts", "", `when closing, export the session transcripts to the share `+"`"+`\\SERVER\SHARE\FOLDER`+"`"+` (Close-PrivilegedEndpoint -TranscriptsPathDestination)`)
	fl.StringVar(&f.shareUser, "transcripts-user", "", `account that may write to the --transcripts share, DOMAIN\user (password: `+transcriptsPasswordEnv+` or a prompt)`)
}

// transcriptsPasswordEnv holds the password of the --transcripts share.
const transcriptsPasswordEnv = "AZS_TRANSCRIPTS_PASSWORD"

// check reports missing flags as usage errors, before any prompt or
// connection.
func (f *pepFlags) check(cmd *cobra.Command, env *Env) error {
	if f.stamp != "" {
		// A remembered stamp gives the addresses (the last one that
		// answered first) and the account; --pep and --user override.
		p, err := env.service().FindStamp(f.stamp)
		if err != nil {
			return usageErrorf(cmd, "--stamp: %v", err)
		}
		if f.hosts == "" {
			f.hosts = strings.Join(p.Hosts, ",")
		}
		if f.user == "" {
			f.user = p.User
		}
	}
	if len(app.ParseHosts(f.hosts)) == 0 {
		return usageErrorf(cmd, "--pep is required: give the ERCS VM address(es), e.g. --pep 10.0.0.224,10.0.0.225, or a remembered stamp with --stamp")
	}
	if strings.TrimSpace(f.user) == "" {
		return usageErrorf(cmd, `--user is required: give the PEP account, e.g. --user AZS\CloudAdmin`)
	}
	if f.caFile != "" && !f.https {
		return usageErrorf(cmd, "--ca-file applies to --https only")
	}
	if f.traceForce && f.trace == "" {
		return usageErrorf(cmd, "--force-trace applies to --trace only")
	}
	switch {
	case f.transcripts == "" && f.shareUser != "":
		return usageErrorf(cmd, "--transcripts-user needs --transcripts")
	case f.transcripts != "" && f.shareUser == "":
		return usageErrorf(cmd, `--transcripts needs --transcripts-user DOMAIN\user, the account that may write to the share`)
	case f.transcripts != "" && !strings.HasPrefix(f.transcripts, `\\`):
		return usageErrorf(cmd, `--transcripts %q is not a share; give it as \\SERVER\SHARE\FOLDER`, f.transcripts)
	}
	if d, u, ok := strings.Cut(f.shareUser, `\`); f.shareUser != "" && (!ok || d == "" || u == "") {
		return usageErrorf(cmd, `--transcripts-user %q is not DOMAIN\user`, f.shareUser)
	}
	if _, _, ok := strings.Cut(f.user, `\`); !ok {
		return usageErrorf(cmd, `--user %q is not DOMAIN\name; give the stamp's PEP account, e.g. AZS\CloudAdmin`, f.user)
	}
	return nil
}

// password returns the PEP password from stdin, the environment or a
// prompt, in that order.
func (f *pepFlags) password(env *Env) (string, error) {
	if f.passwordStdin {
		line, err := bufio.NewReader(env.IO.In).ReadBytes('\n')
		if err != nil && len(line) == 0 {
			return "", errors.New("--password-stdin: standard input is empty; pipe the password in")
		}
		p := strings.TrimRight(decodeInput(line, inputCodePage()), "\r\n")
		if p == "" {
			return "", errors.New("--password-stdin: the first line of standard input is empty; pipe the password in")
		}
		f.pwFrom = "the first line of standard input"
		return p, nil
	}
	if p := env.getenv(pepPasswordEnv); p != "" {
		f.pwFrom = pepPasswordEnv
		return p, nil
	}
	p, err := env.Prompter.Password(fmt.Sprintf("Password for %s: ", f.user))
	if errors.Is(err, ErrNoTerminal) {
		return "", fmt.Errorf("no PEP password: no terminal to ask on; use --password-stdin or set %s", pepPasswordEnv)
	}
	if err != nil {
		return "", fmt.Errorf("read the PEP password: %w", err)
	}
	if p == "" {
		return "", errors.New("empty PEP password; enter the CloudAdmin password")
	}
	return p, nil
}

// sharePassword returns the --transcripts share's password from the
// environment or a prompt without echo.
func (f *pepFlags) sharePassword(env *Env) (string, error) {
	if p := env.getenv(transcriptsPasswordEnv); p != "" {
		return p, nil
	}
	p, err := env.Prompter.Password(fmt.Sprintf("Password for %s on %s: ", f.shareUser, f.transcripts))
	if errors.Is(err, ErrNoTerminal) {
		return "", fmt.Errorf("no password for the --transcripts share: no terminal to ask on; set %s", transcriptsPasswordEnv)
	}
	if err != nil {
		return "", fmt.Errorf("read the share's password: %w", err)
	}
	if p == "" {
		return "", errors.New("empty password for the --transcripts share; enter the password of " + f.shareUser)
	}
	return p, nil
}

// session opens the PEP session, runs use on it, and closes it
// (Close-PrivilegedEndpoint, exporting the transcripts with --transcripts,
// then Delete). A failed transcript export fails the command; another
// failure to close is a warning, since the work is done.
func (f *pepFlags) session(ctx context.Context, env *Env, progress func(app.Event), use func(d *app.Disconnected) error) error {
	d, done, err := f.connect(ctx, env, progress)
	if err != nil {
		return err
	}
	err = use(d)
	if cerr := done(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// connect opens the PEP session through the disconnected use cases, with
// the trace file when --trace is given. The returned cleanup closes the
// session and the trace file, and returns a failed transcript export.
func (f *pepFlags) connect(ctx context.Context, env *Env, progress func(app.Event)) (*app.Disconnected, func() error, error) {
	pw, err := f.password(env)
	if err != nil {
		return nil, nil, err
	}
	conn := app.PEPConnection{Hosts: app.ParseHosts(f.hosts), User: f.user, Password: pw, HTTPS: f.https, CAFile: f.caFile}
	if f.transcripts != "" {
		spw, err := f.sharePassword(env)
		if err != nil {
			return nil, nil, err
		}
		conn.Transcripts = &app.TranscriptExport{Path: f.transcripts, User: f.shareUser, Password: spw}
	}
	if s := env.getenv("AZS_PEP_RETRY_DELAY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, nil, fmt.Errorf("AZS_PEP_RETRY_DELAY=%q is not a duration; use e.g. 10s", s)
		}
		if d == 0 {
			d = time.Nanosecond // zero means the module's default to ConnectPEP
		}
		conn.RetryDelay = d
	}
	var trace io.WriteCloser
	if f.trace != "" {
		if trace, err = app.OpenTrace(f.trace, f.traceForce); err != nil {
			return nil, nil, err
		}
		conn.Trace = trace
	}
	d, err := env.service().ConnectPEP(ctx, conn, progress)
	if err != nil {
		if trace != nil {
			trace.Close()
		}
		return nil, nil, f.refused(err, pw)
	}
	cleanup := func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		var failed error
		if err := d.Close(cctx); errors.Is(err, app.ErrTranscripts) {
			failed = err
		} else if err != nil {
			fmt.Fprintf(env.IO.ErrOut, "warning: closing the PEP session: %s\n", app.OneLine(err.Error()))
		} else if conn.Transcripts != nil {
			fmt.Fprintf(env.IO.ErrOut, "  close: the session transcripts are exported to %s\n", conn.Transcripts.Path)
		}
		if trace != nil {
			if err := trace.Close(); err != nil {
				fmt.Fprintf(env.IO.ErrOut, "warning: trace file: %s\n", app.OneLine(err.Error()))
			}
		}
		return failed
	}
	return d, cleanup, nil
}

// stampJSON is what `stamp --json` prints.
type stampJSON struct {
	Host         string `json:"host"`
	Name         string `json:"name"`
	CloudID      string `json:"cloudId"`
	StampVersion string `json:"stampVersion"`
	Nodes        int    `json:"nodes"`
	ExternalFQDN string `json:"externalFqdn,omitempty"`
}

func newStampCmd(env *Env) *cobra.Command {
	var f pepFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stamp",
		Short: "Show the stamp's cloud ID, version and node count (Get-AzureStackStampInformation)",
		Example: `  azs-courier stamp --pep 10.0.0.224,10.0.0.225 --user AZS\CloudAdmin
` + passwordEnvExample,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(cmd, env); err != nil {
				return err
			}
			return withDeadline(cmd.Context(), f.timeout, opStamp, func(ctx context.Context) error {
				return f.session(ctx, env, printEvents(env.IO.ErrOut, verboseFlag(cmd)), func(d *app.Disconnected) error {
					s := d.Stamp()
					if asJSON {
						return printJSON(env.IO.Out, stampJSON{Host: s.Host, Name: s.Name, CloudID: s.CloudID, StampVersion: s.Version, Nodes: s.Nodes, ExternalFQDN: s.ExternalFQDN})
					}
					_, err := fmt.Fprintf(env.IO.Out, "stamp:          %s\ncloud ID:       %s\nstamp version:  %s\nnodes:          %d\nexternal FQDN:  %s\nERCS address:   %s\n",
						s.Name, s.CloudID, s.Version, s.Nodes, s.ExternalFQDN, s.Host)
					return err
				})
			})
		},
	}
	addPEPFlags(cmd, &f, timeoutStamp)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stamp information as JSON")
	return cmd
}

// tokenOptions are the flags of `token`.
type tokenOptions struct {
	req    app.TokenRequest
	out    string
	qrDir  string
	force  bool
	review reviewFlags
}

func newTokenCmd(env *Env) *cobra.Command {
	var f pepFlags
	var o tokenOptions
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create the registration token on the stamp (New-RegistrationToken) and write it to a file",
		Long: `Create the registration token on the stamp with New-RegistrationToken and write it
atomically to --out, with a sidecar manifest and a custody ledger entry. With --qr
it also saves the token as QR frames (PNG) for the trip across the air gap.

Capacity needs --agreement-number and keeps usage reporting off; Custom needs
--ms-asset-tag and a stamp of version 1.1912.0.19 or later.`,
		Example: `  azs-courier token --pep 10.0.0.224 --user AZS\CloudAdmin --billing-model Capacity --agreement-number 1234567 --out ` +
			onDrive("registration-token.txt") + ` --qr ` + onDrive("token-qr"),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(cmd, env); err != nil {
				return err
			}
			if err := requireFlags(cmd, "billing-model", "out"); err != nil {
				return err
			}
			if err := validateTokenFlags(cmd, &o); err != nil {
				return err
			}
			rel := release{out: o.out, qrDir: o.qrDir, force: o.force, review: o.review}
			if err := rel.check(cmd, env); err != nil {
				return err
			}
			var view *app.ArtefactView
			var stamp app.StampView
			err := withDeadline(cmd.Context(), f.timeout, opToken, func(ctx context.Context) error {
				progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
				return f.session(ctx, env, progress, func(d *app.Disconnected) error {
					stamp = d.Stamp()
					if err := o.req.Validate(stamp.Version); err != nil {
						return err
					}
					var err error
					view, err = d.CreateToken(ctx, o.req, progress)
					return err
				})
			})
			if err != nil {
				return err
			}
			return rel.write(cmd.Context(), env, view, "registration token", "registration token from stamp "+stamp.CloudID)
		},
	}
	addPEPFlags(cmd, &f, timeoutToken)
	fl := cmd.Flags()
	fl.StringVar(&o.req.BillingModel, "billing-model", "", "Capacity, Development or Custom")
	fl.StringVar(&o.req.AgreementNumber, "agreement-number", "", "Enterprise Agreement `NUMBER` (Capacity)")
	fl.StringVar(&o.req.MsAssetTag, "ms-asset-tag", "", "MS asset `TAG` (Custom)")
	fl.BoolVar(&o.req.UsageReportingEnabled, "usage-reporting", false, "report usage to Azure (not with Capacity)")
	fl.BoolVar(&o.req.MarketplaceSyndicationEnabled, "marketplace-syndication", false, "allow marketplace syndication")
	fl.StringVar(&o.out, "out", "", "write the token to `FILE`")
	addReviewFlags(cmd, &o.review)
	fl.StringVar(&o.qrDir, "qr", "", "also save the token as QR frames (PNG) in `DIR`")
	fl.BoolVar(&o.force, "force", false, "replace an existing --out file")
	return cmd
}

// validateTokenFlags applies the billing rules that need no stamp, as usage
// errors, before anything is asked or sent.
func validateTokenFlags(cmd *cobra.Command, o *tokenOptions) error {
	for _, m := range []string{app.BillingCapacity, app.BillingDevelopment, app.BillingCustom} {
		if strings.EqualFold(o.req.BillingModel, m) {
			o.req.BillingModel = m
		}
	}
	switch o.req.BillingModel {
	case app.BillingCapacity:
		if strings.TrimSpace(o.req.AgreementNumber) == "" {
			return usageErrorf(cmd, "--billing-model Capacity needs --agreement-number")
		}
		if o.req.UsageReportingEnabled {
			return usageErrorf(cmd, "--billing-model Capacity does not allow usage reporting; drop --usage-reporting")
		}
	case app.BillingCustom:
		if strings.TrimSpace(o.req.MsAssetTag) == "" {
			return usageErrorf(cmd, "--billing-model Custom needs --ms-asset-tag")
		}
	case app.BillingDevelopment:
	default:
		return usageErrorf(cmd, "--billing-model %q is not Capacity, Development or Custom", o.req.BillingModel)
	}
	return nil
}

func newActivateCmd(env *Env) *cobra.Command {
	var f pepFlags
	var keyPath string
	var force bool
	cmd := &cobra.Command{
		Use:   "activate",
		Short: "Activate the stamp with the activation key (New-AzureStackActivation)",
		Long: `Read the activation key (any encoding; "-" reads standard input), check that it was
issued for this stamp's cloud ID, and run New-AzureStackActivation -TimeoutInSeconds 1800.
A key for another stamp is refused (exit status 3) unless --force is given.`,
		Example: `  azs-courier activate --pep 10.0.0.224 --user AZS\CloudAdmin --key ` + onDrive("activation-key.txt"),
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(cmd, env); err != nil {
				return err
			}
			if err := requireFlags(cmd, "key"); err != nil {
				return err
			}
			if keyPath == "-" && f.passwordStdin {
				return usageErrorf(cmd, "--key - and --password-stdin both read standard input; use AZS_PEP_PASSWORD or a key file")
			}
			ctx := cmd.Context()
			view, err := env.readArtefact(ctx, "--key", keyPath, app.KindKey, "activate")
			if err != nil {
				return err
			}
			return withDeadline(ctx, f.timeout, opActivate, func(ctx context.Context) error {
				progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
				return f.session(ctx, env, progress, func(d *app.Disconnected) error {
					if force {
						if err := d.CheckKey(view); err != nil {
							fmt.Fprintf(env.IO.ErrOut, "warning: --force: %s\n", app.OneLine(err.Error()))
						}
						if err := d.ActivateUnchecked(ctx, view, progress); err != nil {
							return err
						}
					} else if err := d.Activate(ctx, view, progress); err != nil {
						return err
					}
					_, err := fmt.Fprintf(env.IO.Out, "activated stamp %s (cloud ID %s)\n", d.Stamp().Name, d.Stamp().CloudID)
					return err
				})
			})
		},
	}
	addPEPFlags(cmd, &f, timeoutActivation)
	cmd.Flags().StringVar(&keyPath, "key", "", "activation key `FILE`, or - for standard input (paste, then "+eofKeys+")")
	cmd.Flags().BoolVar(&force, "force", false, "activate even if the key's cloud ID is not the stamp's")
	return cmd
}

func newDeactivateCmd(env *Env) *cobra.Command {
	var f pepFlags
	var yes bool
	cmd := &cobra.Command{
		Use:     "deactivate",
		Short:   "Remove the stamp's activation (Remove-AzureStackActivation)",
		Example: `  azs-courier deactivate --pep 10.0.0.224 --user AZS\CloudAdmin --yes`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(cmd, env); err != nil {
				return err
			}
			return withDeadline(cmd.Context(), f.timeout, opDeactivate, func(ctx context.Context) error {
				progress := printEvents(env.IO.ErrOut, verboseFlag(cmd))
				return f.session(ctx, env, progress, func(d *app.Disconnected) error {
					if !yes {
						ok, err := env.Prompter.Confirm(fmt.Sprintf("Remove the activation of stamp %s (cloud ID %s)?", d.Stamp().Name, d.Stamp().CloudID))
						if errors.Is(err, ErrNoTerminal) {
							return errors.New("deactivation needs confirmation and there is no terminal to ask on; add --yes")
						}
						if err != nil {
							return err
						}
						if !ok {
							return errors.New("deactivation cancelled; nothing was changed")
						}
					}
					if err := d.Deactivate(ctx, progress); err != nil {
						return err
					}
					_, err := fmt.Fprintf(env.IO.Out, "removed the activation of stamp %s (cloud ID %s)\n", d.Stamp().Name, d.Stamp().CloudID)
					return err
				})
			})
		},
	}
	addPEPFlags(cmd, &f, timeoutActivation)
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}
