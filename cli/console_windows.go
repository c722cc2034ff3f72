//go:build windows

package cli

import (
	"io"
	"os"

	"golang.org/x/sys/windows"
)

// consoleWriter returns f, or f converting output to the console's code
// page when that is not UTF-8: Windows consoles and PowerShell 5.1 pipes
// use an OEM code page (437, 850, …) and would show UTF-8 as mojibake.
func consoleWriter(f *os.File) io.Writer {
	cp, err := windows.GetConsoleOutputCP()
	if err != nil || cp == 0 {
		// No console at all (a service, a scheduled task, a detached
		// process): whatever reads the output is a program, and UTF-8 is
		// what programs written this century expect.
		return f
	}
	var mode uint32
	isConsole := windows.GetConsoleMode(windows.Handle(f.Fd()), &mode) == nil
	return newCodePageWriter(f, cp, !isConsole)
}

var getACP = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetACP")

// inputCodePage is the code page of bytes piped to standard input that are
// not UTF-8: the console's input code page, or the ANSI code page of the
// system when there is no console.
func inputCodePage() uint32 {
	if cp, err := windows.GetConsoleCP(); err == nil && cp != 0 {
		return cp
	}
	cp, _, _ := getACP.Call()
	return uint32(cp)
}
