package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

const (
	moduleName    = "github.com/azs-courier/azs-courier/azure"
	moduleVersion = "v0.1.0"

	// RegistrationAPIVersion is the api-version of the registration calls,
	// the PowerShell module's $azureResourceApiVersion.
	RegistrationAPIVersion = "2017-06-01"
	// listBySubscriptionAPIVersion: Registrations_ListBySubscription is only
	// in the 2022-06-01 spec.
	listBySubscriptionAPIVersion = "2022-06-01"
	// lockAPIVersion: the management locks calls, as armlocks v1.1.0 sends
	// them (azure-registration.md §5, §9.3).
	lockAPIVersion = "2020-05-01"
	// subscriptionAPIVersion: Subscriptions_List, Subscriptions_Get and
	// Subscriptions_ListLocations of azure-rest-api-specs
	// specification/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/subscriptions.json.
	// The module lists locations with Get-AzLocation and leaves the version to
	// Az (azure-registration.md §2.4, §5).
	subscriptionAPIVersion = "2022-12-01"
)

// registrationsClient calls Microsoft.AzureStack/registrations in the shape
// of armazurestack's RegistrationsClient, with api-version 2017-06-01.
type registrationsClient struct {
	internal       *arm.Client
	subscriptionID string
}

type (
	registrationsClientGetOptions              struct{}
	registrationsClientCreateOrUpdateOptions   struct{}
	registrationsClientDeleteOptions           struct{}
	registrationsClientGetActivationKeyOptions struct{}
	registrationsClientListOptions             struct{}
)

type registrationsClientGetResponse struct{ Registration }
type registrationsClientCreateOrUpdateResponse struct{ Registration }
type registrationsClientDeleteResponse struct{}
type registrationsClientGetActivationKeyResponse struct{ ActivationKeyResult }
type registrationsClientListResponse struct{ RegistrationList }

func newRegistrationsClient(subscriptionID string, internal *arm.Client) *registrationsClient {
	return &registrationsClient{internal: internal, subscriptionID: subscriptionID}
}

func (c *registrationsClient) resourcePath(resourceGroup, name string) (string, error) {
	if c.subscriptionID == "" {
		return "", errors.New("parameter subscriptionID cannot be empty")
	}
	if resourceGroup == "" {
		return "", errors.New("parameter resourceGroup cannot be empty")
	}
	if name == "" {
		return "", errors.New("parameter registrationName cannot be empty")
	}
	return "/subscriptions/" + url.PathEscape(c.subscriptionID) + "/resourceGroups/" + url.PathEscape(resourceGroup) +
		"/providers/Microsoft.AzureStack/registrations/" + url.PathEscape(name), nil
}

// newRequest builds a request for path under the ARM endpoint with the
// api-version and an Accept header, as the generated clients do.
func newRequest(ctx context.Context, c *arm.Client, method, path, apiVersion string) (*policy.Request, error) {
	req, err := runtime.NewRequest(ctx, method, runtime.JoinPaths(c.Endpoint(), path))
	if err != nil {
		return nil, err
	}
	q := req.Raw().URL.Query()
	q.Set("api-version", apiVersion)
	req.Raw().URL.RawQuery = q.Encode()
	req.Raw().Header["Accept"] = []string{"application/json"}
	return req, nil
}

// do sends req and accepts only the listed status codes; any other becomes an
// *azcore.ResponseError.
func do(c *arm.Client, req *policy.Request, statusCodes ...int) (*http.Response, error) {
	resp, err := c.Pipeline().Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, statusCodes...) {
		return nil, runtime.NewResponseError(resp)
	}
	return resp, nil
}

// Get returns a registration: GET .../registrations/{name}.
func (c *registrationsClient) Get(ctx context.Context, resourceGroup, name string, _ *registrationsClientGetOptions) (registrationsClientGetResponse, error) {
	path, err := c.resourcePath(resourceGroup, name)
	if err != nil {
		return registrationsClientGetResponse{}, err
	}
	req, err := newRequest(ctx, c.internal, http.MethodGet, path, RegistrationAPIVersion)
	if err != nil {
		return registrationsClientGetResponse{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK)
	if err != nil {
		return registrationsClientGetResponse{}, err
	}
	var result registrationsClientGetResponse
	if err := runtime.UnmarshalAsJSON(resp, &result.Registration); err != nil {
		return registrationsClientGetResponse{}, err
	}
	return result, nil
}

// CreateOrUpdate creates or updates a registration: PUT .../registrations/{name}.
func (c *registrationsClient) CreateOrUpdate(ctx context.Context, resourceGroup, name string, token RegistrationParameter, _ *registrationsClientCreateOrUpdateOptions) (registrationsClientCreateOrUpdateResponse, error) {
	path, err := c.resourcePath(resourceGroup, name)
	if err != nil {
		return registrationsClientCreateOrUpdateResponse{}, err
	}
	req, err := newRequest(ctx, c.internal, http.MethodPut, path, RegistrationAPIVersion)
	if err != nil {
		return registrationsClientCreateOrUpdateResponse{}, err
	}
	if err := runtime.MarshalAsJSON(req, token); err != nil {
		return registrationsClientCreateOrUpdateResponse{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK, http.StatusCreated)
	if err != nil {
		return registrationsClientCreateOrUpdateResponse{}, err
	}
	var result registrationsClientCreateOrUpdateResponse
	if err := runtime.UnmarshalAsJSON(resp, &result.Registration); err != nil {
		return registrationsClientCreateOrUpdateResponse{}, err
	}
	return result, nil
}

// Delete deletes a registration: DELETE .../registrations/{name}.
func (c *registrationsClient) Delete(ctx context.Context, resourceGroup, name string, _ *registrationsClientDeleteOptions) (registrationsClientDeleteResponse, error) {
	path, err := c.resourcePath(resourceGroup, name)
	if err != nil {
		return registrationsClientDeleteResponse{}, err
	}
	req, err := newRequest(ctx, c.internal, http.MethodDelete, path, RegistrationAPIVersion)
	if err != nil {
		return registrationsClientDeleteResponse{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return registrationsClientDeleteResponse{}, err
	}
	runtime.Drain(resp)
	return registrationsClientDeleteResponse{}, nil
}

// GetActivationKey returns the activation key of a registration:
// POST .../registrations/{name}/getactivationkey with no body.
func (c *registrationsClient) GetActivationKey(ctx context.Context, resourceGroup, name string, _ *registrationsClientGetActivationKeyOptions) (registrationsClientGetActivationKeyResponse, error) {
	path, err := c.resourcePath(resourceGroup, name)
	if err != nil {
		return registrationsClientGetActivationKeyResponse{}, err
	}
	req, err := newRequest(ctx, c.internal, http.MethodPost, path+"/getactivationkey", RegistrationAPIVersion)
	if err != nil {
		return registrationsClientGetActivationKeyResponse{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK)
	if err != nil {
		return registrationsClientGetActivationKeyResponse{}, err
	}
	var result registrationsClientGetActivationKeyResponse
	if err := runtime.UnmarshalAsJSON(resp, &result.ActivationKeyResult); err != nil {
		return registrationsClientGetActivationKeyResponse{}, err
	}
	return result, nil
}

// NewListPager lists the registrations of a resource group:
// GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.AzureStack/registrations.
func (c *registrationsClient) NewListPager(resourceGroup string, _ *registrationsClientListOptions) *runtime.Pager[registrationsClientListResponse] {
	path := "/subscriptions/" + url.PathEscape(c.subscriptionID) + "/resourceGroups/" + url.PathEscape(resourceGroup) +
		"/providers/Microsoft.AzureStack/registrations"
	return c.listPager(path, RegistrationAPIVersion, resourceGroup == "")
}

// NewListBySubscriptionPager lists the registrations of the subscription:
// GET /subscriptions/{sub}/providers/Microsoft.AzureStack/registrations
// (api-version 2022-06-01, the first that has this operation).
func (c *registrationsClient) NewListBySubscriptionPager(_ *registrationsClientListOptions) *runtime.Pager[registrationsClientListResponse] {
	path := "/subscriptions/" + url.PathEscape(c.subscriptionID) + "/providers/Microsoft.AzureStack/registrations"
	return c.listPager(path, listBySubscriptionAPIVersion, false)
}

func (c *registrationsClient) listPager(path, apiVersion string, emptyRG bool) *runtime.Pager[registrationsClientListResponse] {
	return runtime.NewPager(runtime.PagingHandler[registrationsClientListResponse]{
		More: func(page registrationsClientListResponse) bool {
			return page.NextLink != nil && len(*page.NextLink) > 0
		},
		Fetcher: func(ctx context.Context, page *registrationsClientListResponse) (registrationsClientListResponse, error) {
			if emptyRG {
				return registrationsClientListResponse{}, errors.New("parameter resourceGroup cannot be empty")
			}
			var req *policy.Request
			var err error
			if page == nil {
				req, err = newRequest(ctx, c.internal, http.MethodGet, path, apiVersion)
			} else {
				req, err = runtime.NewRequest(ctx, http.MethodGet, *page.NextLink)
			}
			if err != nil {
				return registrationsClientListResponse{}, err
			}
			resp, err := do(c.internal, req, http.StatusOK)
			if err != nil {
				return registrationsClientListResponse{}, err
			}
			var result registrationsClientListResponse
			if err := runtime.UnmarshalAsJSON(resp, &result.RegistrationList); err != nil {
				return registrationsClientListResponse{}, err
			}
			return result, nil
		},
	})
}

// locksClient manages the lock on one registration in the shape of armlocks'
// ManagementLocksClient (the *AtResourceLevel operations), api-version 2020-05-01.
type locksClient struct {
	internal       *arm.Client
	subscriptionID string
}

type locksClientGetResponse struct{ ManagementLockObject }
type locksClientCreateOrUpdateResponse struct{ ManagementLockObject }
type locksClientDeleteResponse struct{}

func (c *locksClient) path(resourceGroup, registration, lockName string) (string, error) {
	if c.subscriptionID == "" || resourceGroup == "" || registration == "" || lockName == "" {
		return "", errors.New("parameters subscriptionID, resourceGroup, registrationName and lockName cannot be empty")
	}
	// The PowerShell module names the type 'Microsoft.Azurestack/registrations'; ARM is case-insensitive.
	return "/subscriptions/" + url.PathEscape(c.subscriptionID) + "/resourcegroups/" + url.PathEscape(resourceGroup) +
		"/providers/Microsoft.AzureStack/registrations/" + url.PathEscape(registration) +
		"/providers/Microsoft.Authorization/locks/" + url.PathEscape(lockName), nil
}

// GetAtResourceLevel returns the lock, or an *azcore.ResponseError with
// status 404 when there is none.
func (c *locksClient) GetAtResourceLevel(ctx context.Context, resourceGroup, registration, lockName string) (locksClientGetResponse, error) {
	path, err := c.path(resourceGroup, registration, lockName)
	if err != nil {
		return locksClientGetResponse{}, err
	}
	req, err := newRequest(ctx, c.internal, http.MethodGet, path, lockAPIVersion)
	if err != nil {
		return locksClientGetResponse{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK)
	if err != nil {
		return locksClientGetResponse{}, err
	}
	var result locksClientGetResponse
	if err := runtime.UnmarshalAsJSON(resp, &result.ManagementLockObject); err != nil {
		return locksClientGetResponse{}, err
	}
	return result, nil
}

// CreateOrUpdateAtResourceLevel creates or updates the lock.
func (c *locksClient) CreateOrUpdateAtResourceLevel(ctx context.Context, resourceGroup, registration, lockName string, lock ManagementLockObject) (locksClientCreateOrUpdateResponse, error) {
	path, err := c.path(resourceGroup, registration, lockName)
	if err != nil {
		return locksClientCreateOrUpdateResponse{}, err
	}
	req, err := newRequest(ctx, c.internal, http.MethodPut, path, lockAPIVersion)
	if err != nil {
		return locksClientCreateOrUpdateResponse{}, err
	}
	if err := runtime.MarshalAsJSON(req, lock); err != nil {
		return locksClientCreateOrUpdateResponse{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK, http.StatusCreated)
	if err != nil {
		return locksClientCreateOrUpdateResponse{}, err
	}
	var result locksClientCreateOrUpdateResponse
	if err := runtime.UnmarshalAsJSON(resp, &result.ManagementLockObject); err != nil {
		return locksClientCreateOrUpdateResponse{}, err
	}
	return result, nil
}

// DeleteAtResourceLevel deletes the lock.
func (c *locksClient) DeleteAtResourceLevel(ctx context.Context, resourceGroup, registration, lockName string) (locksClientDeleteResponse, error) {
	path, err := c.path(resourceGroup, registration, lockName)
	if err != nil {
		return locksClientDeleteResponse{}, err
	}
	req, err := newRequest(ctx, c.internal, http.MethodDelete, path, lockAPIVersion)
	if err != nil {
		return locksClientDeleteResponse{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return locksClientDeleteResponse{}, err
	}
	runtime.Drain(resp)
	return locksClientDeleteResponse{}, nil
}

// isNotFound reports whether err is an ARM 404.
func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// providerNotRegistered reports whether err is ARM's answer for a
// subscription that has not registered the resource provider.
func providerNotRegistered(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusConflict &&
		strings.EqualFold(re.ErrorCode, "MissingSubscriptionRegistration")
}

// ListSubscriptions returns the subscriptions the credential can see in
// cloud c: GET /subscriptions?api-version=2022-12-01.
func ListSubscriptions(ctx context.Context, c Cloud, cred azcore.TokenCredential, o *ClientOptions) ([]Subscription, error) {
	client, err := newARMClient(c, cred, o)
	if err != nil {
		return nil, err
	}
	var subs []Subscription
	var next string
	for {
		var req *policy.Request
		if next == "" {
			req, err = newRequest(ctx, client, http.MethodGet, "/subscriptions", subscriptionAPIVersion)
		} else {
			req, err = runtime.NewRequest(ctx, http.MethodGet, next)
		}
		if err != nil {
			return nil, err
		}
		resp, err := do(client, req, http.StatusOK)
		if err != nil {
			return nil, explain("list subscriptions", "Microsoft.Resources/subscriptions/read", err)
		}
		var page SubscriptionList
		if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
			return nil, fmt.Errorf("azure: list subscriptions: %w", err)
		}
		for _, s := range page.Value {
			if s != nil {
				subs = append(subs, *s)
			}
		}
		next = strings.TrimSpace(deref(page.NextLink))
		if next == "" {
			return subs, nil
		}
	}
}
