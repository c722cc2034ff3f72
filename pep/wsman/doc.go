// Package wsman speaks WS-Management to the PowerShell remoting plugin of a
// Windows host: SOAP envelopes built with masterzen/winrm's dom and soap
// namespaces (SOAP-prefixed mustUnderstand, MustComply options), a
// one-method [Transport] (HTTP with NTLM sealing, HTTPS with channel
// bindings, recording, replay) that bounds what it reads and how long it
// waits, [Client.Invoke] as the single exit that checks RelatesTo and turns
// SOAP faults into [*Fault], and the WinRS shell operations PSRP runs over.
//
// Package wsman must never import app, ui, courier, azure, pep/psrp or Fyne.
package wsman
