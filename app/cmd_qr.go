package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/qr"
)

// maxQRInput is the largest image or frame file qr decode reads.
const maxQRInput = 64 << 20

func newQRCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "qr",
		Short: "Carry an artefact as AGX1 QR codes: encode to PNG/PDF/text, decode from images or typed frames",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newQREncodeCmd(env), newQRDecodeCmd(env))
	return cmd
}

type qrEncodeOptions struct {
	env        *Env
	path       string
	out        string
	maxVersion int
	sheet      bool
	force      bool
}

func newQREncodeCmd(env *Env) *cobra.Command {
	opts := &qrEncodeOptions{env: env}
	cmd := &cobra.Command{
		Use:   "encode FILE|- --out DIR",
		Short: "Write an artefact as AGX1 QR codes: frames.txt, one PNG a part, optionally an A4 sheet",
		Long: `Encode reads a registration token or activation key like inspect does and
writes its AGX1 frames into DIR: frames.txt (one frame a line, for typing or
copying), <kind>-<ID>-part-i-of-n.png for each part, and with --sheet a
printable A4 PDF with 8 codes a page and the frame text below each code.
Each code fits QR version --max-version at error-correction level M.`,
		Example: `  azs-courier qr encode registration-token.txt --out E:\token-qr
  azs-courier qr encode activation-key.txt --out key-qr --sheet`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "out"); err != nil {
				return err
			}
			if opts.maxVersion < 1 || opts.maxVersion > 40 {
				return usageErrorf(cmd, "--max-version %d is out of range; choose 1 to 40 (15 for screens, up to %d for --sheet)", opts.maxVersion, qr.PaperVersion)
			}
			if opts.sheet && opts.maxVersion > qr.PaperVersion {
				return usageErrorf(cmd, "--sheet needs --max-version %d or less: denser codes and their text do not fit 8 to an A4 page", qr.PaperVersion)
			}
			opts.path = args[0]
			return runQREncode(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.out, "out", "", "write the codes into `DIR` (created if missing)")
	cmd.Flags().IntVar(&opts.maxVersion, "max-version", qr.ScreenVersion, "largest QR `version` (1–40): 15 suits screens and webcams")
	cmd.Flags().BoolVar(&opts.sheet, "sheet", false, "also write a printable A4 PDF sheet")
	cmd.Flags().BoolVar(&opts.force, "force", false, "replace files of the same names in DIR")
	return cmd
}

func runQREncode(ctx context.Context, opts *qrEncodeOptions) error {
	env := opts.env
	a, err := env.readArtefact(ctx, opts.path, "", "qr encode")
	if err != nil {
		return err
	}
	res, err := qr.WriteDir(ctx, opts.out, a, qr.DirOptions{MaxVersion: opts.maxVersion, Sheet: opts.sheet, Force: opts.force})
	entry := courier.Entry{Step: "qr encode", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(), File: absPath(opts.out), Outcome: "ok"}
	if err != nil {
		entry.Outcome = outcome(err)
	} else {
		entry.Detail = fmt.Sprintf("%d QR part(s), version ≤ %d, sheet %t", len(res.Frames), opts.maxVersion, res.Sheet != "")
	}
	env.record(entry)
	if err != nil {
		return err
	}
	out := env.IO.Out
	f := res.Frames[0]
	fmt.Fprintf(out, "%s %s: %d QR code(s), version ≤ %d, in %s\n", capitalise(a.Kind.Title()), f.ID, len(res.Frames), opts.maxVersion, opts.out)
	fmt.Fprintf(out, "  %s\n", filepath.Base(res.Text))
	for _, p := range res.PNGs {
		fmt.Fprintf(out, "  %s\n", filepath.Base(p))
	}
	if res.Sheet != "" {
		fmt.Fprintf(out, "  %s\n", filepath.Base(res.Sheet))
	}
	return nil
}

type qrDecodeOptions struct {
	env    *Env
	inputs []string
	out    string
	json   bool
	force  bool
}

func newQRDecodeCmd(env *Env) *cobra.Command {
	opts := &qrDecodeOptions{env: env}
	cmd := &cobra.Command{
		Use:   "decode INPUT… --out FILE",
		Short: "Read AGX1 QR codes from images, frame files or typed text and write the artefact",
		Long: `Decode reads AGX1 frames from PNG and JPEG images (one code, or a page scan
or photo with several; other QR codes are ignored), from .txt files of frames,
and with - from typed frames on standard input (groups of 5, any case, O for 0
and I or L for 1 are fine). Parts may come in any order, over several inputs,
with duplicates. When all parts are in and the message checks out, the
artefact is written to FILE like inspect --write-canonical (manifest and
custody ledger). Frames of another message or a checksum that differs stop
the command with exit status 3; nothing is written unless every part is in.`,
		Example: `  azs-courier qr decode key-qr/*.png --out activation-key.txt
  azs-courier qr decode scan-page1.jpg scan-page2.jpg --out registration-token.txt --json
  azs-courier qr decode - --out activation-key.txt     (type the frames, then Ctrl-D)`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "out"); err != nil {
				return err
			}
			opts.inputs = args
			return runQRDecode(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.out, "out", "", "write the artefact to `FILE`")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print kind, sha256, parts found and parts missing as JSON")
	cmd.Flags().BoolVar(&opts.force, "force", false, "replace an existing FILE")
	return cmd
}

// qrDecodeResult is the JSON of qr decode --json.
type qrDecodeResult struct {
	Kind    courier.Kind `json:"kind,omitempty"`
	SHA256  string       `json:"sha256,omitempty"`
	ID      string       `json:"id,omitempty"`
	Parts   int          `json:"parts"`
	Found   []int        `json:"found"`
	Missing []int        `json:"missing"`
	Ignored int          `json:"ignored"`
	File    string       `json:"file,omitempty"`
}

func runQRDecode(ctx context.Context, opts *qrDecodeOptions) error {
	env := opts.env
	var sc qr.Scanner
	status := func() qrDecodeResult {
		return qrDecodeResult{ID: sc.Assembler.ID(), Parts: sc.Assembler.Parts(), Found: sc.Assembler.Found(),
			Missing: sc.Assembler.Missing(), Ignored: len(sc.Ignored)}
	}
	a, err := decodeQRInputs(ctx, env, &sc, opts.inputs)
	entry := courier.Entry{Step: "qr decode", File: absPath(opts.out), Outcome: "ok",
		Detail: fmt.Sprintf("%d input(s), %d frame(s) read", len(opts.inputs), sc.Frames)}
	if a != nil {
		entry.Kind, entry.SHA256, entry.CloudID = a.Kind, a.SHA256, a.CloudID()
	}
	if err != nil {
		entry.Outcome = outcome(err)
		env.record(entry)
		var missing *qr.MissingError
		if opts.json && errors.As(err, &missing) {
			printJSON(env.IO.Out, status())
		}
		return err
	}
	env.record(entry)
	if err := env.writeArtefact(ctx, opts.out, a, fmt.Sprintf("decoded from %d QR part(s)", sc.Assembler.Parts()), opts.force); err != nil {
		return err
	}
	res := status()
	res.Kind, res.SHA256, res.File = a.Kind, a.SHA256, opts.out
	if opts.json {
		return printJSON(env.IO.Out, res)
	}
	fmt.Fprintf(env.IO.Out, "%s from %d QR part(s), message %s\n  SHA-256   %s\n  Cloud ID  %s\n", capitalise(a.Kind.Title()), res.Parts, res.ID, GroupHash(a.SHA256), a.CloudID())
	if res.Ignored > 0 {
		fmt.Fprintf(env.IO.Out, "  ignored %d QR code(s) that were not AGX1 frames\n", res.Ignored)
	}
	fmt.Fprintf(env.IO.Out, "Wrote %s and %s\n", opts.out, courier.ManifestPath(opts.out))
	return nil
}

// decodeQRInputs feeds every input to sc and returns the reassembled artefact.
func decodeQRInputs(ctx context.Context, env *Env, sc *qr.Scanner, inputs []string) (*courier.Artefact, error) {
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if in == "-" {
			data, err := io.ReadAll(io.LimitReader(env.IO.In, maxQRInput+1))
			if err != nil {
				return nil, fmt.Errorf("read standard input: %w", err)
			}
			if len(data) > maxQRInput {
				return nil, fmt.Errorf("standard input holds more than %d MiB; type or paste only the frames", maxQRInput>>20)
			}
			if err := sc.AddText("standard input", string(data)); err != nil {
				return nil, err
			}
			continue
		}
		data, err := readQRInput(in)
		if err != nil {
			return nil, err
		}
		if err := sc.AddInput(ctx, in, data); err != nil {
			return nil, err
		}
	}
	if !sc.Assembler.Started() {
		if len(sc.Ignored) > 0 {
			// Their content is not shown: a stray code may hold a password.
			return nil, fmt.Errorf("found %d QR code(s) but no AGX1 frame among them; give the codes azs-courier made", len(sc.Ignored))
		}
		return nil, fmt.Errorf("no QR code found in %d input(s); give sharper images, a scan at 300 dpi, or the frames.txt file", len(inputs))
	}
	msg, err := sc.Assembler.Message()
	if err != nil {
		return nil, err
	}
	a, err := courier.Parse([]byte(msg.Text))
	if err != nil {
		return nil, fmt.Errorf("the QR codes hold a message that is no artefact: %w", err)
	}
	if got := qr.KindOf(a.Kind); got != msg.Kind {
		return nil, &courier.MismatchError{What: "kind of artefact in the QR frames", Want: qr.KindName(msg.Kind), Got: a.Kind.Title(),
			Fix: "the frames are inconsistent; encode the artefact again"}
	}
	return a, nil
}

// readQRInput reads an image or frame file, refusing directories and files
// larger than maxQRInput before reading them.
func readQRInput(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w; check the path", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a folder; give the image or frame files in it (for example %s)", path, filepath.Join(path, "*.png"))
	}
	if st.Size() > maxQRInput {
		return nil, fmt.Errorf("%s is %d MiB, larger than the %d MiB limit; give a smaller scan or photo", path, st.Size()>>20, maxQRInput>>20)
	}
	return os.ReadFile(path)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// capitalise upper-cases the first letter of an ASCII phrase.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
