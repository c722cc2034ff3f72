// Package azuresim is a simulated Azure for tests and training mode: one
// loopback TLS server with its own test CA that serves an Entra ID authority
// (OpenID configuration, client-credentials, device-code and refresh-token
// grants, tokens signed by the simulator) and the parts of Azure Resource
// Manager that registering an Azure Stack Hub uses: subscriptions and their
// locations, resource providers, resource groups, Microsoft.AzureStack
// registrations (including getactivationkey), management locks on them, the
// caller's permissions (Microsoft.Authorization/permissions at subscription
// and resource-group scope) and custom role definitions.
//
// ARM requests must carry a bearer token the simulator issued for its own
// audience that has not expired. As ARM does before a request reaches the
// resource provider, each request is authorized: the action it needs
// (Microsoft.Authorization/locks/write for a lock PUT, and so on) must be
// granted by the caller's role assignments, [Options.Permissions] (Owner by
// default) and [Options.ResourceGroupPermissions], or it is answered 403
// AuthorizationFailed naming the action and scope; .../permissions lists the
// same assignments. Registration bodies are checked against the
// Microsoft.AzureStack 2017-06-01 spec, and answers are shaped like the spec's
// examples. The Microsoft.AzureStack provider starts NotRegistered unless
// [Options.ProviderRegistered]; resource groups may only be made in
// [Options.Locations]. A registration that was removed can be registered
// again under the same name or another. [Server.RequestLog] lists the ARM
// requests in the order they arrived.
//
// Faults (expired tokens, 403 on locks, 429, 500, connection resets, a taken
// cloud ID, a key for another cloud ID, a slow provider, latency) are injected
// on demand through [Options.Faults] or [Server.SetFaults]; unset faults never
// fire.
//
// Package azuresim writes its JSON itself and must never import the azure
// package (so a model bug cannot hide on both sides), app, ui or Fyne.
package azuresim
