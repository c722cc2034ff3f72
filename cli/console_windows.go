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
		cp = oemCodePage() // no console: a service, or a detached process
	}
	var mode uint32
	isConsole := windows.GetConsoleMode(windows.Handle(f.Fd()), &mode) == nil
	return newCodePageWriter(f, cp, !isConsole)
}

var getOEMCP = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetOEMCP")

func oemCodePage() uint32 {
	cp, _, _ := getOEMCP.Call()
	return uint32(cp)
}
