//go:build !windows

package cli

// What differs for people at a Unix terminal.
const (
	// expandWildcards: the shell expands *.png before the program runs.
	expandWildcards = false
	// windowsQuotes: the shell splits the command line, and a " in a name is the user's own.
	windowsQuotes = false
	// eofKeys end typed input on standard input.
	eofKeys = "Ctrl-D"
	// shellDefault names the shells the simulators print instructions for.
	shellDefault = "bash"
	// wildcardNote says how patterns are read.
	wildcardNote = ""
	// qrDecodeExample shows qr decode with a pattern and a folder.
	qrDecodeExample = `  azs-courier qr decode key-qr/*.png --out activation-key.txt
  azs-courier qr decode /media/usb/key-qr --out activation-key.txt
  azs-courier qr decode scan-page1.jpg scan-page2.jpg --out registration-token.txt --json`
)

// userShells are the shells the simulators print their instructions for.
func userShells() []shell { return []shell{posixShell} }

// stopKeys stop a program that runs until interrupted.
const stopKeys = "Ctrl-C"

// onDrive returns the example path of name on a removable drive.
func onDrive(name string) string { return "/media/usb/" + name }

// passwordEnvExample shows how to set the PEP password for one command.
const passwordEnvExample = `  AZS_PEP_PASSWORD=... azs-courier stamp --pep 10.0.0.224 --user 'AZS\CloudAdmin' --json`

// stdinHint is how to pipe a password in without a trailing space.
const stdinHint = ""
