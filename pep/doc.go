// Package pep is the client of the Azure Stack Hub privileged endpoint
// (PEP): it opens a PowerShell session on one of the ERCS VMs over WS-Man
// (NTLM-sealed HTTP on 5985, or HTTPS on 5986) and runs the PEP cmdlets the
// registration needs as Go methods named after them:
// [Client.StampInformation], [Client.NewRegistrationToken],
// [Client.NewActivation], [Client.RemoveActivation] and [Client.Close].
// It applies the validation, version gates and retries of the
// RegisterWithAzure.psm1 module and turns PowerShell error records into
// errors with advice.
//
// Package pep must never import app, ui, courier, azure or Fyne.
package pep
