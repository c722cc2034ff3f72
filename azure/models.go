package azure

import (
	"bytes"
	"encoding/json"
)

// The models follow the Microsoft.AzureStack 2017-06-01 REST spec
// (Registration.json) and, for locks, Microsoft.Authorization 2020-05-01, in
// the shape armazurestack and armlocks generate: pointer fields, so that an
// absent value and an empty one differ.

// Location is a registration location. The spec's enum has one value.
type Location string

// LocationGlobal is the only registration location the spec allows. (The
// PowerShell module sends "Global"; ARM accepts both, the spec says "global".)
const LocationGlobal Location = "global"

// RegistrationParameter is the body of a registration PUT.
type RegistrationParameter struct {
	Location   *Location                        `json:"location,omitempty"`
	Properties *RegistrationParameterProperties `json:"properties,omitempty"`
}

// RegistrationParameterProperties holds the registration token.
type RegistrationParameterProperties struct {
	RegistrationToken *string `json:"registrationToken,omitempty"`
}

// Registration is a Microsoft.AzureStack/registrations resource.
type Registration struct {
	ID         *string                 `json:"id,omitempty"`
	Name       *string                 `json:"name,omitempty"`
	Type       *string                 `json:"type,omitempty"`
	Location   *Location               `json:"location,omitempty"`
	Etag       *string                 `json:"etag,omitempty"`
	Tags       map[string]*string      `json:"tags,omitempty"`
	Properties *RegistrationProperties `json:"properties,omitempty"`
}

// RegistrationProperties are a registration's read-only properties.
type RegistrationProperties struct {
	// ObjectID identifies the Azure Stack connecting to Azure.
	ObjectID *string `json:"objectId,omitempty"`
	// CloudID identifies the registered Azure Stack.
	CloudID *string `json:"cloudId,omitempty"`
	// BillingModel is the billing mode of the registration.
	BillingModel *string `json:"billingModel,omitempty"`
}

// RegistrationList is one page of registrations.
type RegistrationList struct {
	Value    []*Registration `json:"value,omitempty"`
	NextLink *string         `json:"nextLink,omitempty"`
}

// ActivationKeyResult is the answer of getactivationkey.
type ActivationKeyResult struct {
	ActivationKey *string `json:"activationKey,omitempty"`
}

// LockLevel is the level of a management lock.
type LockLevel string

// Lock levels.
const (
	LockLevelCanNotDelete LockLevel = "CanNotDelete"
	LockLevelReadOnly     LockLevel = "ReadOnly"
	LockLevelNotSpecified LockLevel = "NotSpecified"
)

// ManagementLockObject is a Microsoft.Authorization/locks resource.
type ManagementLockObject struct {
	ID         *string                   `json:"id,omitempty"`
	Name       *string                   `json:"name,omitempty"`
	Type       *string                   `json:"type,omitempty"`
	Properties *ManagementLockProperties `json:"properties,omitempty"`
}

// ManagementLockProperties are a lock's level and notes.
type ManagementLockProperties struct {
	Level  *LockLevel             `json:"level,omitempty"`
	Notes  *string                `json:"notes,omitempty"`
	Owners []*ManagementLockOwner `json:"owners,omitempty"`
}

// ManagementLockOwner is an owner of a lock.
type ManagementLockOwner struct {
	ApplicationID *string `json:"applicationId,omitempty"`
}

// Subscription is an Azure subscription the credential can see.
type Subscription struct {
	ID             *string `json:"id,omitempty"`
	SubscriptionID *string `json:"subscriptionId,omitempty"`
	DisplayName    *string `json:"displayName,omitempty"`
	State          *string `json:"state,omitempty"`
	TenantID       *string `json:"tenantId,omitempty"`
}

// SubscriptionList is one page of subscriptions.
type SubscriptionList struct {
	Value    []*Subscription `json:"value,omitempty"`
	NextLink *string         `json:"nextLink,omitempty"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// The models below follow Microsoft.Authorization 2022-04-01
// (authorization-RoleDefinitionsCalls.json) and Microsoft.Resources
// 2022-12-01 (subscriptions.json), in the shape armauthorization and
// armsubscriptions generate.

// Permission is what one role assignment grants: Actions less NotActions of
// the same entry. Patterns may hold '*' wildcards (see [Permissions.Allows]).
type Permission struct {
	Actions        []*string `json:"actions,omitempty"`
	NotActions     []*string `json:"notActions,omitempty"`
	DataActions    []*string `json:"dataActions,omitempty"`
	NotDataActions []*string `json:"notDataActions,omitempty"`
}

// PermissionGetResult is one page of GET {scope}/providers/Microsoft.Authorization/permissions.
type PermissionGetResult struct {
	Value    []*Permission `json:"value,omitempty"`
	NextLink *string       `json:"nextLink,omitempty"`
}

// RoleDefinition is a Microsoft.Authorization/roleDefinitions resource.
type RoleDefinition struct {
	ID         *string                   `json:"id,omitempty"`
	Name       *string                   `json:"name,omitempty"`
	Type       *string                   `json:"type,omitempty"`
	Properties *RoleDefinitionProperties `json:"properties,omitempty"`
}

// RoleDefinitionProperties are a role's name, permissions and where it may be assigned.
type RoleDefinitionProperties struct {
	RoleName         *string       `json:"roleName,omitempty"`
	Description      *string       `json:"description,omitempty"`
	RoleType         *string       `json:"type,omitempty"`
	Permissions      []*Permission `json:"permissions,omitempty"`
	AssignableScopes []*string     `json:"assignableScopes,omitempty"`
}

// RoleDefinitionListResult is one page of role definitions.
type RoleDefinitionListResult struct {
	Value    []*RoleDefinition `json:"value,omitempty"`
	NextLink *string           `json:"nextLink,omitempty"`
}

// SubscriptionLocation is a location a subscription offers
// (Subscriptions_ListLocations). It is not a registration Location.
type SubscriptionLocation struct {
	ID                  *string `json:"id,omitempty"`
	Name                *string `json:"name,omitempty"`
	Type                *string `json:"type,omitempty"`
	DisplayName         *string `json:"displayName,omitempty"`
	RegionalDisplayName *string `json:"regionalDisplayName,omitempty"`
}

// LocationListResult is the answer of Subscriptions_ListLocations.
type LocationListResult struct {
	Value []*SubscriptionLocation `json:"value,omitempty"`
}

// UnmarshalJSON reads {"value":[…]}, as the schema and ARM answer, and also
// a bare array, as the spec's GetLocations.json example shows.
func (l *LocationListResult) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		l.Value = nil
		return json.Unmarshal(t, &l.Value)
	}
	type plain LocationListResult
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*l = LocationListResult(p)
	return nil
}

func ptrs(s []string) []*string {
	out := make([]*string, len(s))
	for i := range s {
		v := s[i]
		out[i] = &v
	}
	return out
}

func derefs(p []*string) []string {
	var out []string
	for _, s := range p {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}
