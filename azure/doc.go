// Package azure is the connected side of AzS Courier: it turns an Azure Stack Hub
// registration token into a Microsoft.AzureStack registration resource in Azure,
// fetches the activation key for it, lists registrations and removes them.
//
// It reproduces what the PowerShell module RegisterWithAzure.psm1 does
// (Register-AzsEnvironment, Get-AzsActivationKey, UnRegister-AzsEnvironment) on
// azcore and azidentity, with the module's api-version 2017-06-01 for the
// registration calls, and designs out the module's known problems: the
// resource provider is polled until it is Registered, a registration that
// already holds the token's cloud ID is found before any write, the lookup by
// token or cloud ID works, and ARM errors carry advice (which permission and
// role is missing, what conflicts).
//
// Before any write, [Registrar.Preflight] checks with reads only what
// Register needs: the signed-in account and the subscription's state, the
// provider's state, the resource group's location, the caller's permitted
// actions (Microsoft.Authorization/permissions, evaluated with wildcards
// and notActions as Azure RBAC does; see [Permissions.Allows]), and whether
// the cloud ID or the name is taken; each check comes with its fix.
// [RegistrationRole] and [Registrar.CreateRole] give the least-privilege
// custom role of the documentation plus the lock actions it lacks, and
// [Registrar.Status] shows what Azure holds for a stamp (for verify).
//
// Credentials come from azidentity ([NewCredential]); no token is ever printed,
// logged or written by this package.
//
// Package azure must never import Fyne, the app or ui packages, courier or pep.
package azure
