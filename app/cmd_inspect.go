package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/courier"
)

type inspectOptions struct {
	env            *Env
	path           string
	json           bool
	writeCanonical string
	force          bool
}

func newInspectCmd(env *Env) *cobra.Command {
	opts := &inspectOptions{env: env}
	cmd := &cobra.Command{
		Use:   "inspect FILE|-",
		Short: "Check a registration token or activation key and show what it holds",
		Long: `Inspect reads a registration token or activation key in whatever form it
arrived (UTF-8 or UTF-16 with or without BOM, CRLF, wrapped lines, quotes, a
pasted $RegistrationToken = "..." line; - reads standard input), checks it
against its manifest when one lies beside it, and prints the decoded fields for
review. The SHA-256 is of the canonical text, so it is the same whatever the
encoding. With --write-canonical it also writes the canonical file and its
manifest.`,
		Example: `  azs-courier inspect registration-token.txt
  azs-courier inspect activation-key.txt --json
  azs-courier inspect token-from-email.txt --write-canonical E:\registration-token.txt`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.path = args[0]
			return runInspect(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the fields as JSON")
	cmd.Flags().StringVar(&opts.writeCanonical, "write-canonical", "", "also write the canonical artefact and its manifest to `OUT`")
	cmd.Flags().BoolVar(&opts.force, "force", false, "with --write-canonical, replace an existing file")
	return cmd
}

func runInspect(ctx context.Context, opts *inspectOptions) error {
	env := opts.env
	a, m, err := env.readArtefactManifest(ctx, opts.path, "", "inspect")
	if err != nil {
		return err
	}
	if opts.writeCanonical != "" {
		if err := env.writeArtefact(ctx, opts.writeCanonical, a, "canonical copy of "+opts.path, opts.force); err != nil {
			return err
		}
	}
	if opts.json {
		enc := json.NewEncoder(env.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(summarise(a, m))
	}
	printSummary(env.IO.Out, summarise(a, m))
	if opts.writeCanonical != "" {
		fmt.Fprintf(env.IO.Out, "\nWrote %s and %s\n", opts.writeCanonical, courier.ManifestPath(opts.writeCanonical))
	}
	return nil
}

// Summary is what a person reviews of an artefact before carrying it or using
// it. It is also the JSON of `inspect --json`.
type Summary struct {
	Kind         courier.Kind `json:"kind"`
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
}

// summarise turns an artefact into its review summary.
func summarise(a *courier.Artefact, m *courier.Manifest) Summary {
	s := Summary{
		Kind:         a.Kind,
		SHA256:       a.SHA256,
		FileSHA256:   a.SourceSHA256,
		Length:       len(a.Text),
		CloudID:      a.CloudID(),
		BillingModel: a.BillingModel(),
		Encoding:     a.Encoding,
		Manifest:     m,
		NodeNames:    []string{},
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
func GroupHash(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i:min(i+4, len(h))])
	}
	return b.String()
}

// manifestLine describes a manifest that matched, or "" for none.
func manifestLine(m *courier.Manifest) string {
	if m == nil {
		return ""
	}
	by := strings.Trim(m.User+"@"+m.Machine, "@")
	return fmt.Sprintf("matches (written %s by %s, %s)", m.CreatedAt.Format("2006-01-02 15:04 MST"), by, m.Purpose)
}

// Fields returns the summary as labelled rows for a person to review, in
// reading order; the CLI prints them and the GUI shows them.
func (s Summary) Fields() []Field {
	var rows []Field
	add := func(label, value string) {
		if value != "" {
			rows = append(rows, Field{label, value})
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
	if s.Kind == courier.KindToken {
		if s.AgreementNumber != nil {
			add("Agreement number", *s.AgreementNumber)
		}
		add("MS asset tag", s.MsAssetTag)
	} else {
		add("Subscription", s.SubscriptionID)
		add("Resource group", s.ResourceGroupName)
		add("Registration", s.RegistrationName)
		add("Expires", s.Expires)
	}
	add("Usage reporting", onOff(s.UsageReportingEnabled))
	add("Marketplace syndication", onOff(s.MarketplaceSyndicationEnabled))
	add("Nodes", fmt.Sprintf("%d (%s)", s.Nodes, strings.Join(s.NodeNames, ", ")))
	add("Version", s.Version)
	add("Length", fmt.Sprintf("%d characters", s.Length))
	add("Read as", s.Encoding)
	return rows
}

func printSummary(w io.Writer, s Summary) {
	title := s.Kind.Title()
	fmt.Fprintf(w, "%s%s\n", strings.ToUpper(title[:1]), title[1:])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range s.Fields() {
		fmt.Fprintf(tw, "  %s\t%s\n", f.Label, f.Value)
	}
	m := manifestLine(s.Manifest)
	if m == "" {
		m = "none beside the file"
	}
	fmt.Fprintf(tw, "  %s\t%s\n", "Manifest", m)
	tw.Flush()
}
