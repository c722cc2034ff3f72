// Package app holds the use cases of AzS Courier — the disconnected-side and
// connected-side workflows, the custody ledger entries they make, the progress
// events they report — and the command-line interface over them. The GUI (ui)
// and the CLI both call the same use cases.
//
// Package app orchestrates courier, pep and azure, and converts between them.
// It must never import ui or Fyne; the GUI is reached through Env.RunGUI.
package app
