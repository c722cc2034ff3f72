package pep

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/azs-courier/azs-courier/pep/psrp"
)

// Billing models Get-AzsRegistrationToken accepts.
const (
	BillingCapacity    = "Capacity"
	BillingDevelopment = "Development"
	BillingCustom      = "Custom"
)

// TokenOptions are the parameters of [Client.NewRegistrationToken].
type TokenOptions struct {
	BillingModel                  string // Capacity, Development or Custom
	AgreementNumber               string // required for Capacity
	MsAssetTag                    string // required for Custom
	UsageReportingEnabled         bool   // forced off for Capacity, with a warning
	MarketplaceSyndicationEnabled bool
}

// NewRegistrationToken runs New-RegistrationToken with the module's
// validation and version gates (azure-registration.md §2.3, §3.1, §3.9):
// Custom needs MsAssetTag and a stamp ≥ 1.1912.0.19; Capacity needs an
// agreement number and turns usage reporting off with a warning event;
// MsAssetTag is passed from 1.1912.0.19 on, TokenVersion from 1.2008.0.49
// on ("6.0" after 1.2309.0.4, else "4.0"). On stamps newer than 1.2209.0.23
// with more than one node it first runs Set-RegistrationKeyPair, as the
// module does (§3.16). It retries 3 × 10 s like the module, except for
// validation errors, bad credentials, a busy stamp and the other failures
// that retrying cannot mend.
func (c *Client) NewRegistrationToken(ctx context.Context, o TokenOptions) (string, error) {
	const cmd = "New-RegistrationToken"
	var model string
	for _, m := range []string{BillingCapacity, BillingDevelopment, BillingCustom} {
		if strings.EqualFold(o.BillingModel, m) {
			model = m
		}
	}
	if model == "" {
		return "", &Error{Op: cmd, Err: validationf("billing model %q is not supported for a disconnected stamp", o.BillingModel), Advice: "use Capacity, Development or Custom"}
	}
	if model == BillingCustom && strings.TrimSpace(o.MsAssetTag) == "" {
		return "", &Error{Op: cmd, Err: validationf("MsAssetTag is a required parameter when BillingModel is 'Custom'"), Advice: "pass --ms-asset-tag"}
	}
	stamp, err := c.StampInformation(ctx)
	if err != nil {
		return "", err
	}
	if model == BillingCustom && stamp.Version.Compare(MinCustomBilling) < 0 {
		return "", &Error{Op: cmd, Host: c.host, Err: validationf("Custom BillingModel is not supported for StampVersion less than %s (this stamp is %s)", MinCustomBilling, stamp.StampVersion), Advice: "update the stamp or use another billing model"}
	}
	if model == BillingCapacity && strings.TrimSpace(o.AgreementNumber) == "" {
		return "", &Error{Op: cmd, Err: validationf("Agreement number is null or empty when BillingModel is set to Capacity"), Advice: "pass --agreement-number with your Enterprise Agreement number"}
	}
	usage := o.UsageReportingEnabled
	if model == BillingCapacity && usage {
		c.event("token", "Disabling Usage Reporting as it is not supported for Capacity billing model.", -1, "warning")
		usage = false
	}
	params := []psrp.Parameter{
		{Name: "BillingModel", Value: psrp.String(model)},
		{Name: "MarketplaceSyndicationEnabled", Value: psrp.Bool(o.MarketplaceSyndicationEnabled)},
		{Name: "UsageReportingEnabled", Value: psrp.Bool(usage)},
	}
	if o.AgreementNumber != "" {
		params = append(params, psrp.Parameter{Name: "AgreementNumber", Value: psrp.String(o.AgreementNumber)})
	}
	if stamp.Version.Compare(MinCustomBilling) >= 0 && o.MsAssetTag != "" {
		params = append(params, psrp.Parameter{Name: "MsAssetTag", Value: psrp.String(o.MsAssetTag)})
	}
	if stamp.Version.Compare(MinTokenVersion) >= 0 {
		params = append(params, psrp.Parameter{Name: "TokenVersion", Value: psrp.String(TokenVersionFor(stamp.Version))})
	}
	if err := c.setRegistrationKeyPair(ctx, stamp); err != nil {
		return "", err
	}
	var token string
	err = c.retry(ctx, cmd, "Creation of registration token failed:", func() error {
		c.event("token", "Creating registration token.", -1, "info")
		out, err := c.invoke(ctx, "token", cmd, params...)
		if err != nil {
			return err
		}
		token, err = singleString(out)
		if err != nil {
			return &Error{Op: cmd, Host: c.host, Err: err}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// setRegistrationKeyPair is the module's Set-RegistrationKeyPair step
// (azure-registration.md §3.16): run the PEP's Set-RegistrationKeyPair on a
// stamp newer than HCIKeyPairAfter with more than one node, with the
// module's log lines and retries, and say why it is skipped elsewhere.
func (c *Client) setRegistrationKeyPair(ctx context.Context, stamp *StampInformation) error {
	const cmd = "Set-RegistrationKeyPair"
	switch {
	case stamp.Version.Compare(HCIKeyPairAfter) <= 0:
		c.event("keypair", fmt.Sprintf("Set-RegistrationKeyPair PEP is not supported for build version %s, skipping", stamp.StampVersion), -1, "info")
		return nil
	case stamp.NumberOfNodes <= 1:
		c.event("keypair", "Set-RegistrationKeyPair PEP is not supported for onenode, skipping", -1, "info")
		return nil
	}
	return c.retry(ctx, cmd, "Error while invoking Set-RegistrationKeyPair:", func() error {
		c.event("keypair", "Setting Registration key pair", -1, "info")
		out, err := c.invoke(ctx, "keypair", cmd)
		if err != nil {
			return err
		}
		c.event("keypair", "Result "+resultJSON(out), -1, "info")
		return nil
	})
}

// resultJSON renders a command's output as ConvertTo-Json would, for the
// log: the object's properties, one object or a list.
func resultJSON(out []psrp.Value) string {
	var vs []any
	for _, v := range out {
		j := v.JSON()
		if m, ok := j.(map[string]any); ok {
			delete(m, "_toString")
		}
		vs = append(vs, j)
	}
	var b []byte
	switch len(vs) {
	case 0:
		return "null"
	case 1:
		b, _ = json.Marshal(vs[0])
	default:
		b, _ = json.Marshal(vs)
	}
	return string(b)
}

// TokenVersionFor returns the token version the module asks for on a stamp
// of version v (azure-registration.md §2.3).
func TokenVersionFor(v Version) string {
	if v.Compare(TokenVersion6After) > 0 {
		return "6.0"
	}
	return "4.0"
}

func singleString(out []psrp.Value) (string, error) {
	var strs []string
	for _, v := range out {
		if s := strings.TrimSpace(v.Str()); s != "" {
			strs = append(strs, s)
		}
	}
	if len(strs) != 1 {
		return "", fmt.Errorf("got %d strings, want exactly one token", len(strs))
	}
	return strs[0], nil
}

// NewActivation runs New-AzureStackActivation -ActivationKey KEY
// -TimeoutInSeconds 1800, retrying 3 × 10 s like the module (not on a busy
// stamp or a rejected key). The key travels as a plain string parameter,
// never through a script block.
func (c *Client) NewActivation(ctx context.Context, key string) error {
	const cmd = "New-AzureStackActivation"
	key = strings.TrimSpace(key)
	if key == "" {
		return &Error{Op: cmd, Err: validationf("the activation key is empty"), Advice: "pass the key file produced by activation-key"}
	}
	c.event("activate", "Activating Azure Stack (this may take up to 10 minutes to complete).", -1, "info")
	return c.retry(ctx, cmd, "Activation of Azure Stack features failed:", func() error {
		_, err := c.invoke(ctx, "activate", cmd,
			psrp.Parameter{Name: "ActivationKey", Value: psrp.String(key)},
			psrp.Parameter{Name: "TimeoutInSeconds", Value: psrp.Int32(1800)},
		)
		return err
	})
}

// RemoveActivation runs Remove-AzureStackActivation once: the module does
// not retry it in the disconnected flow.
func (c *Client) RemoveActivation(ctx context.Context) error {
	_, err := c.invoke(ctx, "deactivate", "Remove-AzureStackActivation")
	return err
}
