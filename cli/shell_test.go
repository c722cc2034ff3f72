package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Values of the kind the simulators print, and harder ones.
var shellCases = [][]string{
	{"azs-courier", "stamp", "--pep", "127.0.0.1:5985", "--user", `AZS\CloudAdmin`},
	{"azs-courier", "token", "--pep", "10.0.0.224,10.0.0.225", "--out", "registration-token.txt"},
	{"azs-courier", "register", "--ca-file", `C:\Users\Jane Doe\AppData\Roaming\azs-courier\azuresim-ca.pem`, "--subscription", "0e5f4f12-7b00-47f4-b81e-f86f5c8cc1ab"},
	{"azs-courier", "register", "--arm-endpoint", "https://127.0.0.1:8443", "--name", "O'Brien's hub", "--tenant", "1e3"},
	{"azs-courier", "x", "$(calc)", "a;b", "a&b", "@list", "{x}", "#c", "`t", "a|b", "(y)", "-"},
}

// psArgs splits a PowerShell command line into the arguments a native
// program receives, for the subset of PowerShell our lines may use: bare
// words and single-quoted strings. A bare word that PowerShell would read
// as something else (an operator, a variable, a number, an array) fails
// the test.
func psArgs(t *testing.T, line string) []string {
	t.Helper()
	var args []string
	r := []rune(line)
	for i := 0; i < len(r); {
		switch {
		case r[i] == ' ':
			i++
		case r[i] == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(r) {
					t.Fatalf("unterminated quote in %q", line)
				}
				if r[i] == '\'' {
					if i+1 < len(r) && r[i+1] == '\'' {
						b.WriteRune('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteRune(r[i])
				i++
			}
			args = append(args, b.String())
		default:
			j := i
			for j < len(r) && r[j] != ' ' {
				if strings.ContainsRune("'\"$@(){};,&|#`<>", r[j]) {
					t.Fatalf("bare word in %q holds %q, which PowerShell reads as an operator", line, r[j])
				}
				j++
			}
			w := string(r[i:j])
			if unicode.IsDigit(r[i]) || r[i] == '.' {
				t.Fatalf("bare word %q in %q may be read as a number", w, line)
			}
			args = append(args, w)
			i = j
		}
	}
	return args
}

// cmdArgs splits a cmd.exe line as cmd and the C runtime's argument parser
// do for a program: outside double quotes & | < > ^ ( ) % are cmd's and
// fail the test; quotes group and are removed; backslashes before a quote
// follow the CommandLineToArgvW rules.
func cmdArgs(t *testing.T, line string) []string {
	t.Helper()
	var args []string
	var cur strings.Builder
	inQuote, inWord, backslashes := false, false, 0
	flush := func() {
		if inWord {
			args = append(args, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	for _, c := range line {
		switch {
		case c == '\\':
			backslashes++
			inWord = true
			continue
		case c == '"':
			cur.WriteString(strings.Repeat(`\`, backslashes/2))
			if backslashes%2 == 1 {
				cur.WriteRune('"')
			} else {
				inQuote = !inQuote
			}
			backslashes = 0
			inWord = true
			continue
		}
		cur.WriteString(strings.Repeat(`\`, backslashes))
		backslashes = 0
		switch {
		case c == '%':
			t.Fatalf("%q in %q: cmd expands it", c, line)
		case !inQuote && strings.ContainsRune("&|<>^()", c):
			t.Fatalf("%q outside quotes in %q is cmd's", c, line)
		case c == ' ' && !inQuote:
			flush()
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	cur.WriteString(strings.Repeat(`\`, backslashes))
	if inQuote {
		t.Fatalf("unterminated quote in %q", line)
	}
	flush()
	return args
}

func TestPowerShellLines(t *testing.T) {
	for _, argv := range shellCases {
		line := powerShell.line(argv...)
		if got := psArgs(t, line); !slices.Equal(got, argv) {
			t.Errorf("PowerShell line %s\n gives %q\n want %q", line, got, argv)
		}
	}
	// The user name is pasted as it is, and a comma list stays one argument.
	if l := powerShell.line("--user", `AZS\CloudAdmin`, "--pep", "a,b"); l != `--user AZS\CloudAdmin --pep 'a,b'` {
		t.Errorf("got %s", l)
	}
	set := powerShell.setEnv("AZS_PEP_PASSWORD", "it's")
	if set != `$env:AZS_PEP_PASSWORD = 'it''s'` {
		t.Errorf("setEnv: got %s", set)
	}
}

func TestCmdLines(t *testing.T) {
	for _, argv := range shellCases {
		line := cmdShell.line(argv...)
		if got := cmdArgs(t, line); !slices.Equal(got, argv) {
			t.Errorf("cmd line %s\n gives %q\n want %q", line, got, argv)
		}
	}
	// No quotes around the user name: cmd would keep them in the name.
	if l := cmdShell.line("--user", `AZS\CloudAdmin`); l != `--user AZS\CloudAdmin` {
		t.Errorf("got %s", l)
	}
	if set := cmdShell.setEnv("AZURE_TENANT_ID", "t-1"); set != `set "AZURE_TENANT_ID=t-1"` {
		t.Errorf("setEnv: got %s", set)
	}
}

func TestPOSIXLines(t *testing.T) {
	if l := posixShell.line("--user", `AZS\CloudAdmin`, "--name", "O'Brien"); l != `--user 'AZS\CloudAdmin' --name 'O'\''Brien'` {
		t.Errorf("got %s", l)
	}
}

// TestSimulatorInstructionsPerPlatform checks the instructions the
// simulators print in every shell form: each command line, parsed by that
// shell's rules, gives back the arguments meant, and no password is on a
// command line.
func TestSimulatorInstructionsPerPlatform(t *testing.T) {
	for _, tt := range []struct {
		flag  string
		sh    shell
		parse func(*testing.T, string) []string
		set   string
	}{
		{"powershell", powerShell, psArgs, "$env:AZS_PEP_PASSWORD = "},
		{"cmd", cmdShell, cmdArgs, `set "AZS_PEP_PASSWORD=`},
		{"bash", posixShell, nil, "export AZS_PEP_PASSWORD="},
	} {
		t.Run(tt.sh.name, func(t *testing.T) {
			env, _, out, errOut := testEnv(t)
			if code := runCancelled(env, "pep-simulator", "--listen", "127.0.0.1:0", "--shell", tt.flag); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			s := out.String()
			if !strings.Contains(s, "In "+tt.sh.name+":\n") || !strings.Contains(s, "  "+tt.set) {
				t.Fatalf("no %s block with the password line:\n%s", tt.sh.name, s)
			}
			for _, l := range strings.Split(s, "\n") {
				l = strings.TrimPrefix(l, "  ")
				if !strings.HasPrefix(l, "azs-courier ") {
					continue
				}
				if strings.Contains(l, "password") {
					t.Errorf("a password on the command line: %s", l)
				}
				if tt.parse == nil {
					continue
				}
				argv := tt.parse(t, l)
				i := slices.Index(argv, "--user")
				if i < 0 || argv[i+1] != `AZS\CloudAdmin` {
					t.Errorf("%s: --user is %q, want AZS\\CloudAdmin", l, argv)
				}
			}
		})
	}
}

func TestCodePageWriter(t *testing.T) {
	const in = "part 1 of 3 … done — v ≤ 15 ✓ Über 漢"
	for _, tt := range []struct {
		cp   uint32
		raw  bool
		want string
	}{
		{437, true, "part 1 of 3 ... done - v \xf3 15 OK \x9aber ?"},
		{850, true, "part 1 of 3 ... done - v <= 15 OK \x9aber ?"},
		{1252, true, "part 1 of 3 \x85 done \x97 v <= 15 OK \xdcber ?"},
		{437, false, "part 1 of 3 ... done - v ≤ 15 OK Über 漢"}, // a console shows names in any script
		{932, false, "part 1 of 3 ... done - v <= 15 OK Über 漢"},
		{932, true, "part 1 of 3 ... done - v <= 15 OK ?ber ?"}, // a code page we cannot map: ASCII
		{65001, true, in},
	} {
		t.Run(fmt.Sprintf("cp%d raw %v", tt.cp, tt.raw), func(t *testing.T) {
			var b bytes.Buffer
			w := newCodePageWriter(&b, tt.cp, tt.raw)
			// Byte by byte: a character split over writes is kept whole.
			for i := range len(in) {
				if _, err := w.Write([]byte{in[i]}); err != nil {
					t.Fatal(err)
				}
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHelpColumnsAligned renders every command's help and checks that the
// flag descriptions start in one column, counted in characters as a
// console shows them; pflag pads by bytes, so a non-ASCII character in a
// flag's name or value placeholder would shift its line.
func TestHelpColumnsAligned(t *testing.T) {
	env, _, _, _ := testEnv(t)
	for _, c := range allCommands(newRootCmd(env)) {
		t.Run(c.CommandPath(), func(t *testing.T) {
			lines := strings.Split(c.LocalFlags().FlagUsages(), "\n")
			col := -1
			c.LocalFlags().VisitAll(func(f *pflag.Flag) {
				if f.Hidden {
					return
				}
				spec := "--" + f.Name
				if v, _ := pflag.UnquoteUsage(f); v != "" {
					spec += " " + v
				}
				for _, l := range lines {
					i := strings.Index(l, spec)
					if i < 0 || !strings.HasPrefix(l[i+len(spec):], " ") {
						continue
					}
					r := []rune(l)
					k := len([]rune(l[:i+len(spec)]))
					for k < len(r) && r[k] == ' ' {
						k++
					}
					if col < 0 {
						col = k
					} else if k != col {
						t.Errorf("the description of --%s starts at column %d, not %d: %q", f.Name, k, col, l)
					}
					return
				}
				t.Errorf("no help line for --%s", f.Name)
			})
		})
	}
}

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		out = append(out, allCommands(sub)...)
	}
	return out
}

// TestJSONIsASCII: JSON output holds only ASCII, whatever the strings
// hold, and reads back to the same strings; no code page can alter it.
func TestJSONIsASCII(t *testing.T) {
	in := map[string]string{"path": `E:\Bestätigung—Łódź\key.txt`, "bidi": "a\u202eb", "emoji": "🔑", "ctl": "x\x1by"}
	var b bytes.Buffer
	if err := printJSON(&b, in); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < b.Len(); i++ {
		if c := b.Bytes()[i]; c >= 0x80 || (c < 0x20 && c != '\n') {
			t.Fatalf("byte %#x at %d in %q", c, i, b.String())
		}
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		if back[k] != v {
			t.Errorf("%s: read back %q, want %q", k, back[k], v)
		}
	}
}

func TestDecodeInput(t *testing.T) {
	for _, tt := range []struct {
		in   string
		cp   uint32
		want string
	}{
		{"pässwörd", 850, "pässwörd"},           // UTF-8 stays UTF-8 whatever the code page
		{"\xef\xbb\xbfsecret", 65001, "secret"}, // PowerShell's byte-order mark is dropped
		{"p\x84ssw\x94rd", 850, "pässwörd"},     // cmd piping the OEM code page
		{"p\xe4ssw\xf6rd", 1252, "pässwörd"},    // a file saved in the ANSI code page
		{"p\xe4ss", 932, "p\uFFFDss"},           // a code page we cannot map
		{"p\xe4ss", 65001, "p\uFFFDss"},         // not UTF-8 on Unix
	} {
		if got := decodeInput([]byte(tt.in), tt.cp); got != tt.want {
			t.Errorf("decodeInput(%q, %d) = %q, want %q", tt.in, tt.cp, got, tt.want)
		}
	}
}
