// Package wsman speaks WS-Management to the PowerShell remoting plugin of a
// Windows host: SOAP envelopes built with masterzen/winrm's soap package, a
// one-method [Transport] (HTTP with NTLM sealing, HTTPS, recording, replay),
// [Client.Invoke] as the single exit that checks RelatesTo and turns SOAP
// faults into [*Fault], and the WinRS shell operations PSRP runs over.
//
// Package wsman must never import app, ui, courier, azure, pep/psrp or Fyne.
package wsman
