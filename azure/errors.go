package azure

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Sentinel errors; the typed errors below wrap them.
var (
	// ErrCloudIDInUse means another registration already holds the cloud ID.
	ErrCloudIDInUse = errors.New("azure: cloud ID already registered")
	// ErrNotFound means no registration matched.
	ErrNotFound = errors.New("azure: registration not found")
	// ErrMismatch means Azure answered with another cloud ID than expected.
	ErrMismatch = errors.New("azure: cloud ID mismatch")
)

// Error is a failed ARM or sign-in call with advice for the user. It keeps
// the underlying error (an *azcore.ResponseError for an ARM answer) in the
// chain, so callers can use errors.As on it.
type Error struct {
	// Op says what was being done, e.g. "create the registration lock".
	Op string
	// Permission is the Azure RBAC action Op needs.
	Permission string
	// Err is the cause.
	Err error
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	return "azure: " + e.Op + ": " + e.problem()
}

// StatusCode returns the HTTP status of the ARM answer, or 0.
func (e *Error) StatusCode() int {
	var re *azcore.ResponseError
	if errors.As(e.Err, &re) {
		return re.StatusCode
	}
	return 0
}

func (e *Error) problem() string {
	var re *azcore.ResponseError
	if !errors.As(e.Err, &re) {
		return e.transportProblem()
	}
	code, msg := armError(re)
	what := fmt.Sprintf("%d %s", re.StatusCode, code)
	if msg != "" {
		what += ": " + msg
	}
	switch re.StatusCode {
	case http.StatusUnauthorized:
		return "Azure rejected the sign-in (" + what + "); sign in again, and check --tenant and the cloud"
	case http.StatusForbidden:
		return "permission denied (" + what + "); the signed-in identity needs " + e.Permission +
			" on the subscription or resource group: " + roleFor(e.Permission)
	case http.StatusNotFound:
		return "not found (" + what + "); check --subscription, --resource-group and --name"
	case http.StatusConflict:
		return "conflict (" + what + ")" + conflictAdvice(code)
	case http.StatusTooManyRequests:
		after := re.RawResponse.Header.Get("Retry-After")
		if after == "" {
			after = "a while"
		} else {
			after += " s"
		}
		return "Azure is throttling requests (" + what + "); wait " + after + " and run the command again"
	case http.StatusBadRequest:
		return "Azure refused the request (" + what + ")" + badRequestAdvice(code)
	}
	if re.StatusCode >= 500 {
		return "Azure failed (" + what + ") and kept failing after retries; try again later"
	}
	return "Azure answered " + what
}

func (e *Error) transportProblem() string {
	var unknownCA x509.UnknownAuthorityError
	// azidentity flattens transport errors into text, so the type is lost
	// there; the x509 wording is the only trace of an untrusted certificate.
	if errors.As(e.Err, &unknownCA) || strings.Contains(e.Err.Error(), "x509: certificate signed by unknown authority") {
		return "the server's certificate is not trusted (" + oneLine(e.Err.Error()) + "); give its CA with --ca-file"
	}
	if timedOut(e.Err) {
		return "Azure did not answer in time (" + oneLine(e.Err.Error()) + "); check the network connection, the proxy and the endpoints, or try again later"
	}
	var af *azidentity.AuthenticationFailedError
	if errors.As(e.Err, &af) {
		return "sign-in failed: " + oneLine(af.Error()) + "; check the tenant, client ID and secret or sign in again"
	}
	return oneLine(e.Err.Error()) + "; check the network connection and the endpoints"
}

// timedOut reports a request that ran out of time. azidentity flattens
// transport errors into text, so the wording is checked too.
func timedOut(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "context deadline exceeded") ||
		strings.Contains(err.Error(), "Client.Timeout exceeded")
}

// roleFor names the built-in roles that grant a permission.
func roleFor(permission string) string {
	switch {
	case strings.HasPrefix(permission, "Microsoft.Authorization/locks/"):
		return "ask for the Owner or User Access Administrator role (Contributor and Azure Stack Registration Owner cannot manage locks)"
	case strings.HasPrefix(permission, "Microsoft.AzureStack/register/"):
		return "ask for the Contributor or Owner role on the subscription (registering a resource provider is a subscription-level action)"
	case permission == "":
		return "ask for the Contributor or Owner role"
	default:
		return "ask for " + askRoles(RolesGranting(permission))
	}
}

func conflictAdvice(code string) string {
	switch strings.ToLower(code) {
	case "scopelocked":
		return "; remove the lock " + LockName + " first (azs-courier unregister does this), or ask an Owner"
	case "cloudidalreadyregistered", "cloudidentifieralreadyregistered":
		return "; another registration (perhaps in another subscription) holds this cloud ID: reuse it or unregister it there first"
	case "cloudidupdatenotallowed":
		return "; this registration name belongs to another stamp: choose another --name"
	case "invalidresourcegrouplocation":
		return "; give --location of the existing resource group, or another --resource-group"
	case "missingsubscriptionregistration":
		return "; the Microsoft.AzureStack provider is not registered yet: run register again"
	case "roledefinitionwithsamenameexists":
		return "; a custom role of this name already exists in the directory, assignable elsewhere: add this subscription to its assignable scopes, or choose another role name"
	case "readonlydisabledsubscription":
		return "; the subscription is disabled: re-enable it, or choose another with --subscription"
	}
	return ""
}

func badRequestAdvice(code string) string {
	switch strings.ToLower(code) {
	case "invalidregistrationtoken":
		return "; the registration token is malformed: make a new one on the stamp (azs-courier token)"
	case "locationnotavailableforresourcegroup":
		return "; choose another --location"
	case "invalidactionornotaction":
		return "; an action of the role is not known to Azure: check the role definition"
	}
	return ""
}

// armError returns the code and message of an ARM error body
// {"error":{"code","message"}}, falling back to the response's error code.
func armError(re *azcore.ResponseError) (code, msg string) {
	code = re.ErrorCode
	if re.RawResponse == nil {
		return code, ""
	}
	body, err := runtime.Payload(re.RawResponse)
	if err != nil {
		return code, ""
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		if code == "" {
			code = e.Error.Code
		}
		msg = oneLine(e.Error.Message)
	}
	if code == "" {
		code = http.StatusText(re.StatusCode)
	}
	return code, msg
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// explain wraps err, unless it is a context error, as an *Error.
func explain(op, permission string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("azure: %s: %w", op, err)
	}
	return &Error{Op: op, Permission: permission, Err: err}
}

// CloudIDInUseError reports a registration other than the requested one that
// already holds the cloud ID. It wraps ErrCloudIDInUse.
type CloudIDInUseError struct {
	CloudID  string
	Existing RegistrationInfo
}

func (e *CloudIDInUseError) Error() string {
	return fmt.Sprintf("azure: cloud ID %s is already registered as %q in resource group %q; reuse it with --name %s --resource-group %s, or remove it first with unregister --name %s --resource-group %s",
		e.CloudID, e.Existing.Name, e.Existing.ResourceGroup, e.Existing.Name, e.Existing.ResourceGroup, e.Existing.Name, e.Existing.ResourceGroup)
}

func (e *CloudIDInUseError) Unwrap() error { return ErrCloudIDInUse }

// NameInUseError reports that the requested registration name already
// belongs to another cloud ID (Azure would answer CloudIdUpdateNotAllowed).
type NameInUseError struct {
	Name, ResourceGroup, CloudID, Want string
}

func (e *NameInUseError) Error() string {
	return fmt.Sprintf("azure: registration %q in resource group %q belongs to cloud ID %s, not %s; choose another --name",
		e.Name, e.ResourceGroup, e.CloudID, e.Want)
}

// MismatchError reports a value Azure returned that differs from the one
// expected, both side by side. It wraps ErrMismatch.
type MismatchError struct {
	What, Want, Got string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("azure: %s mismatch: want %s, got %s", e.What, e.Want, e.Got)
}

func (e *MismatchError) Unwrap() error { return ErrMismatch }
