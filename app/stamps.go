package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/azs-courier/azs-courier/courier"
)

// stampsDir is the folder of stamp profiles inside the configuration folder.
const stampsDir = "stamps"

// stampFormat identifies a stamp profile's schema.
const stampFormat = "azs-courier/stamp/v1"

// maxProfile bounds a stamp profile file; years of history are tens of KB.
const maxProfile = 4 << 20

// StampProfile is what this installation remembers of a stamp, by cloud ID:
// how to reach it, what it is, what was done to it, and an unfinished
// renewal or change. One file per stamp in the configuration folder,
// written atomically.
type StampProfile struct {
	Format       string       `json:"format"`
	CloudID      string       `json:"cloudId"`
	Name         string       `json:"name"`         // region and domain, as the stamp reports them
	Hosts        []string     `json:"hosts"`        // ERCS addresses, the last one that answered first
	User         string       `json:"user"`         // the PEP account, DOMAIN\CloudAdmin
	Version      string       `json:"version"`      // stamp version
	Nodes        int          `json:"nodes"`        // scale unit nodes
	ExternalFQDN string       `json:"externalFqdn"` // the stamp's external domain
	Updated      time.Time    `json:"updated"`
	Activation   *Activation  `json:"activation,omitempty"` // as far as this installation knows
	Workflow     *Workflow    `json:"workflow,omitempty"`   // a renewal or change under way
	History      []StampEvent `json:"history,omitempty"`
}

// Activation is the activation a stamp holds, as recorded when it was made.
type Activation struct {
	Time             time.Time `json:"time"`
	KeySHA256        string    `json:"keySha256"`
	RegistrationName string    `json:"registrationName"`
	ResourceGroup    string    `json:"resourceGroup"`
	Subscription     string    `json:"subscriptionId"`
	BillingModel     string    `json:"billingModel"`
	Expires          time.Time `json:"expires"` // zero: never
}

// StampEvent is one step in a stamp's history: a token made, an
// activation, a removal, a renewal started or finished.
type StampEvent struct {
	Time   time.Time `json:"time"`
	What   string    `json:"what"`
	SHA256 string    `json:"sha256,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Workflow is a renewal or change of registration under way on the
// disconnected side: why, which registration it replaces, how far it came.
type Workflow struct {
	Reason      string                `json:"reason"`
	Started     time.Time             `json:"started"`
	Step        string                `json:"step"` // WorkflowWaitingForKey, …
	Files       []string              `json:"files,omitempty"`
	Replaces    *ReplacedRegistration `json:"replaces,omitempty"`
	TokenSHA256 string                `json:"tokenSha256,omitempty"`
}

// ReplacedRegistration is the registration a renewal or change replaces.
type ReplacedRegistration = courier.ReplacedRegistration

// Workflow steps.
const (
	WorkflowActivationRemoved = "activation removed"
	WorkflowWaitingForKey     = "waiting for the activation key"
)

// ErrNoStamp is matched by errors for a stamp this installation does not
// remember.
var ErrNoStamp = errors.New("no such stamp")

// stamps returns the folder of stamp profiles.
func (e *Env) stampsPath() string { return filepath.Join(e.ConfigDir, stampsDir) }

func (e *Env) profilePath(cloudID string) string {
	return filepath.Join(e.stampsPath(), strings.ToLower(cloudID)+".json")
}

// readProfile reads the profile of cloudID; nil without one. A damaged
// file is an error naming it, never an empty profile.
func (e *Env) readProfile(cloudID string) (*StampProfile, error) {
	path := e.profilePath(cloudID)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	data, err := courier.ReadRegular(path, maxProfile)
	if err != nil {
		return nil, fmt.Errorf("read the stamp profile: %w", err)
	}
	var p StampProfile
	if err := json.Unmarshal(data, &p); err != nil || p.Format != stampFormat || !strings.EqualFold(p.CloudID, cloudID) {
		return nil, fmt.Errorf("the stamp profile %s is damaged; restore it from a backup, or move it away to start the stamp's profile again (its history is also in the custody ledger)", path)
	}
	return &p, nil
}

// writeProfile writes p atomically.
func (e *Env) writeProfile(p *StampProfile) error {
	p.Format = stampFormat
	p.CloudID = strings.ToLower(p.CloudID)
	if p.Updated.IsZero() {
		p.Updated = e.now()
	}
	p.Updated = p.Updated.UTC()
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the stamp profile: %w", err)
	}
	if err := os.MkdirAll(e.stampsPath(), 0o700); err != nil {
		return courier.WriteError(e.ConfigDir, err)
	}
	return courier.WriteFileAtomic(e.profilePath(p.CloudID), append(data, '\n'), true)
}

// updateProfile reads the profile of cloudID (a new one when there is
// none), lets change edit it and writes it back. A damaged profile is left
// as it is and reported.
func (e *Env) updateProfile(cloudID string, change func(p *StampProfile)) error {
	p, err := e.readProfile(cloudID)
	if err != nil {
		return err
	}
	if p == nil {
		p = &StampProfile{CloudID: cloudID}
	}
	change(p)
	p.Updated = e.now()
	return e.writeProfile(p)
}

// addEvent appends an event to p's history.
func (p *StampProfile) addEvent(t time.Time, what, sha, detail string) {
	p.History = append(p.History, StampEvent{Time: t.UTC(), What: what, SHA256: sha, Detail: detail})
}

// profiles returns every profile, by name.
func (e *Env) profiles() ([]*StampProfile, error) {
	ents, err := os.ReadDir(e.stampsPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the stamp profiles: %w", err)
	}
	var out []*StampProfile
	for _, ent := range ents {
		id, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok || ent.IsDir() {
			continue
		}
		p, err := e.readProfile(id)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *StampProfile) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, nil
}

// FindStamp returns the profile of the stamp named ref: its cloud ID (or
// its first group), or its name, ignoring case.
func (s *Service) FindStamp(ref string) (*StampProfile, error) {
	ref = strings.TrimSpace(ref)
	all, err := s.env.profiles()
	if err != nil {
		return nil, err
	}
	var found []*StampProfile
	for _, p := range all {
		first, _, _ := strings.Cut(p.CloudID, "-")
		region, _, _ := strings.Cut(p.Name, " (")
		if strings.EqualFold(p.CloudID, ref) || strings.EqualFold(p.Name, ref) || strings.EqualFold(region, ref) || strings.EqualFold(first, ref) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: %q is not among the stamps this computer remembers; 'azs-courier stamps' lists them, 'stamps import' adds one", ErrNoStamp, ref)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%q names %d remembered stamps; give the cloud ID instead", ref, len(found))
}

// ExpiryWarnings are the days before an activation expires at which the
// stamp list warns.
var expiryWarnings = []int{60, 30, 7}

// StampSummary is a remembered stamp as 'stamps' lists it.
type StampSummary struct {
	CloudID    string    `json:"cloudId"`
	Name       string    `json:"name"`
	Version    string    `json:"version"`
	Nodes      int       `json:"nodes"`
	Hosts      []string  `json:"hosts"`
	User       string    `json:"user"`
	Activation string    `json:"activation"` // in words: "activated (registration …)", "not activated", "unknown"
	Expires    time.Time `json:"expires,omitzero"`
	// DaysLeft is the whole days until the activation expires; negative
	// after; nil when it never expires or is unknown.
	DaysLeft *int `json:"daysLeft,omitempty"`
	// Warning says an expiry is near (60, 30 or 7 days) or past, or that a
	// workflow waits; "" when all is well.
	Warning  string    `json:"warning,omitempty"`
	Workflow *Workflow `json:"workflow,omitempty"`
	Updated  time.Time `json:"updated"`
}

// Stamps lists the stamps this installation remembers, with their
// activation as far as it knows and what needs attention.
func (s *Service) Stamps() ([]StampSummary, error) {
	all, err := s.env.profiles()
	if err != nil {
		return nil, err
	}
	out := make([]StampSummary, 0, len(all))
	for _, p := range all {
		out = append(out, s.summarize(p))
	}
	return out, nil
}

func (s *Service) summarize(p *StampProfile) StampSummary {
	sum := StampSummary{CloudID: p.CloudID, Name: Printable(p.Name), Version: Printable(p.Version), Nodes: p.Nodes, Hosts: p.Hosts,
		User: Printable(p.User), Activation: "unknown (not activated from this computer)", Workflow: p.Workflow, Updated: p.Updated}
	if a := p.Activation; a != nil {
		sum.Activation = fmt.Sprintf("activated %s (registration %s, %s)", FormatTime(a.Time), Printable(a.RegistrationName), Printable(a.BillingModel))
		if !a.Expires.IsZero() {
			sum.Expires = a.Expires
			days := int(a.Expires.Sub(s.env.now()).Hours() / 24)
			sum.DaysLeft = &days
			sum.Warning = expiryWarning(days, a.Expires)
		}
	} else if len(p.History) > 0 && p.History[len(p.History)-1].What == "activation removed" {
		sum.Activation = "not activated (removed " + FormatTime(p.History[len(p.History)-1].Time) + ")"
	}
	if w := p.Workflow; w != nil {
		sum.Warning = fmt.Sprintf("%s of the %s started %s", strings.ToUpper(w.Step[:1])+w.Step[1:], w.Reason, w.Started.UTC().Format("2006-01-02"))
		if w.Step == WorkflowWaitingForKey {
			sum.Warning = fmt.Sprintf("Waiting for the activation key of the %s started %s", workflowTitle(w.Reason), w.Started.UTC().Format("2006-01-02"))
		}
	}
	return sum
}

// expiryWarning says how near an expiry is: "" until 60 days before.
func expiryWarning(days int, at time.Time) string {
	switch {
	case days < 0:
		return fmt.Sprintf("The activation expired on %s: renew the registration (azs-courier renew)", at.UTC().Format("2006-01-02"))
	}
	for i := len(expiryWarnings) - 1; i >= 0; i-- {
		if days <= expiryWarnings[i] {
			return fmt.Sprintf("The activation expires in %d days (%s): renew the registration before then", days, at.UTC().Format("2006-01-02"))
		}
	}
	return ""
}

// workflowTitle names a workflow by its reason.
func workflowTitle(reason string) string {
	if reason == ReasonRenewal {
		return "renewal"
	}
	return "change of " + strings.ReplaceAll(reason, "-", " ")
}

// ForgetStamp deletes the profile of the stamp named ref and records it in
// the custody ledger.
func (s *Service) ForgetStamp(ref string) (*StampProfile, error) {
	p, err := s.FindStamp(ref)
	if err != nil {
		return nil, err
	}
	if err := s.env.checkLedger(); err != nil {
		return nil, err
	}
	if err := os.Remove(s.env.profilePath(p.CloudID)); err != nil {
		return nil, fmt.Errorf("remove the stamp profile: %w", err)
	}
	return p, s.env.recordDone(courier.Entry{Step: "stamp forgotten", CloudID: p.CloudID, Outcome: "ok", Detail: p.Name}, nil, "the stamp is forgotten")
}

// stampInformation is what AzureStackStampInformation.json holds that a
// profile needs (the deployment writes it; Get-AzureStackStampInformation
// returns the same object).
type stampInformation struct {
	CloudID                     string   `json:"CloudID"`
	RegionName                  string   `json:"RegionName"`
	DomainFQDN                  string   `json:"DomainFQDN"`
	DomainNetBIOSName           string   `json:"DomainNetBIOSName"`
	ExternalDomainFQDN          string   `json:"ExternalDomainFQDN"`
	StampVersion                string   `json:"StampVersion"`
	NumberOfNodes               int      `json:"NumberOfNodes"`
	EmergencyConsoleIPAddresses []string `json:"EmergencyConsoleIPAddresses"`
}

// ImportStampInformation reads an AzureStackStampInformation.json (as the
// deployment leaves it, UTF-8 or UTF-16, with or without a byte-order
// mark) and remembers the stamp: its ERCS addresses, the CloudAdmin account
// of its domain, its name, version and nodes. An existing profile keeps its
// history and activation.
func (s *Service) ImportStampInformation(path string) (*StampProfile, error) {
	data, err := courier.ReadRegular(path, 1<<20)
	if err != nil {
		return nil, err
	}
	var info stampInformation
	if err := json.Unmarshal(decodeJSONText(data), &info); err != nil {
		return nil, fmt.Errorf("%s is not an AzureStackStampInformation.json (%v); give the file from the deployment share or the OEM's handover", path, err)
	}
	if !isGUID(info.CloudID) {
		return nil, fmt.Errorf("%s has no stamp cloud ID (CloudID %q); give the AzureStackStampInformation.json of the stamp", path, Printable(info.CloudID))
	}
	var hosts []string
	for _, h := range info.EmergencyConsoleIPAddresses {
		if h = strings.TrimSpace(h); h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%s lists no ERCS addresses (EmergencyConsoleIPAddresses); add them with --pep when you connect", path)
	}
	if err := s.env.checkLedger(); err != nil {
		return nil, err
	}
	var out *StampProfile
	err = s.env.updateProfile(info.CloudID, func(p *StampProfile) {
		p.Name = info.RegionName
		if info.DomainFQDN != "" {
			p.Name += " (" + info.DomainFQDN + ")"
		}
		p.Hosts = hosts
		if info.DomainNetBIOSName != "" && p.User == "" {
			p.User = info.DomainNetBIOSName + `\CloudAdmin`
		}
		p.Version, p.Nodes, p.ExternalFQDN = info.StampVersion, info.NumberOfNodes, info.ExternalDomainFQDN
		p.addEvent(s.env.now(), "imported", "", "from "+filepath.Base(path))
		out = p
	})
	if err != nil {
		return nil, err
	}
	return out, s.env.recordDone(courier.Entry{Step: "stamp import", CloudID: strings.ToLower(info.CloudID), File: absPath(path), Outcome: "ok",
		Detail: fmt.Sprintf("%s, ERCS %s", out.Name, strings.Join(hosts, ", "))}, nil, "the stamp is remembered")
}

// decodeJSONText returns JSON text as UTF-8: Windows PowerShell writes
// UTF-16 with a byte-order mark, or UTF-8 with one.
func decodeJSONText(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}), bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		be := b[0] == 0xfe
		b = b[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			if be {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			} else {
				u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
			}
		}
		return []byte(string(utf16.Decode(u)))
	}
	return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'):
			return false
		}
	}
	return true
}

// rememberConnection updates the stamp's profile after a connection: the
// host that answered goes first, the account, name, version and nodes are
// the stamp's. A profile that cannot be written is a warning: the
// connection and the ledger do not depend on it.
func (e *Env) rememberConnection(st StampView, hosts []string, user string) {
	err := e.updateProfile(st.CloudID, func(p *StampProfile) {
		order := []string{st.Host}
		for _, h := range append(hosts, p.Hosts...) {
			if !slices.Contains(order, h) {
				order = append(order, h)
			}
		}
		p.Hosts, p.User = order, user
		p.Name, p.Version, p.Nodes, p.ExternalFQDN = st.Name, st.Version, st.Nodes, st.ExternalFQDN
	})
	if err != nil {
		e.warn("the stamp's profile is not updated: " + OneLine(err.Error()))
	}
}

// stampEvent records what happened to the stamp in its profile (a
// warning when that fails), and lets change edit the profile.
func (e *Env) stampEvent(cloudID, what, sha, detail string, change func(p *StampProfile)) {
	err := e.updateProfile(cloudID, func(p *StampProfile) {
		p.addEvent(e.now(), what, sha, detail)
		if change != nil {
			change(p)
		}
	})
	if err != nil {
		e.warn("the stamp's profile is not updated: " + OneLine(err.Error()))
	}
}
