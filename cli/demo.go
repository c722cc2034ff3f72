package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

type demoOptions struct {
	env     *Env
	verbose bool
}

func newDemoCmd(env *Env) *cobra.Command {
	opts := &demoOptions{env: env}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole round trip on the built-in simulated stamp and Azure",
		Long: `Demo starts a simulated stamp (privileged endpoint) and a simulated Azure on
this computer and runs the whole registration round trip through them, headless,
printing and checking each step: read the stamp, make the registration token,
save it as a file and as QR codes, read the QR images back, register the token
in Azure, fetch the activation key, carry it back as a file and QR codes,
activate the stamp, check that it is activated, then deactivate and unregister.
Files go through a temporary folder that plays the removable drive; nothing
leaves this computer and the real custody ledger is not touched. It exits 0
only when every step was verified.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.verbose, _ = cmd.Flags().GetBool("verbose")
			return runDemo(cmd.Context(), opts)
		},
	}
	return cmd
}

func runDemo(ctx context.Context, opts *demoOptions) (err error) {
	env := opts.env
	out := env.IO.Out
	progress := printEvents(env.IO.ErrOut, opts.verbose)
	start := time.Now()
	n := 0
	step := func(format string, args ...any) {
		n++
		fmt.Fprintf(out, "%2d. %s\n", n, fmt.Sprintf(format, args...))
	}
	ok := func(format string, args ...any) {
		fmt.Fprintf(out, "    ok: %s\n", fmt.Sprintf(format, args...))
	}

	step("starting the simulated stamp and Azure on loopback")
	svc, t, err := env.service().Training(app.TrainingOptions{TokenDelay: 300 * time.Millisecond, ActivationDelay: 600 * time.Millisecond})
	if err != nil {
		return err
	}
	defer t.Close()
	ok("removable drive stands in as %s", t.Drive)

	step("connecting to the privileged endpoint")
	d, err := svc.ConnectPEP(ctx, t.PEP, progress)
	if err != nil {
		return fmt.Errorf("demo: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := d.Close(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("demo: close the PEP session: %w", cerr)
		}
	}()
	st := d.Stamp()
	if st.CloudID != t.StampCloudID() {
		return fmt.Errorf("demo: stamp cloud ID %s, want %s", st.CloudID, t.StampCloudID())
	}
	ok("stamp %s, cloud ID %s, version %s, %d nodes (via %s)", st.Name, st.CloudID, st.Version, st.Nodes, st.Host)

	step("creating the registration token (Development billing)")
	token, err := d.CreateToken(ctx, app.TokenRequest{BillingModel: "Development"}, progress)
	if err != nil {
		return fmt.Errorf("demo: token: %w", err)
	}
	ok("token of %d characters, SHA-256 %s", token.Length, token.SHA256Groups())

	step("saving the token to the drive as a file and QR codes")
	tokOut, err := svc.Export(ctx, app.ExportRequest{Artefact: token, Dir: t.Drive, QR: true, Sheet: true, Purpose: "demo: token to the connected side"}, progress)
	if err != nil {
		return fmt.Errorf("demo: save the token: %w", err)
	}
	ok("%s (+ manifest), %d QR PNG(s), sheet %s", filepath.Base(tokOut.File), len(tokOut.QRFiles), filepath.Base(tokOut.Sheet))

	step("reading the token back from the QR images and from the file")
	tokQR, _, err := svc.ImportQR(ctx, reversed(tokOut.QRFiles), app.KindToken, progress)
	if err != nil {
		return fmt.Errorf("demo: decode the token's QR codes: %w", err)
	}
	if tokQR.SHA256 != token.SHA256 {
		return fmt.Errorf("demo: the QR codes gave SHA-256 %s, want %s", tokQR.SHA256, token.SHA256)
	}
	tokFile, err := svc.ImportFile(ctx, tokOut.File, app.KindToken)
	if err != nil {
		return fmt.Errorf("demo: read the token file: %w", err)
	}
	if tokFile.SHA256 != token.SHA256 {
		return fmt.Errorf("demo: the token file has SHA-256 %s, want %s", tokFile.SHA256, token.SHA256)
	}
	ok("QR codes and file give the same SHA-256; manifest %s", tokFile.Manifest)

	step("signing in to Azure and registering the token")
	conn, err := svc.SignIn(ctx, t.Azure, progress)
	if err != nil {
		return fmt.Errorf("demo: sign in: %w", err)
	}
	name := app.DefaultRegistrationName(tokQR.CloudID)
	reg, err := conn.Register(ctx, app.RegisterRequest{Token: tokQR, Subscription: t.Subscription, Name: name}, progress)
	if err != nil {
		return fmt.Errorf("demo: register: %w", err)
	}
	if reg.CloudID != st.CloudID {
		return fmt.Errorf("demo: registration %s has cloud ID %s, want %s", reg.Name, reg.CloudID, st.CloudID)
	}
	ok("registration %s in resource group %s, subscription %s", reg.Name, reg.ResourceGroup, reg.Subscription)

	step("fetching the activation key")
	key, err := conn.ActivationKey(ctx, app.KeyRequest{Subscription: t.Subscription, Name: reg.Name, ResourceGroup: reg.ResourceGroup}, progress)
	if err != nil {
		return fmt.Errorf("demo: activation key: %w", err)
	}
	ok("key of %d characters for cloud ID %s, SHA-256 %s", key.Length, key.CloudID, key.SHA256Groups())

	step("saving the key to the drive as a file and QR codes")
	keyOut, err := svc.Export(ctx, app.ExportRequest{Artefact: key, Dir: t.Drive, QR: true, Purpose: "demo: key to the disconnected side"}, progress)
	if err != nil {
		return fmt.Errorf("demo: save the key: %w", err)
	}
	ok("%s (+ manifest), %d QR PNG(s)", filepath.Base(keyOut.File), len(keyOut.QRFiles))

	step("reading the key back from the QR images and checking it against the stamp")
	keyQR, _, err := svc.ImportQR(ctx, reversed(keyOut.QRFiles), app.KindKey, progress)
	if err != nil {
		return fmt.Errorf("demo: decode the key's QR codes: %w", err)
	}
	if keyQR.SHA256 != key.SHA256 {
		return fmt.Errorf("demo: the QR codes gave SHA-256 %s, want %s", keyQR.SHA256, key.SHA256)
	}
	if err := d.CheckKey(keyQR); err != nil {
		return fmt.Errorf("demo: check the key: %w", err)
	}
	ok("same SHA-256; the key's cloud ID is the stamp's")

	step("activating the stamp")
	if err := d.Activate(ctx, keyQR, progress); err != nil {
		return fmt.Errorf("demo: activate: %w", err)
	}
	if !t.StampActivated() {
		return errors.New("demo: the simulated stamp is not activated after New-AzureStackActivation")
	}
	ok("the simulated stamp reports itself activated")

	step("renewing the registration, as every year: the activation removed first, then a new token")
	renewal, err := d.Renew(ctx, app.RenewRequest{Reason: app.ReasonRenewal, Token: app.TokenRequest{BillingModel: "Development"}}, progress)
	if err != nil {
		return fmt.Errorf("demo: renew: %w", err)
	}
	if t.StampActivated() {
		return errors.New("demo: the simulated stamp is still activated after the renewal started")
	}
	renOut, err := svc.Export(ctx, app.ExportRequest{Artefact: renewal, Dir: t.Drive, FileName: "renewal-token.txt"}, progress)
	if err != nil {
		return fmt.Errorf("demo: save the renewal's token: %w", err)
	}
	renFile, err := svc.ImportFile(ctx, renOut.File, app.KindToken)
	if err != nil {
		return fmt.Errorf("demo: read the renewal's token: %w", err)
	}
	if reason, rep := renFile.Renewal(); reason != app.ReasonRenewal || rep == nil || rep.Name != reg.Name {
		return fmt.Errorf("demo: the renewal's token file says %q replacing %+v, want the renewal of %s", reason, rep, reg.Name)
	}
	ok("%s, marked as the renewal of %s", filepath.Base(renOut.File), reg.Name)

	step("registering the renewal's token: the old registration removed first")
	reg2, err := conn.Register(ctx, app.RegisterRequest{Token: renFile, Subscription: t.Subscription}, progress)
	if err != nil {
		return fmt.Errorf("demo: register the renewal: %w", err)
	}
	if reg2.Replaced == nil || reg2.Replaced.Name != reg.Name || len(t.Registrations()) != 1 {
		return fmt.Errorf("demo: the renewal registered %s replacing %+v; the simulated Azure holds %v", reg2.Name, reg2.Replaced, t.Registrations())
	}
	ok("removed %s, registered %s", reg.Name, reg2.Name)
	key2, err := conn.ActivationKey(ctx, app.KeyRequest{Subscription: t.Subscription, Name: reg2.Name, ResourceGroup: reg2.ResourceGroup}, progress)
	if err != nil {
		return fmt.Errorf("demo: the renewal's activation key: %w", err)
	}
	if err := d.Activate(ctx, key2, progress); err != nil {
		return fmt.Errorf("demo: activate with the renewal's key: %w", err)
	}
	stamps, err := svc.Stamps()
	if err != nil || len(stamps) != 1 || stamps[0].Workflow != nil || !t.StampActivated() {
		return fmt.Errorf("demo: after the renewal's activation the stamp's profile is %+v (%v)", stamps, err)
	}
	ok("activated again; the stamp's profile says the renewal is finished")
	reg = reg2

	step("removing the activation")
	if err := d.Deactivate(ctx, progress); err != nil {
		return fmt.Errorf("demo: deactivate: %w", err)
	}
	if t.StampActivated() {
		return errors.New("demo: the simulated stamp is still activated after Remove-AzureStackActivation")
	}
	ok("the simulated stamp is no longer activated")

	step("unregistering in Azure")
	if _, err := conn.Unregister(ctx, app.UnregisterRequest{Subscription: t.Subscription, Name: reg.Name, ResourceGroup: reg.ResourceGroup}, progress); err != nil {
		return fmt.Errorf("demo: unregister: %w", err)
	}
	if left := t.Registrations(); len(left) != 0 {
		return fmt.Errorf("demo: the simulated Azure still holds %v after unregistering", left)
	}
	ok("the simulated Azure holds no registration")

	step("verifying the demo's custody ledger")
	ls := svc.LedgerStatus()
	if !ls.Intact {
		return fmt.Errorf("demo: custody ledger broken: %s", ls.Problem)
	}
	ok("%d entries, chain intact", ls.Entries)

	fmt.Fprintf(out, "demo: every step verified in %.1f s\n", time.Since(start).Seconds())
	return nil
}

// reversed returns a copy of s in reverse order: the demo feeds QR images
// last part first, as a person picking files may.
func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}
