package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// PEPConnection says how to reach the privileged endpoint. The password is
// kept in memory only and never logged.
type PEPConnection struct {
	Hosts    []string // ERCS addresses, HOST or HOST:PORT, tried in order
	User     string   // DOMAIN\CloudAdmin
	Password string
	// HTTPS connects to https://HOST:5986/wsman (WinRM over TLS) instead of
	// NTLM-sealed HTTP on 5985; CAFile names PEM certificates to trust for it
	// (empty: the system's).
	HTTPS  bool
	CAFile string
	// RetryDelay is the wait between the module's retries; zero means the
	// module's 10 s. Training and tests use a short one.
	RetryDelay time.Duration
	// Trace, when set, receives the decrypted WS-Man exchange in pypsrp's
	// recording format (the password is redacted); see OpenTrace.
	Trace io.Writer
	// Transcripts, when set, makes Close export the session's transcripts
	// to a share (Close-PrivilegedEndpoint -TranscriptsPathDestination
	// -Credential), as the PEP documentation asks at the end of a session.
	Transcripts *TranscriptExport
}

// TranscriptExport names the share the PEP copies its session transcripts
// to, and the account that may write there. The password stays in memory
// and travels only as a SecureString encrypted for the PEP.
type TranscriptExport struct {
	Path     string // \\server\share\folder
	User     string // DOMAIN\user
	Password string
}

// ErrTranscripts is matched by the error of a session whose transcripts
// could not be exported; the session is closed all the same.
var ErrTranscripts = pep.ErrTranscripts

// ErrPEPCredentials is matched by errors for the PEP refusing the user name
// or password.
var ErrPEPCredentials = pep.ErrUnauthorized

// ParseHosts splits a list of ERCS addresses separated by commas, spaces or
// new lines.
func ParseHosts(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// StampView is the stamp as the GUI shows it after connecting.
type StampView struct {
	Host         string // the ERCS address that answered
	Name         string // region and domain
	CloudID      string
	Version      string
	Nodes        int
	ExternalFQDN string
	// ClockSkew is how far the PEP's clock (its HTTP Date) is ahead of this
	// machine's; more than MaxClockSkew either way is worth a warning.
	ClockSkew time.Duration
}

// MaxClockSkew is how far apart this machine's and the stamp's clocks may
// be before the times in manifests and the ledger stop matching the
// stamp's.
const MaxClockSkew = pep.MaxClockSkew

// Disconnected is an open session on a stamp's privileged endpoint: the
// disconnected side's use cases. Its methods must not run concurrently.
type Disconnected struct {
	svc         *Service
	client      *pep.Client
	stamp       StampView
	transcripts string // the share Close exports the transcripts to, or ""

	mu   sync.Mutex
	sink func(Event) // progress of the running call
}

// ConnectPEP opens a PEP session (trying the ERCS addresses in order) and
// reads the stamp's information.
func (s *Service) ConnectPEP(ctx context.Context, conn PEPConnection, progress func(Event)) (*Disconnected, error) {
	if len(conn.Hosts) == 0 {
		return nil, errors.New("no PEP address given; enter the ERCS VM addresses (HOST or HOST:PORT)")
	}
	if strings.TrimSpace(conn.User) == "" {
		return nil, errors.New(`no PEP user given; enter the CloudAdmin account as DOMAIN\CloudAdmin`)
	}
	if d, u, ok := strings.Cut(strings.TrimSpace(conn.User), `\`); !ok || d == "" || u == "" {
		return nil, fmt.Errorf(`the PEP user %q is not DOMAIN\name; enter the stamp's account, e.g. AZS\CloudAdmin`, Printable(conn.User))
	}
	if conn.Password == "" {
		return nil, errors.New("no password given; enter the CloudAdmin password")
	}
	d := &Disconnected{svc: s, sink: orDiscard(progress)}
	retry := conn.RetryDelay
	if retry == 0 {
		retry = -1
	}
	opts := pep.Options{Hosts: conn.Hosts, User: conn.User, Password: conn.Password,
		HTTPS: conn.HTTPS, RetryDelay: retry, OnEvent: d.onEvent, Trace: conn.Trace}
	if t := conn.Transcripts; t != nil {
		opts.Transcripts = &pep.TranscriptExport{Path: t.Path, User: t.User, Password: t.Password}
		d.transcripts = t.Path
	}
	if conn.CAFile != "" {
		if !conn.HTTPS {
			return nil, errors.New("a CA file applies to HTTPS only; add --https, or leave out --ca-file for NTLM-sealed HTTP")
		}
		pool, err := wsman.LoadCAFile(conn.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read the PEP's CA file: %w", err)
		}
		opts.RootCAs = pool
	}
	// A failed attempt is recorded too: a security officer reviews refused
	// passwords and unreachable endpoints as well as what worked.
	failed := func(err error) error {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return s.env.recordDone(courier.Entry{Step: "connect PEP", Outcome: "ok", Detail: "user " + Printable(conn.User) + " to " + strings.Join(conn.Hosts, ", ")}, err, "")
	}
	c, err := pep.Dial(ctx, opts)
	if err != nil {
		return nil, failed(err)
	}
	d.client = c
	info, err := c.StampInformation(ctx)
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = c.Close(closeCtx)
		return nil, failed(err)
	}
	name := info.RegionName
	if info.DomainFQDN != "" {
		name += " (" + info.DomainFQDN + ")"
	}
	d.stamp = StampView{Host: c.Host(), Name: Printable(name), CloudID: Printable(info.CloudID), Version: Printable(info.StampVersion),
		Nodes: info.NumberOfNodes, ExternalFQDN: Printable(info.ExternalDomainFQDN), ClockSkew: c.ClockSkew()}
	if err := s.env.record(courier.Entry{Step: "connect PEP", CloudID: info.CloudID, Outcome: "ok",
		Detail: fmt.Sprintf("%s, stamp %s, %d nodes", c.Host(), info.StampVersion, info.NumberOfNodes)}); err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = c.Close(closeCtx)
		return nil, err
	}
	s.env.rememberConnection(d.stamp, conn.Hosts, conn.User)
	return d, nil
}

func (d *Disconnected) onEvent(ev pep.Event) {
	d.mu.Lock()
	sink := d.sink
	d.mu.Unlock()
	sink(Event{Step: ev.Step, Message: ev.Message, Fraction: ev.Fraction, Level: Level(ev.Level)})
}

// use routes the session's events to progress for one call.
func (d *Disconnected) use(progress func(Event)) func() {
	d.mu.Lock()
	d.sink = orDiscard(progress)
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		d.sink = orDiscard(nil)
		d.mu.Unlock()
	}
}

// Stamp returns the stamp read when connecting.
func (d *Disconnected) Stamp() StampView { return d.stamp }

// The billing models of the disconnected side (New-RegistrationToken).
const (
	BillingCapacity    = pep.BillingCapacity
	BillingDevelopment = pep.BillingDevelopment
	BillingCustom      = pep.BillingCustom
)

// BillingModel is one choice of the token form, with what it requires.
type BillingModel struct {
	Name              string
	NeedsAgreement    bool   // agreement number required
	NeedsAssetTag     bool   // MS asset tag required
	UsageReportingOff bool   // usage reporting is locked off
	Unavailable       string // why the stamp cannot use it, or ""
	Help              string
}

// BillingModels returns the billing models the disconnected side offers and
// what each requires on this stamp (azure-registration.md §2.3, §3.9).
func (d *Disconnected) BillingModels() []BillingModel { return BillingModelsFor(d.stamp.Version) }

// BillingModelsFor returns the billing models for a stamp version.
func BillingModelsFor(stampVersion string) []BillingModel {
	custom := BillingModel{Name: pep.BillingCustom, NeedsAssetTag: true,
		Help: "For special agreements; needs the MS asset tag from Microsoft."}
	if v, err := pep.ParseVersion(stampVersion); err == nil && v.Compare(pep.MinCustomBilling) < 0 {
		custom.Unavailable = "needs stamp version " + pep.MinCustomBilling.String() + " or later"
	}
	return []BillingModel{
		{Name: pep.BillingCapacity, NeedsAgreement: true, UsageReportingOff: true,
			Help: "Capacity licence bought through an Enterprise Agreement; usage reporting stays off."},
		{Name: pep.BillingDevelopment, Help: "For development and test stamps (ASDK)."},
		custom,
	}
}

// TokenRequest is the token form.
type TokenRequest struct {
	BillingModel                  string
	AgreementNumber               string
	MsAssetTag                    string
	UsageReportingEnabled         bool
	MarketplaceSyndicationEnabled bool
}

// Validate checks the form against the billing rules for a stamp version.
func (r TokenRequest) Validate(stampVersion string) error {
	for _, m := range BillingModelsFor(stampVersion) {
		if m.Name != r.BillingModel {
			continue
		}
		switch {
		case m.Unavailable != "":
			return fmt.Errorf("billing model %s %s; choose Capacity or Development", m.Name, m.Unavailable)
		case m.NeedsAgreement && strings.TrimSpace(r.AgreementNumber) == "":
			return fmt.Errorf("billing model %s needs the agreement number; enter the Enterprise Agreement number", m.Name)
		case m.NeedsAgreement && !agreementShape(strings.TrimSpace(r.AgreementNumber)):
			return fmt.Errorf("the agreement number %q is not of the shape of an Enterprise Agreement number (letters, digits and dashes, at most 32); enter the number from the agreement, e.g. 12345678", Printable(strings.TrimSpace(r.AgreementNumber)))
		case m.NeedsAssetTag && strings.TrimSpace(r.MsAssetTag) == "":
			return fmt.Errorf("billing model %s needs the MS asset tag; enter the tag Microsoft gave you", m.Name)
		case m.UsageReportingOff && r.UsageReportingEnabled:
			return fmt.Errorf("billing model %s does not allow usage reporting; turn usage reporting off", m.Name)
		}
		return nil
	}
	return fmt.Errorf("billing model %q is not one of Capacity, Development or Custom; choose one of them", r.BillingModel)
}

// agreementShape reports whether s looks like an Enterprise Agreement
// number: letters, digits and dashes, at most 32 of them. What the PEP
// accepts is not documented; this catches a pasted sentence or a number
// with spaces before the stamp does.
func agreementShape(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

// CreateToken runs New-RegistrationToken on the stamp and returns the token,
// checked to belong to the stamp. It is not written anywhere yet: Export
// does that.
func (d *Disconnected) CreateToken(ctx context.Context, req TokenRequest, progress func(Event)) (*ArtefactView, error) {
	if err := req.Validate(d.stamp.Version); err != nil {
		return nil, err
	}
	if err := d.svc.env.checkLedger(); err != nil {
		return nil, err
	}
	defer d.use(progress)()
	text, err := d.client.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: req.BillingModel,
		AgreementNumber: strings.TrimSpace(req.AgreementNumber), MsAssetTag: strings.TrimSpace(req.MsAssetTag),
		UsageReportingEnabled: req.UsageReportingEnabled, MarketplaceSyndicationEnabled: req.MarketplaceSyndicationEnabled})
	entry := courier.Entry{Step: "token", CloudID: d.stamp.CloudID, Outcome: "ok", Detail: "New-RegistrationToken on " + d.stamp.Host}
	if err != nil {
		return nil, d.svc.env.recordDone(entry, err, "")
	}
	a, err := courier.Parse([]byte(text))
	if err == nil && a.Kind != courier.KindToken {
		err = &courier.MismatchError{What: "kind of what the PEP returned", Want: courier.KindToken.Title(), Got: a.Kind.Title()}
	}
	if err == nil && !strings.EqualFold(a.CloudID(), d.stamp.CloudID) {
		err = &courier.MismatchError{What: "cloud ID of the new token", Want: d.stamp.CloudID, Got: a.CloudID(),
			Fix: "do not use this token; connect to the right stamp"}
	}
	if err != nil {
		return nil, d.svc.env.recordDone(entry, fmt.Errorf("the token the PEP returned: %w", err), "")
	}
	entry.Kind, entry.SHA256 = a.Kind, a.SHA256
	if err := d.svc.env.recordDone(entry, nil, "the stamp made a registration token"); err != nil {
		return nil, err
	}
	d.svc.env.stampEvent(d.stamp.CloudID, "token made", a.SHA256, "billing model "+req.BillingModel, nil)
	v := newView(a, nil, "PEP "+d.stamp.Host)
	v.made = courier.Manifest{StampName: d.stamp.Name, StampVersion: d.stamp.Version}
	return v, nil
}

// CheckKey checks an imported activation key against the connected stamp:
// its kind and its cloud ID. A difference is a *courier.MismatchError.
func (d *Disconnected) CheckKey(key *ArtefactView) error {
	if key == nil {
		return errors.New("no activation key; import the key first")
	}
	if err := checkKind(key.a, KindKey, key.Source); err != nil {
		return err
	}
	if !strings.EqualFold(key.CloudID, d.stamp.CloudID) {
		return &courier.MismatchError{What: "cloud ID of the activation key against the stamp " + d.stamp.Name,
			Want: d.stamp.CloudID, Got: key.CloudID, Fix: "this key belongs to another stamp; get the key for this stamp's registration"}
	}
	return nil
}

// Activate checks the key against the stamp and runs
// New-AzureStackActivation, which may take up to 30 minutes. Cancelling ctx
// stops the pipeline.
func (d *Disconnected) Activate(ctx context.Context, key *ArtefactView, progress func(Event)) error {
	entry := courier.Entry{Step: "activate", CloudID: d.stamp.CloudID, Outcome: "ok", Detail: "New-AzureStackActivation on " + d.stamp.Host}
	if key != nil {
		entry.Kind, entry.SHA256 = key.a.Kind, key.SHA256
	}
	err := d.CheckKey(key)
	if err == nil {
		if err := d.svc.env.checkLedger(); err != nil {
			return err
		}
		defer d.use(progress)()
		err = d.client.NewActivation(ctx, key.a.Text)
	}
	if err == nil {
		d.activated(key)
	}
	return d.svc.env.recordDone(entry, err, "the stamp is activated")
}

// activated records an activation in the stamp's profile: the key's
// registration and expiry, and the end of a renewal that waited for it.
func (d *Disconnected) activated(key *ArtefactView) {
	s := key.Summary()
	act := &Activation{Time: d.svc.env.now().UTC(), KeySHA256: key.SHA256, RegistrationName: s.RegistrationName,
		ResourceGroup: s.ResourceGroupName, Subscription: s.SubscriptionID, BillingModel: s.BillingModel}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s.Expires)); err == nil && t.Year() < 9999 {
		act.Expires = t.UTC()
	}
	d.svc.env.stampEvent(d.stamp.CloudID, "activated", key.SHA256, "registration "+s.RegistrationName, func(p *StampProfile) {
		p.Activation = act
		if w := p.Workflow; w != nil {
			p.addEvent(d.svc.env.now(), workflowTitle(w.Reason)+" finished", key.SHA256, "started "+w.Started.UTC().Format("2006-01-02"))
			p.Workflow = nil
		}
	})
}

// Deactivate runs Remove-AzureStackActivation.
func (d *Disconnected) Deactivate(ctx context.Context, progress func(Event)) error {
	if err := d.svc.env.checkLedger(); err != nil {
		return err
	}
	defer d.use(progress)()
	err := d.client.RemoveActivation(ctx)
	entry := courier.Entry{Step: "deactivate", CloudID: d.stamp.CloudID, Outcome: "ok", Detail: "Remove-AzureStackActivation on " + d.stamp.Host}
	if err == nil {
		d.svc.env.stampEvent(d.stamp.CloudID, "activation removed", "", "", func(p *StampProfile) { p.Activation = nil })
	}
	return d.svc.env.recordDone(entry, err, "the stamp's activation is removed")
}

// Close ends the PEP session (Close-PrivilegedEndpoint), exporting its
// transcripts to the share when the connection named one; that export is
// recorded in the custody ledger, and its failure is an error matching
// ErrTranscripts (the session is closed all the same).
func (d *Disconnected) Close(ctx context.Context) error {
	if d.client == nil {
		return nil
	}
	err := d.client.Close(ctx)
	if d.transcripts != "" {
		tErr := err
		if !errors.Is(err, pep.ErrTranscripts) {
			tErr = nil
		}
		lerr := d.svc.env.recordDone(courier.Entry{Step: "export transcripts", CloudID: d.stamp.CloudID, Outcome: "ok",
			Detail: "Close-PrivilegedEndpoint -TranscriptsPathDestination " + d.transcripts + " on " + d.stamp.Host}, tErr, "the transcripts are exported")
		d.transcripts = ""
		if lerr != nil && err == nil {
			err = lerr
		}
	}
	return err
}

// ActivateUnchecked runs New-AzureStackActivation without checking the
// key's cloud ID against the stamp (activate --force), recording the step
// and the key's cloud ID in the ledger.
func (d *Disconnected) ActivateUnchecked(ctx context.Context, key *ArtefactView, progress func(Event)) error {
	if err := d.svc.env.checkLedger(); err != nil {
		return err
	}
	defer d.use(progress)()
	err := d.client.NewActivation(ctx, key.a.Text)
	if err == nil {
		d.activated(key)
	}
	entry := courier.Entry{Step: "activate", Kind: key.a.Kind, SHA256: key.SHA256, CloudID: d.stamp.CloudID, Outcome: "ok",
		Detail: "New-AzureStackActivation on " + d.stamp.Host + " with --force (key cloud ID " + key.CloudID + ")"}
	return d.svc.env.recordDone(entry, err, "the stamp is activated")
}
