// Package cli is the command line of AzS Courier: cobra commands, their
// flags, prompts, exit codes and text or JSON output, over the use cases in
// package app. The GUI (package ui) is the other front over the same use
// cases.
//
// Package cli imports app, and the simulators pepsim and azuresim for their
// own commands; it must never import courier, pep, azure, ui or Fyne.
package cli
