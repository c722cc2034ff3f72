// Package app holds the use cases of AzS Courier — the disconnected-side and
// connected-side workflows, the custody ledger entries they make, the progress
// events they report, and the small view types the fronts show. The GUI (ui)
// and the command line (cli) both call the same use cases.
//
// Package app orchestrates courier, pep and azure, and converts between them.
// It must never import ui, cli, cobra or Fyne.
package app
