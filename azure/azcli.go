package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// cliEnv lists the environment variables the Azure CLI needs, the only ones
// it is started with: where it and its configuration live, the system's
// folders, the proxy and CA settings, the language. Nothing else of ours
// reaches it — not AZS_PEP_PASSWORD, not AZURE_CLIENT_SECRET.
var cliEnv = []string{
	"PATH", "PATHEXT", "HOME", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "APPDATA", "LOCALAPPDATA", "PROGRAMDATA",
	"PROGRAMFILES", "PROGRAMFILES(X86)", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "TEMP", "TMP", "TMPDIR",
	"AZURE_CONFIG_DIR", "AZURE_EXTENSION_DIR", "AZURE_CORE_OUTPUT", "AZURE_CORE_ONLY_SHOW_ERRORS", "AZURE_CORE_NO_COLOR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
	"LANG", "LC_ALL", "LC_CTYPE", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "USER", "LOGNAME",
}

// ChildEnv returns the environment for the Azure CLI from getenv: the
// variables of cliEnv that are set, proxy variables in either case.
func ChildEnv(getenv func(string) string) []string {
	var env []string
	seen := map[string]bool{}
	for _, k := range cliEnv {
		for _, name := range []string{k, strings.ToLower(k)} {
			if seen[name] {
				continue
			}
			seen[name] = true
			if v := getenv(name); v != "" {
				env = append(env, name+"="+v)
			}
		}
	}
	return env
}

// cliCredential gets ARM tokens from the Azure CLI (`az account
// get-access-token`), as azidentity's AzureCLICredential does, but starts
// it with ChildEnv only.
type cliCredential struct {
	tenant string
	getenv func(string) string
}

var _ azcore.TokenCredential = (*cliCredential)(nil)

// GetToken implements azcore.TokenCredential.
func (c *cliCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(o.Scopes) != 1 {
		return azcore.AccessToken{}, fmt.Errorf("azure: the Azure CLI gets a token for one scope, not %d", len(o.Scopes))
	}
	args := []string{"account", "get-access-token", "--output", "json", "--scope", o.Scopes[0]}
	tenant := c.tenant
	if o.TenantID != "" {
		tenant = o.TenantID
	}
	if tenant != "" {
		if !validTenant(tenant) {
			return azcore.AccessToken{}, fmt.Errorf("azure: tenant %q is not a tenant ID or domain", tenant)
		}
		args = append(args, "--tenant", tenant)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd, err := c.command(ctx, args)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i > 0 {
			msg = msg[:i]
		}
		if ctx.Err() != nil {
			return azcore.AccessToken{}, fmt.Errorf("azure: the Azure CLI did not answer within a minute: %w", ctx.Err())
		}
		return azcore.AccessToken{}, fmt.Errorf("azure: the Azure CLI could not give a token (%s): %w; run 'az login' first, or choose another --auth method", msg, err)
	}
	var out struct {
		AccessToken string          `json:"accessToken"`
		ExpiresOn   string          `json:"expiresOn"`
		ExpiresUnix json.RawMessage `json:"expires_on"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.AccessToken == "" {
		return azcore.AccessToken{}, errors.New("azure: the Azure CLI's answer holds no access token; update the Azure CLI")
	}
	return azcore.AccessToken{Token: out.AccessToken, ExpiresOn: expiry(out.ExpiresUnix, out.ExpiresOn)}, nil
}

// command returns the az command line: az itself on Unix, found on the
// child's PATH; through cmd.exe on Windows, where az is a batch file.
func (c *cliCredential) command(ctx context.Context, args []string) (*exec.Cmd, error) {
	env := ChildEnv(c.getenv)
	if runtime.GOOS == "windows" {
		root := c.getenv("SYSTEMROOT")
		if root == "" {
			root = `C:\Windows`
		}
		cmd := exec.CommandContext(ctx, filepath.Join(root, "System32", "cmd.exe"), append([]string{"/c", "az"}, args...)...)
		cmd.Env, cmd.Dir = env, root
		return cmd, nil
	}
	az := lookPath("az", c.getenv("PATH"))
	if az == "" {
		return nil, errors.New("azure: the Azure CLI (az) is not on PATH; install it, or choose another --auth method")
	}
	cmd := exec.CommandContext(ctx, az, args...)
	cmd.Env, cmd.Dir = env, "/"
	return cmd, nil
}

// lookPath finds an executable name in the folders of path.
func lookPath(name, path string) string {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// expiry reads the token's expiry: expires_on (Unix seconds, newer CLIs),
// else expiresOn (local time), else in five minutes.
func expiry(unix json.RawMessage, local string) time.Time {
	var n int64
	if len(unix) > 0 && json.Unmarshal(unix, &n) == nil && n > 0 {
		return time.Unix(n, 0)
	}
	var s string
	if len(unix) > 0 && json.Unmarshal(unix, &s) == nil {
		var v int64
		if _, err := fmt.Sscan(s, &v); err == nil && v > 0 {
			return time.Unix(v, 0)
		}
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", local, time.Local); err == nil {
		return t
	}
	return time.Now().Add(5 * time.Minute)
}

func validTenant(t string) bool {
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return t != ""
}
