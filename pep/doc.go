// Package pep is the client of the Azure Stack Hub privileged endpoint
// (PEP): it opens a PowerShell session on one of the ERCS VMs over WS-Man
// (NTLM-sealed HTTP on 5985, or HTTPS on 5986) and runs the PEP cmdlets the
// registration needs as Go methods named after them:
// [Client.StampInformation], [Client.NewRegistrationToken],
// [Client.NewActivation], [Client.RemoveActivation] and [Client.Close].
// It applies the validation, version gates, Set-RegistrationKeyPair step and
// retries of the RegisterWithAzure.psm1 module (retrying only what waiting
// can mend), turns PowerShell error records into errors with advice, warns
// when the PEP's clock is far from this machine's, fails with [ErrStopped]
// when the PEP stops answering, honours every context deadline, and on
// close can export the session transcripts to a share
// ([Client.CloseWithTranscripts]).
//
// Package pep must never import app, ui, courier, azure or Fyne.
package pep
