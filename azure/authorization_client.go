package azure

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// authorizationAPIVersion is the api-version of the Microsoft.Authorization
// permissions and role definition calls: the stable 2022-04-01 spec
// (azure-rest-api-specs, specification/authorization/resource-manager/
// Microsoft.Authorization/stable/2022-04-01/authorization-RoleDefinitionsCalls.json),
// the version armauthorization/v2 v2.2.0 sends (azure-registration.md §9.4).
const authorizationAPIVersion = "2022-04-01"

// maxPages bounds every list this package pages through, so that a server
// answering nextLink forever cannot keep a call going.
const maxPages = 100

// getPages GETs path (or, after the first page, the page's nextLink) and
// hands each decoded page to add, which returns the page's nextLink.
func getPages[T any](ctx context.Context, c *arm.Client, path, apiVersion string, query url.Values, add func(*T) string) error {
	next := ""
	for i := 0; ; i++ {
		if i == maxPages {
			return errors.New("more than 100 pages; the server keeps answering nextLink")
		}
		var req *policy.Request
		var err error
		if next == "" {
			req, err = newRequest(ctx, c, http.MethodGet, path, apiVersion)
			if err == nil && len(query) > 0 {
				q := req.Raw().URL.Query()
				for k, v := range query {
					q[k] = v
				}
				// OData wants %20, not '+', between the words of a $filter.
				req.Raw().URL.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
			}
		} else {
			req, err = runtime.NewRequest(ctx, http.MethodGet, next)
		}
		if err != nil {
			return err
		}
		resp, err := do(c, req, http.StatusOK)
		if err != nil {
			return err
		}
		var page T
		if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
			return err
		}
		if next = strings.TrimSpace(add(&page)); next == "" {
			return nil
		}
	}
}

// permissionsClient reads the caller's permissions, in the shape of
// armauthorization's PermissionsClient.
type permissionsClient struct {
	internal       *arm.Client
	subscriptionID string
}

// ListForResourceGroup is Permissions_ListForResourceGroup:
// GET /subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Authorization/permissions.
func (c *permissionsClient) ListForResourceGroup(ctx context.Context, resourceGroup string) (Permissions, error) {
	if resourceGroup == "" {
		return nil, errors.New("parameter resourceGroupName cannot be empty")
	}
	return c.list(ctx, "/subscriptions/"+url.PathEscape(c.subscriptionID)+"/resourcegroups/"+url.PathEscape(resourceGroup)+
		"/providers/Microsoft.Authorization/permissions")
}

// ListForSubscription is the same call at subscription scope:
// GET /subscriptions/{sub}/providers/Microsoft.Authorization/permissions.
// ARM serves it though the spec does not list it (azure-rest-api-specs issue
// 19473, "Get direct permission via subscription").
func (c *permissionsClient) ListForSubscription(ctx context.Context) (Permissions, error) {
	return c.list(ctx, "/subscriptions/"+url.PathEscape(c.subscriptionID)+"/providers/Microsoft.Authorization/permissions")
}

func (c *permissionsClient) list(ctx context.Context, path string) (Permissions, error) {
	var out Permissions
	err := getPages(ctx, c.internal, path, authorizationAPIVersion, nil, func(p *PermissionGetResult) string {
		for _, e := range p.Value {
			if e != nil {
				out = append(out, *e)
			}
		}
		return deref(p.NextLink)
	})
	return out, err
}

// roleDefinitionsClient manages role definitions at subscription scope, in
// the shape of armauthorization's RoleDefinitionsClient.
type roleDefinitionsClient struct {
	internal       *arm.Client
	subscriptionID string
}

func (c *roleDefinitionsClient) scope() string {
	return "/subscriptions/" + url.PathEscape(c.subscriptionID)
}

// ListByName is RoleDefinitions_List with $filter=roleName eq '{name}'.
func (c *roleDefinitionsClient) ListByName(ctx context.Context, roleName string) ([]RoleDefinition, error) {
	filter := "roleName eq '" + strings.ReplaceAll(roleName, "'", "''") + "'"
	var out []RoleDefinition
	err := getPages(ctx, c.internal, c.scope()+"/providers/Microsoft.Authorization/roleDefinitions", authorizationAPIVersion,
		url.Values{"$filter": {filter}}, func(p *RoleDefinitionListResult) string {
			for _, d := range p.Value {
				if d != nil {
					out = append(out, *d)
				}
			}
			return deref(p.NextLink)
		})
	return out, err
}

// Get is RoleDefinitions_Get: GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{id}.
func (c *roleDefinitionsClient) Get(ctx context.Context, id string) (RoleDefinition, error) {
	if id == "" {
		return RoleDefinition{}, errors.New("parameter roleDefinitionId cannot be empty")
	}
	req, err := newRequest(ctx, c.internal, http.MethodGet, c.scope()+"/providers/Microsoft.Authorization/roleDefinitions/"+url.PathEscape(id), authorizationAPIVersion)
	if err != nil {
		return RoleDefinition{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK)
	if err != nil {
		return RoleDefinition{}, err
	}
	var rd RoleDefinition
	if err := runtime.UnmarshalAsJSON(resp, &rd); err != nil {
		return RoleDefinition{}, err
	}
	return rd, nil
}

// CreateOrUpdate is RoleDefinitions_CreateOrUpdate: PUT
// {scope}/providers/Microsoft.Authorization/roleDefinitions/{id}. The spec
// answers 201 for both; 200 is accepted too.
func (c *roleDefinitionsClient) CreateOrUpdate(ctx context.Context, id string, rd RoleDefinition) (RoleDefinition, error) {
	if id == "" {
		return RoleDefinition{}, errors.New("parameter roleDefinitionId cannot be empty")
	}
	req, err := newRequest(ctx, c.internal, http.MethodPut, c.scope()+"/providers/Microsoft.Authorization/roleDefinitions/"+url.PathEscape(id), authorizationAPIVersion)
	if err != nil {
		return RoleDefinition{}, err
	}
	// The body carries only what the caller may set (PutRoleDefinition.json).
	body := RoleDefinition{Properties: rd.Properties}
	if err := runtime.MarshalAsJSON(req, body); err != nil {
		return RoleDefinition{}, err
	}
	resp, err := do(c.internal, req, http.StatusCreated, http.StatusOK)
	if err != nil {
		return RoleDefinition{}, err
	}
	var out RoleDefinition
	if err := runtime.UnmarshalAsJSON(resp, &out); err != nil {
		return RoleDefinition{}, err
	}
	return out, nil
}

// subscriptionsClient reads a subscription and its locations, in the shape
// of armsubscriptions' Client, api-version 2022-12-01 (subscriptionAPIVersion).
type subscriptionsClient struct {
	internal       *arm.Client
	subscriptionID string
}

// Get is Subscriptions_Get: GET /subscriptions/{sub}.
func (c *subscriptionsClient) Get(ctx context.Context) (Subscription, error) {
	req, err := newRequest(ctx, c.internal, http.MethodGet, "/subscriptions/"+url.PathEscape(c.subscriptionID), subscriptionAPIVersion)
	if err != nil {
		return Subscription{}, err
	}
	resp, err := do(c.internal, req, http.StatusOK)
	if err != nil {
		return Subscription{}, err
	}
	var s Subscription
	if err := runtime.UnmarshalAsJSON(resp, &s); err != nil {
		return Subscription{}, err
	}
	return s, nil
}

// ListLocations is Subscriptions_ListLocations: GET /subscriptions/{sub}/locations
// (not pageable: the spec sets nextLinkName null).
func (c *subscriptionsClient) ListLocations(ctx context.Context) ([]SubscriptionLocation, error) {
	req, err := newRequest(ctx, c.internal, http.MethodGet, "/subscriptions/"+url.PathEscape(c.subscriptionID)+"/locations", subscriptionAPIVersion)
	if err != nil {
		return nil, err
	}
	resp, err := do(c.internal, req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var l LocationListResult
	if err := runtime.UnmarshalAsJSON(resp, &l); err != nil {
		return nil, err
	}
	var out []SubscriptionLocation
	for _, x := range l.Value {
		if x != nil {
			out = append(out, *x)
		}
	}
	return out, nil
}
