package azure

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
