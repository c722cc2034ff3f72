// Package courier reads, checks, describes and writes the two artefacts that
// cross the air gap of a disconnected Azure Stack Hub: the registration token
// (made by the stamp's privileged endpoint) and the activation key (made by
// Azure). It also keeps the custody ledger, the hash-chained record of every
// write and check.
//
// Reading accepts what people actually carry: UTF-8 with or without BOM,
// UTF-16LE/BE (Windows PowerShell's Out-File), CRLF, text wrapped at any width
// or joined with spaces, surrounding quotes and a pasted `$x = "..."` line.
// Writing produces the canonical form: one line of ASCII without BOM or
// trailing newline, so that `sha256sum` and `Get-FileHash` show the same
// SHA-256 as the manifest beside it.
//
// Package courier does no network I/O and must never import pep, azure, app
// or Fyne.
package courier
