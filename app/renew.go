package app

// Reasons for a renewal or change of registration, as the Microsoft
// documentation's "Renew or change registration" lists them.
const (
	ReasonRenewal        = "renewal"         // the capacity term was renewed
	ReasonBillingModel   = "billing-model"   // the billing model changes
	ReasonNodes          = "nodes"           // nodes were added or removed
	ReasonSubscription   = "subscription"    // another Azure subscription
	ReasonUsageReporting = "usage-reporting" // usage reporting is turned off (or on)
)

// Reasons lists the reasons in the order help texts name them.
var Reasons = []string{ReasonRenewal, ReasonBillingModel, ReasonNodes, ReasonSubscription, ReasonUsageReporting}
