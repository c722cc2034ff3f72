package app

import (
	"fmt"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
)

// Summary is what a person reviews of an artefact before carrying it or using
// it. It is also the JSON of `inspect --json`.
type Summary struct {
	Kind         ArtefactKind `json:"kind"`
	SHA256       string       `json:"sha256"`
	FileSHA256   string       `json:"fileSha256"` // of the bytes as given; differs from sha256 for non-canonical input
	Length       int          `json:"length"`
	CloudID      string       `json:"cloudId"`
	BillingModel string       `json:"billingModel"`
	Encoding     string       `json:"encoding"`
	Nodes        int          `json:"nodes"`
	NodeNames    []string     `json:"nodeNames"`
	Version      string       `json:"version"`
	Issuer       string       `json:"issuer,omitempty"`

	// Registration token fields.
	AgreementNumber               *string `json:"agreementNumber,omitempty"`
	MsAssetTag                    string  `json:"msAssetTag,omitempty"`
	UsageReportingEnabled         *bool   `json:"usageReportingEnabled,omitempty"`
	MarketplaceSyndicationEnabled *bool   `json:"marketplaceSyndicationEnabled,omitempty"`

	// Activation key fields.
	SubscriptionID    string `json:"subscriptionId,omitempty"`
	ResourceGroupName string `json:"resourceGroupName,omitempty"`
	RegistrationName  string `json:"registrationName,omitempty"`
	Expires           string `json:"expires,omitempty"`
	KeyID             string `json:"keyId,omitempty"`

	// Manifest, when one lay beside the file and matched.
	Manifest *courier.Manifest `json:"manifest,omitempty"`
	// ManifestStatus says so in words: "matches (written … by …)", or "none
	// beside the file".
	ManifestStatus string `json:"-"`
	// Origin says who signed the manifest; nil without one.
	Origin *Origin `json:"origin,omitempty"`
}

// summarise turns an artefact into its review summary.
func summarise(a *courier.Artefact, m *courier.Manifest) Summary {
	s := Summary{
		Kind:         ArtefactKind(a.Kind),
		SHA256:       a.SHA256,
		FileSHA256:   a.SourceSHA256,
		Length:       len(a.Text),
		CloudID:      a.CloudID(),
		BillingModel: a.BillingModel(),
		Encoding:     a.Encoding,
		Manifest:     m,
		NodeNames:    []string{},
	}
	s.ManifestStatus = manifestLine(m)
	if m == nil {
		s.ManifestStatus = "none beside the file"
	}
	for _, n := range a.Nodes() {
		s.NodeNames = append(s.NodeNames, n.Name)
	}
	s.Nodes = len(s.NodeNames)
	switch {
	case a.Token != nil:
		t := a.Token
		s.Version, s.Issuer = t.Version, t.Issuer
		s.AgreementNumber = &t.AgreementNumber
		s.MsAssetTag = t.MsAssetTag
		s.UsageReportingEnabled = &t.UsageReportingEnabled
		s.MarketplaceSyndicationEnabled = &t.MarketplaceSyndicationEnabled
	case a.Key != nil:
		k := a.Key
		s.Version, s.Issuer = k.Version, k.Issuer
		s.SubscriptionID, s.ResourceGroupName, s.RegistrationName = k.SubscriptionID, k.ResourceGroupName, k.RegistrationName
		s.Expires, s.KeyID = k.Expires, k.KeyID
		s.UsageReportingEnabled = &k.UsageReportingEnabled
		s.MarketplaceSyndicationEnabled = &k.MarketplaceSyndicationEnabled
	}
	return s
}

// GroupHash writes a hex hash in groups of four for reading aloud.
func GroupHash(h string) string { return courier.GroupHex(h) }

// manifestLine describes a manifest that matched, or "" for none.
func manifestLine(m *courier.Manifest) string {
	if m == nil {
		return ""
	}
	by := strings.Trim(m.User+"@"+m.Machine, "@")
	return fmt.Sprintf("matches (written %s by %s, %s)", FormatTime(m.CreatedAt), by, m.Purpose)
}

// Fields returns the summary as labelled rows for a person to review, in
// reading order; the CLI prints them and the GUI shows them. Values are
// Printable: what an artefact holds cannot act on the terminal.
func (s Summary) Fields() []Field {
	var rows []Field
	add := func(label, value string) {
		if value != "" {
			rows = append(rows, Field{label, Printable(value)})
		}
	}
	onOff := func(b *bool) string {
		if b != nil && *b {
			return "enabled"
		}
		return "disabled"
	}
	add("SHA-256", GroupHash(s.SHA256))
	if s.FileSHA256 != s.SHA256 {
		add("File SHA-256", GroupHash(s.FileSHA256)+" (as given, before normalising)")
	}
	add("Cloud ID", s.CloudID)
	add("Billing model", s.BillingModel)
	if s.Kind == KindToken {
		if s.AgreementNumber != nil {
			add("Agreement number", *s.AgreementNumber)
		}
		add("MS asset tag", s.MsAssetTag)
	} else {
		add("Subscription", s.SubscriptionID)
		add("Resource group", s.ResourceGroupName)
		add("Registration", s.RegistrationName)
		if s.Expires != "" {
			add("Expires", FormatExpiry(s.Expires))
		}
	}
	add("Usage reporting", onOff(s.UsageReportingEnabled))
	add("Marketplace syndication", onOff(s.MarketplaceSyndicationEnabled))
	add("Nodes", fmt.Sprintf("%d (%s)", s.Nodes, strings.Join(s.NodeNames, ", ")))
	add("Version", s.Version)
	add("Length", fmt.Sprintf("%d characters", s.Length))
	add("Read as", s.Encoding)
	if m := s.Manifest; m != nil {
		add("Reviewed by", strings.Join(m.Reviewers, ", "))
		add("Ticket", m.Ticket)
		add("Media", m.Media)
	}
	return rows
}
