//go:build !windows

package main

// detachConsole does nothing outside Windows: a GUI started from a desktop
// has no console window to hide.
func detachConsole() {}
