package azure

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Cloud names of the built-in clouds, as Az PowerShell spells them.
const (
	CloudPublic     = "AzureCloud"
	CloudUSGov      = "AzureUSGovernment"
	CloudChina      = "AzureChinaCloud"
	CloudCustomName = "CustomCloud"
)

// DefaultResourceGroup is the resource group the PowerShell module uses.
const DefaultResourceGroup = "azurestack"

// Cloud is an Azure cloud: where ARM and the Entra ID authority are, and the
// default resource-group location for registrations.
type Cloud struct {
	// Name is the Az environment name (AzureCloud, AzureUSGovernment,
	// AzureChinaCloud) or CustomCloud.
	Name string
	// ARMEndpoint is the Resource Manager URL, e.g. https://management.azure.com.
	ARMEndpoint string
	// Audience is the ARM token audience; the scope requested is Audience + "/.default".
	Audience string
	// AuthorityHost is the Entra ID authority, e.g. https://login.microsoftonline.com/.
	AuthorityHost string
	// DefaultLocation is the resource-group location used when none is given.
	DefaultLocation string
	// CAFile, when set, names a PEM file of CA certificates that both the
	// authority and the ARM connections trust in addition to the system roots.
	CAFile string
	// Custom is true for a cloud given by its endpoints; azidentity's instance
	// discovery is then disabled.
	Custom bool
}

var builtinClouds = []Cloud{
	{Name: CloudPublic, ARMEndpoint: "https://management.azure.com", Audience: "https://management.core.windows.net/",
		AuthorityHost: "https://login.microsoftonline.com/", DefaultLocation: "westcentralus"},
	{Name: CloudUSGov, ARMEndpoint: "https://management.usgovcloudapi.net", Audience: "https://management.core.usgovcloudapi.net/",
		AuthorityHost: "https://login.microsoftonline.us/", DefaultLocation: "usgovvirginia"},
	{Name: CloudChina, ARMEndpoint: "https://management.chinacloudapi.cn", Audience: "https://management.core.chinacloudapi.cn/",
		AuthorityHost: "https://login.chinacloudapi.cn/", DefaultLocation: "ChinaEast"},
}

// Clouds returns the built-in clouds.
func Clouds() []Cloud { return append([]Cloud(nil), builtinClouds...) }

// LookupCloud returns the built-in cloud with the given Az environment name
// (case-insensitive; "public", "usgov" and "china" are accepted too).
func LookupCloud(name string) (Cloud, error) {
	alias := map[string]string{"public": CloudPublic, "azurepublic": CloudPublic, "usgov": CloudUSGov,
		"azuregovernment": CloudUSGov, "china": CloudChina, "azurechina": CloudChina}
	if a, ok := alias[strings.ToLower(name)]; ok {
		name = a
	}
	for _, c := range builtinClouds {
		if strings.EqualFold(c.Name, name) {
			return c, nil
		}
	}
	return Cloud{}, fmt.Errorf("azure: unknown cloud %q; use AzureCloud, AzureUSGovernment, AzureChinaCloud, or --arm-endpoint with --authority-host", name)
}

// CustomCloud returns a cloud given by its ARM endpoint and authority host,
// both https URLs. The token audience is the ARM endpoint, the default
// location westcentralus (as the module's CustomCloud), and caFile (optional)
// a PEM bundle trusted by both connections.
func CustomCloud(armEndpoint, authorityHost, caFile string) (Cloud, error) {
	for _, u := range []struct{ flag, v string }{{"--arm-endpoint", armEndpoint}, {"--authority-host", authorityHost}} {
		p, err := url.Parse(u.v)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			return Cloud{}, fmt.Errorf("azure: %s %q is not an https URL; give it as https://host[:port]", u.flag, u.v)
		}
	}
	if !strings.HasSuffix(authorityHost, "/") {
		authorityHost += "/"
	}
	arm := strings.TrimRight(armEndpoint, "/")
	return Cloud{Name: CloudCustomName, ARMEndpoint: arm, Audience: arm, AuthorityHost: authorityHost,
		DefaultLocation: "westcentralus", CAFile: caFile, Custom: true}, nil
}

// Configuration returns the azcore cloud configuration of c.
func (c Cloud) Configuration() cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: c.AuthorityHost,
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: c.ARMEndpoint, Audience: c.Audience},
		},
	}
}

// Scope returns the OAuth scope for ARM tokens in c.
// It is the audience plus "/.default", exactly as azcore's ARM pipeline builds it.
func (c Cloud) Scope() string { return c.Audience + "/.default" }

// Transport returns the HTTP client both credentials and ARM calls use: the
// system roots plus, for a cloud with CAFile, the CAs in that file. It returns
// nil (azcore's default) when there is nothing to add.
func (c Cloud) Transport() (policy.Transporter, error) {
	if c.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("azure: read CA file: %w; check --ca-file", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("azure: no PEM certificate in " + c.CAFile + "; --ca-file must be a PEM CA bundle")
	}
	return TransportWithRoots(pool), nil
}

// TransportWithRoots returns an HTTP client that trusts exactly the given roots.
func TransportWithRoots(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}
