//go:build windows

package main

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	kernel32              = windows.NewLazySystemDLL("kernel32.dll")
	getConsoleProcessList = kernel32.NewProc("GetConsoleProcessList")
	freeConsole           = kernel32.NewProc("FreeConsole")
)

// detachConsole hides the console window Windows opens for a console-subsystem
// program started from Explorer (a double-click), before the GUI opens. A
// console shared with a shell (the program was started from cmd or
// PowerShell) is kept, so the CLI prints as usual.
func detachConsole() {
	var pids [2]uint32
	n, _, _ := getConsoleProcessList.Call(uintptr(unsafe.Pointer(&pids[0])), 2)
	if n == 1 {
		freeConsole.Call()
	}
}
