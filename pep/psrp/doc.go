// Package psrp implements the PowerShell Remoting Protocol ([MS-PSRP]) as far
// as the Azure Stack Hub privileged endpoint needs it: fragments, the 40-byte
// message header, CLIXML serialisation, the message bodies a client and a
// server exchange, and the runspace-pool and pipeline state machines that run
// over a WinRS shell.
//
// The encoding half (fragment.go, message.go, clixml.go, objects.go) is
// symmetric: a client builds CREATE_PIPELINE and parses PIPELINE_OUTPUT, and a
// server (pep/pepsim) parses CREATE_PIPELINE and builds PIPELINE_OUTPUT with
// the same types. securestring.go holds the session key exchange and
// SecureString encryption both sides use, with the standard library's
// crypto; scrub.go blanks SecureStrings in traces.
//
// Package psrp must never import app, ui, courier, azure or Fyne; it depends
// only on pep/wsman for the shell operations.
package psrp
