package azure

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// AuthMethod selects how NewCredential signs in.
type AuthMethod string

// The sign-in methods.
const (
	// AuthBrowser opens the system browser (the GUI default).
	AuthBrowser AuthMethod = "browser"
	// AuthDeviceCode shows a code to enter at a verification URL on any device.
	AuthDeviceCode AuthMethod = "device-code"
	// AuthAzureCLI uses the account signed in with `az login`; az is started
	// with only the environment it needs (see ChildEnv).
	AuthAzureCLI AuthMethod = "azure-cli"
	// AuthEnvironment is a service principal named by the environment, as
	// azidentity's EnvironmentCredential reads it: AZURE_TENANT_ID,
	// AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or
	// AZURE_CLIENT_CERTIFICATE_PATH (and AZURE_CLIENT_CERTIFICATE_PASSWORD).
	AuthEnvironment AuthMethod = "environment"
	// AuthClientSecret is a service principal with a secret given in the options.
	AuthClientSecret AuthMethod = "client-secret"
)

// AuthMethods lists the methods a user may choose with --auth.
var AuthMethods = []AuthMethod{AuthBrowser, AuthDeviceCode, AuthAzureCLI, AuthEnvironment}

// ParseAuthMethod returns the method named s.
func ParseAuthMethod(s string) (AuthMethod, error) {
	for _, m := range append(AuthMethods, AuthClientSecret) {
		if strings.EqualFold(string(m), s) {
			return m, nil
		}
	}
	return "", fmt.Errorf("azure: unknown sign-in method %q; use browser, device-code, azure-cli or environment", s)
}

// DeviceCode is what a user needs to finish a device-code sign-in.
type DeviceCode struct {
	UserCode        string
	VerificationURL string
	// Message is the authority's instruction, naming both of the above.
	Message string
}

// CredentialOptions configure NewCredential. The zero value signs in with the
// browser to the "organizations" tenant.
type CredentialOptions struct {
	Method AuthMethod
	// TenantID is the Entra ID tenant; empty means the method's default.
	TenantID string
	// ClientID is the application to sign in to (browser, device code) or the
	// service principal (client secret). Empty means azidentity's default.
	ClientID string
	// ClientSecret is the service principal's secret for AuthClientSecret.
	// It is never logged or written.
	ClientSecret string
	// UserPrompt shows the device code to the user. Required for AuthDeviceCode.
	UserPrompt func(context.Context, DeviceCode) error
	// Transport overrides the cloud's transport (tests).
	Transport policy.Transporter
	// Retry configures retries of authority requests; zero fields mean
	// DefaultTryTimeout, DefaultMaxRetries and azcore's delays.
	Retry policy.RetryOptions
	// Getenv reads the environment for AuthEnvironment and AuthAzureCLI;
	// nil means os.Getenv. The caller may have removed its secrets from the
	// process environment and pass them here only.
	Getenv func(string) string
}

// NewCredential returns a credential for cloud c. Tokens it acquires are
// cached in memory for the life of the credential, so a device-code or
// browser sign-in happens once per run however many clients use it.
func NewCredential(c Cloud, o CredentialOptions) (azcore.TokenCredential, error) {
	tr := o.Transport
	if tr == nil {
		var err error
		if tr, err = c.Transport(); err != nil {
			return nil, err
		}
	}
	co := azcore.ClientOptions{Cloud: c.Configuration(), Transport: tr, Retry: withDefaults(o.Retry)}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var (
		cred azcore.TokenCredential
		err  error
	)
	switch o.Method {
	case AuthBrowser, "":
		cred, err = azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
			ClientOptions: co, TenantID: o.TenantID, ClientID: o.ClientID, DisableInstanceDiscovery: c.Custom})
	case AuthDeviceCode:
		if o.UserPrompt == nil {
			return nil, errors.New("azure: device-code sign-in needs a UserPrompt to show the code")
		}
		prompt := o.UserPrompt
		cred, err = azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions: co, TenantID: o.TenantID, ClientID: o.ClientID, DisableInstanceDiscovery: c.Custom,
			UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
				return prompt(ctx, DeviceCode{UserCode: m.UserCode, VerificationURL: m.VerificationURL, Message: m.Message})
			}})
	case AuthAzureCLI:
		cred = &cliCredential{tenant: o.TenantID, getenv: getenv}
	case AuthEnvironment:
		cred, err = environmentCredential(getenv, o.TenantID, co, c.Custom)
		if err != nil {
			return nil, err
		}
	case AuthClientSecret:
		if o.TenantID == "" || o.ClientID == "" || o.ClientSecret == "" {
			return nil, errors.New("azure: client-secret sign-in needs a tenant, a client ID and a secret")
		}
		cred, err = azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, o.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: c.Custom})
	default:
		_, err = ParseAuthMethod(string(o.Method))
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("azure: %s sign-in: %w", o.Method, err)
	}
	return &cachedCredential{cred: cred, tokens: map[string]azcore.AccessToken{}}, nil
}

// environmentCredential is the service principal the environment names.
func environmentCredential(getenv func(string) string, tenant string, co azcore.ClientOptions, custom bool) (azcore.TokenCredential, error) {
	if tenant == "" {
		tenant = getenv("AZURE_TENANT_ID")
	}
	client := getenv("AZURE_CLIENT_ID")
	if tenant == "" || client == "" {
		return nil, errors.New("azure: environment sign-in: AZURE_TENANT_ID and AZURE_CLIENT_ID are not both set; set them with AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)")
	}
	if secret := getenv("AZURE_CLIENT_SECRET"); secret != "" {
		return azidentity.NewClientSecretCredential(tenant, client, secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: custom})
	}
	if path := getenv("AZURE_CLIENT_CERTIFICATE_PATH"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("azure: environment sign-in: read AZURE_CLIENT_CERTIFICATE_PATH: %w", err)
		}
		var pw []byte
		if p := getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"); p != "" {
			pw = []byte(p)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			return nil, fmt.Errorf("azure: environment sign-in: the certificate in AZURE_CLIENT_CERTIFICATE_PATH: %w", err)
		}
		return azidentity.NewClientCertificateCredential(tenant, client, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: custom})
	}
	return nil, errors.New("azure: environment sign-in: neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set; set one of them")
}

// cachedCredential keeps tokens per scope until shortly before they expire.
type cachedCredential struct {
	cred   azcore.TokenCredential
	mu     sync.Mutex
	tokens map[string]azcore.AccessToken
}

var _ azcore.TokenCredential = (*cachedCredential)(nil)

// GetToken implements azcore.TokenCredential.
func (c *cachedCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	key := strings.Join(o.Scopes, " ") + "|" + o.TenantID
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[key]; ok && o.Claims == "" && time.Until(t.ExpiresOn) > 2*time.Minute {
		return t, nil
	}
	t, err := c.cred.GetToken(ctx, o)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	c.tokens[key] = t
	return t, nil
}
