package azure

import (
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Default limits of every request to Azure (the authority and ARM), so that
// a stopped or silent endpoint fails in about a minute rather than hanging:
// each try may take DefaultTryTimeout, and a failed try is repeated at most
// DefaultMaxRetries times.
const (
	DefaultTryTimeout = 20 * time.Second
	DefaultMaxRetries = 2
)

// withDefaults fills the try timeout and retry count of r where unset.
func withDefaults(r policy.RetryOptions) policy.RetryOptions {
	if r.TryTimeout == 0 {
		r.TryTimeout = DefaultTryTimeout
	}
	if r.MaxRetries == 0 {
		r.MaxRetries = DefaultMaxRetries
	}
	return r
}
