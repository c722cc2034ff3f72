package app

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/azure/azuresim"
	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// TrainingOptions tune the simulators of a training session.
type TrainingOptions struct {
	// TokenDelay and ActivationDelay are how long the simulated stamp takes
	// to make a token and to activate; zero means a short, visible delay.
	TokenDelay      time.Duration
	ActivationDelay time.Duration
	// Nodes is the simulated stamp's node count (default 4).
	Nodes int
	// AzureDenied are actions the simulated Azure's caller may not perform
	// (e.g. Microsoft.Authorization/locks/write), to rehearse a preflight
	// that fails; none by default (the caller is Owner).
	AzureDenied []string
	// Logger receives what is worth showing with --verbose, such as a
	// training folder that could not be removed; nil discards it.
	Logger *slog.Logger
}

// Training is a running simulated stamp (pepsim) and Azure (azuresim) on
// loopback, with everything needed to wire both sides to them and a
// temporary folder standing in for the removable drive.
type Training struct {
	PEP   PEPConnection // connects to the simulated stamp
	Azure SignInRequest // signs in to the simulated Azure
	// Subscription is the simulated Azure's subscription.
	Subscription string
	// Drive is the folder that plays the removable drive.
	Drive string

	dir  string
	log  *slog.Logger
	pep  *pepsim.Server
	az   *azuresim.Server
	done bool
}

// StartTraining starts both simulators in-process on loopback. Close stops
// them and removes the temporary folder.
func StartTraining(o TrainingOptions) (*Training, error) {
	if o.TokenDelay == 0 {
		o.TokenDelay = 1500 * time.Millisecond
	}
	if o.ActivationDelay == 0 {
		o.ActivationDelay = 3 * time.Second
	}
	dir, err := os.MkdirTemp("", "azs-courier-training-")
	if err != nil {
		return nil, fmt.Errorf("make the training folder: %w", err)
	}
	t := &Training{dir: dir, Drive: filepath.Join(dir, "TRAINING-USB"), log: o.Logger}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if err := os.Mkdir(t.Drive, 0o755); err != nil {
		t.Close()
		return nil, fmt.Errorf("make the training drive folder: %w", err)
	}
	password, err := randomSecret()
	if err != nil {
		t.Close()
		return nil, err
	}
	t.pep, err = pepsim.Start(pepsim.Options{Password: password, Nodes: o.Nodes, RegionName: "training",
		DomainFQDN: "azs-training.local", TokenDelay: o.TokenDelay, ActivationDelay: o.ActivationDelay})
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("start the simulated stamp: %w", err)
	}
	azo := azuresim.Options{ProviderRegisteringPolls: 1}
	if len(o.AzureDenied) > 0 {
		azo.Permissions = []azuresim.Permission{azuresim.OwnerExcept(o.AzureDenied...)}
	}
	t.az, err = azuresim.Start(azo)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("start the simulated Azure: %w", err)
	}
	caFile := filepath.Join(dir, "azuresim-ca.pem")
	if err := os.WriteFile(caFile, t.az.CAPEM(), 0o644); err != nil {
		t.Close()
		return nil, fmt.Errorf("write the simulated Azure's CA: %w", err)
	}
	t.PEP = PEPConnection{Hosts: []string{t.pep.Addr()}, User: t.pep.User(), Password: password, RetryDelay: 200 * time.Millisecond}
	t.Azure = SignInRequest{ARMEndpoint: t.az.URL(), AuthorityHost: t.az.URL(), CAFile: caFile,
		Method: string(azure.AuthClientSecret), Tenant: t.az.TenantID(), ClientID: t.az.ClientID(), ClientSecret: t.az.ClientSecret(),
		PollInterval: 200 * time.Millisecond}
	t.Subscription = t.az.SubscriptionID()
	return t, nil
}

// Training starts the simulators and returns a Service wired to them, whose
// custody ledger lives in the training folder so that rehearsals never mix
// with the real ledger. Close the Training when done.
func (s *Service) Training(o TrainingOptions) (*Service, *Training, error) {
	if o.Logger == nil {
		o.Logger = s.env.Logger
	}
	t, err := StartTraining(o)
	if err != nil {
		return nil, nil, err
	}
	env := *s.env
	env.ConfigDir = filepath.Join(t.dir, "config")
	return &Service{env: &env, training: t}, t, nil
}

// StampActivated reports whether the simulated stamp holds an activation.
func (t *Training) StampActivated() bool { return t.pep.Activated() }

// TranscriptShares returns the shares the simulated stamp exported its
// session transcripts to, in order.
func (t *Training) TranscriptShares() []string {
	var out []string
	for _, c := range t.pep.Transcripts() {
		out = append(out, c.Path)
	}
	return out
}

// StampCloudID returns the simulated stamp's cloud ID.
func (t *Training) StampCloudID() string { return t.pep.CloudID() }

// Registrations returns "resource group/name" of each registration the
// simulated Azure holds.
func (t *Training) Registrations() []string {
	var out []string
	for _, r := range t.az.Registrations() {
		out = append(out, r.ResourceGroup+"/"+r.Name)
	}
	return out
}

// Close stops both simulators and removes the training folder. It is safe
// to call more than once.
func (t *Training) Close() {
	if t == nil || t.done {
		return
	}
	t.done = true
	if t.pep != nil {
		t.pep.Close()
	}
	if t.az != nil {
		t.az.Close()
	}
	if err := courier.RemoveAll(t.dir); err != nil {
		t.log.Debug("could not remove the training folder", "path", t.dir, "err", err)
	}
}

func randomSecret() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make the simulated stamp's password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
