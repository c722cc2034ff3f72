//go:build windows

package cli

// What differs for people at a Windows console.
const (
	// expandWildcards: cmd and PowerShell pass *.png to programs unexpanded.
	expandWildcards = true
	// windowsQuotes: the C runtime splits the command line itself, and a \" inside quotes is a quote.
	windowsQuotes = true
	// eofKeys end typed input on standard input.
	eofKeys = "Ctrl+Z, then Enter"
	// shellDefault names the shells the simulators print instructions for.
	shellDefault = "powershell and cmd"
	// wildcardNote says how patterns are read.
	wildcardNote = "\n* and ? in a file name match as in cmd, ignoring case."
	// qrDecodeExample shows qr decode with a pattern and a folder.
	qrDecodeExample = `  azs-courier qr decode E:\key-qr\*.png --out activation-key.txt
  azs-courier qr decode E:\key-qr --out activation-key.txt
  azs-courier qr decode scan-page1.jpg scan-page2.jpg --out registration-token.txt --json`
)

// userShells are the shells the simulators print their instructions for.
func userShells() []shell { return []shell{powerShell, cmdShell} }

// stopKeys stop a program that runs until interrupted.
const stopKeys = "Ctrl+C"

// onDrive returns the example path of name on a removable drive.
func onDrive(name string) string { return `E:\` + name }

// passwordEnvExample shows how to set the PEP password for one command.
const passwordEnvExample = `  set "AZS_PEP_PASSWORD=..."        (cmd; in PowerShell: $env:AZS_PEP_PASSWORD = '...')
  azs-courier stamp --pep 10.0.0.224 --user AZS\CloudAdmin --json`

// stdinHint is how to pipe a password in without a trailing space.
const stdinHint = "; in cmd write echo secret| azs-courier ... (a space before | becomes part of the password)"
