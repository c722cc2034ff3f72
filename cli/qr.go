package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf16"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

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
	review     reviewFlags
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
		Example: `  azs-courier qr encode registration-token.txt --out ` + onDrive("token-qr") + `
  azs-courier qr encode activation-key.txt --out key-qr --sheet`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "out"); err != nil {
				return err
			}
			if opts.maxVersion < 1 || opts.maxVersion > 40 {
				return usageErrorf(cmd, "--max-version %d is out of range; choose 1 to 40 (15 for screens, up to %d for --sheet)", opts.maxVersion, app.PaperQRVersion)
			}
			if opts.sheet && opts.maxVersion > app.PaperQRVersion {
				return usageErrorf(cmd, "--sheet needs --max-version %d or less: denser codes and their text do not fit 8 to an A4 page", app.PaperQRVersion)
			}
			opts.path = args[0]
			routes := []string{app.RouteQRScreen}
			if opts.sheet {
				routes = append(routes, app.RoutePaper)
			}
			if err := opts.review.checkRelease(cmd, env, opts.out, routes...); err != nil {
				return err
			}
			return runQREncode(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.out, "out", "", "write the codes into `DIR` (created if missing)")
	cmd.Flags().IntVar(&opts.maxVersion, "max-version", app.ScreenQRVersion, "largest QR `version` (1-40): 15 suits screens and webcams")
	cmd.Flags().BoolVar(&opts.sheet, "sheet", false, "also write a printable A4 PDF sheet")
	cmd.Flags().BoolVar(&opts.force, "force", false, "replace files of the same names in DIR")
	addReviewFlags(cmd, &opts.review)
	return cmd
}

func runQREncode(ctx context.Context, opts *qrEncodeOptions) error {
	env := opts.env
	svc := env.service()
	if err := app.CheckOutputDir(opts.out); err != nil {
		return err
	}
	v, err := env.readArtefact(ctx, "", opts.path, "", "qr encode")
	if err != nil {
		return err
	}
	res, err := svc.WriteQR(ctx, app.QRRequest{Artefact: v, Dir: opts.out, MaxVersion: opts.maxVersion, Sheet: opts.sheet, Force: opts.force, Review: opts.review.review()})
	if err != nil {
		return err
	}
	out := env.IO.Out
	fmt.Fprintf(out, "%s %s: %d QR code(s), version <= %d, in %s\n", capitalise(v.Kind.Title()), res.ID, res.Parts, opts.maxVersion, opts.out)
	fmt.Fprintf(out, "  %s\n", filepath.Base(res.Frames))
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
		Use:   "decode INPUT... --out FILE",
		Short: "Read AGX1 QR codes from images, frame files or typed text and write the artefact",
		Long: `Decode reads AGX1 frames from PNG and JPEG images (one code, or a page scan
or photo with several; other QR codes are ignored), from .txt files of frames,
and with - from typed frames on standard input (groups of 5, any case, O for 0
and I or L for 1 are fine; end with ` + eofKeys + `). A folder stands for the
images and frames.txt in it.` + wildcardNote + `

Parts may come in any order, over several inputs, with duplicates. When all
parts are in and the message checks out, the artefact is written to FILE like
inspect --write-canonical (manifest and custody ledger). Frames of another
message or a checksum that differs stop the command with exit status 3;
nothing is written unless every part is in.`,
		Example: qrDecodeExample + `
  azs-courier qr decode - --out activation-key.txt     (type the frames, then ` + eofKeys + `)`,
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
	Kind    app.ArtefactKind `json:"kind,omitempty"`
	SHA256  string           `json:"sha256,omitempty"`
	ID      string           `json:"id,omitempty"`
	Parts   int              `json:"parts"`
	Found   []int            `json:"found"`
	Missing []int            `json:"missing"`
	Ignored int              `json:"ignored"`
	File    string           `json:"file,omitempty"`
}

func runQRDecode(ctx context.Context, opts *qrDecodeOptions) error {
	env := opts.env
	inputs, err := expandInputs(opts.inputs, expandWildcards)
	if err != nil {
		return err
	}
	srcs := make([]app.Source, len(inputs))
	for i, in := range inputs {
		srcs[i] = env.source(in)
	}
	svc := env.service()
	v, st, err := svc.DecodeQR(ctx, srcs, "", "qr decode", nil)
	res := qrDecodeResult{ID: st.ID, Parts: st.Parts, Found: nonNil(st.Found), Missing: nonNil(st.Missing), Ignored: st.Ignored}
	if err != nil {
		var inc *app.QRIncompleteError
		if opts.json && errors.As(err, &inc) {
			printJSON(env.IO.Out, res)
		}
		return err
	}
	if err := svc.WriteArtefact(ctx, app.WriteRequest{Artefact: v, Path: opts.out, Purpose: fmt.Sprintf("decoded from %d QR part(s)", st.Parts), Force: opts.force}); err != nil {
		return err
	}
	res.Kind, res.SHA256, res.File = v.Kind, v.SHA256, opts.out
	if opts.json {
		return printJSON(env.IO.Out, res)
	}
	fmt.Fprintf(env.IO.Out, "%s from %d QR part(s), message %s\n  SHA-256   %s\n  Cloud ID  %s\n", capitalise(v.Kind.Title()), res.Parts, res.ID, v.SHA256Groups(), v.CloudID)
	if res.Ignored > 0 {
		fmt.Fprintf(env.IO.Out, "  ignored %d QR code(s) that were not AGX1 frames\n", res.Ignored)
	}
	fmt.Fprintf(env.IO.Out, "Wrote %s and %s\n", opts.out, app.ManifestPath(opts.out))
	return nil
}

func nonNil(v []int) []int {
	if v == nil {
		return []int{}
	}
	return v
}

// printJSON writes v as indented JSON in ASCII: every character beyond
// ASCII is a \u escape (JSON reads it back the same), so that no console
// code page can alter it and Windows PowerShell 5.1, which decodes a
// program's output with the OEM code page, reads it right; and the
// characters that reorder or hide text on a terminal never appear raw.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", asciiJSON(b))
	return err
}

// asciiJSON writes the non-ASCII characters of JSON text as \u escapes
// (surrogate pairs beyond the BMP). Outside strings JSON has only ASCII,
// so every such character is inside a string, where the escape is valid.
func asciiJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		switch {
		case r < 0x80:
			out = append(out, byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

// capitalise upper-cases the first letter of an ASCII phrase.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
