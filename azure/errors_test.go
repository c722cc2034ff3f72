package azure

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

func armResponse(status int, header http.Header, body string) error {
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/json")
	u, _ := url.Parse("https://management.azure.com/subscriptions/s/resourceGroups/azurestack")
	return runtime.NewResponseError(&http.Response{StatusCode: status, Header: header,
		Body: io.NopCloser(strings.NewReader(body)), Request: &http.Request{Method: "PUT", URL: u}})
}

func TestErrorAdvice(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		header     http.Header
		body       string
		permission string
		want       []string
	}{
		{"403 lock", 403, nil, `{"error":{"code":"AuthorizationFailed","message":"The client 'x' does not have authorization\nto perform action"}}`,
			"Microsoft.Authorization/locks/write",
			[]string{"permission denied (403 AuthorizationFailed: The client 'x' does not have authorization to perform action)", "Microsoft.Authorization/locks/write", "Owner or User Access Administrator"}},
		{"403 provider", 403, nil, `{"error":{"code":"AuthorizationFailed","message":"no"}}`, "Microsoft.AzureStack/register/action",
			[]string{"Microsoft.AzureStack/register/action", "Contributor or Owner role on the subscription"}},
		{"409 locked", 409, nil, `{"error":{"code":"ScopeLocked","message":"locked"}}`, "",
			[]string{"conflict (409 ScopeLocked: locked)", "remove the lock RegistrationResourceLock"}},
		{"409 name", 409, nil, `{"error":{"code":"CloudIdUpdateNotAllowed","message":"The registration 'r' is already associated with another Cloud identifier"}}`, "",
			[]string{"409 CloudIdUpdateNotAllowed", "choose another --name"}},
		{"400 token", 400, nil, `{"error":{"code":"InvalidRegistrationToken","message":"The registration token is malformed."}}`, "",
			[]string{"malformed", "make a new one on the stamp"}},
		{"429", 429, http.Header{"Retry-After": {"17"}}, `{"error":{"code":"TooManyRequests","message":"slow down"}}`, "",
			[]string{"throttling", "wait 17 s"}},
		{"503 without body", 503, nil, ``, "", []string{"503 Service Unavailable", "try again later"}},
		{"401", 401, nil, `{"error":{"code":"ExpiredAuthenticationToken","message":"expired"}}`, "", []string{"sign in again"}},
		{"404", 404, nil, `{"error":{"code":"ResourceNotFound","message":"gone"}}`, "", []string{"not found (404 ResourceNotFound: gone)", "--resource-group"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := explain("do it", tc.permission, armResponse(tc.status, tc.header, tc.body))
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("not one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("got %q, want it to contain %q", msg, w)
				}
			}
			var re *azcore.ResponseError
			if !errors.As(err, &re) || re.StatusCode != tc.status {
				t.Errorf("ResponseError with status %d not in the chain of %v", tc.status, err)
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.StatusCode() != tc.status {
				t.Errorf("*Error with status %d not in the chain", tc.status)
			}
		})
	}
}
