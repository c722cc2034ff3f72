// Package azuresim is a simulated Azure for tests and training mode: one
// loopback TLS server with its own test CA that serves an Entra ID authority
// (OpenID configuration, client-credentials, device-code and refresh-token
// grants, tokens signed by the simulator) and the parts of Azure Resource
// Manager that registering an Azure Stack Hub uses: subscriptions, resource
// providers, resource groups, Microsoft.AzureStack registrations (including
// getactivationkey) and management locks on them.
//
// ARM requests must carry a bearer token the simulator issued for its own
// audience that has not expired. Registration bodies are checked against the
// Microsoft.AzureStack 2017-06-01 spec, and answers are shaped like the spec's
// examples. Faults (expired tokens, 403 on locks, 429, 500, connection resets,
// a taken cloud ID, a key for another cloud ID, a slow provider, latency) are
// injected on demand through
// [Options.Faults] or [Server.SetFaults]; unset faults never fire.
//
// Package azuresim writes its JSON itself and must never import the azure
// package (so a model bug cannot hide on both sides), app, ui or Fyne.
package azuresim
