package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep"
)

func TestTokenRequestValidate(t *testing.T) {
	tests := []struct {
		name    string
		req     TokenRequest
		version string
		wantErr string // "" means valid
	}{
		{"development", TokenRequest{BillingModel: "Development", UsageReportingEnabled: true}, "1.2311.2.23", ""},
		{"capacity with agreement", TokenRequest{BillingModel: "Capacity", AgreementNumber: "EA-1"}, "1.2311.2.23", ""},
		{"capacity without agreement", TokenRequest{BillingModel: "Capacity"}, "1.2311.2.23", "needs the agreement number"},
		{"capacity blank agreement", TokenRequest{BillingModel: "Capacity", AgreementNumber: "  "}, "1.2311.2.23", "needs the agreement number"},
		{"capacity agreement with spaces", TokenRequest{BillingModel: "Capacity", AgreementNumber: "1234 5678"}, "1.2311.2.23", "not of the shape"},
		{"capacity agreement pasted sentence", TokenRequest{BillingModel: "Capacity", AgreementNumber: "Our EA number is 12345678."}, "1.2311.2.23", "not of the shape"},
		{"capacity with usage reporting", TokenRequest{BillingModel: "Capacity", AgreementNumber: "EA-1", UsageReportingEnabled: true}, "1.2311.2.23", "does not allow usage reporting"},
		{"custom with tag", TokenRequest{BillingModel: "Custom", MsAssetTag: "TAG"}, "1.2311.2.23", ""},
		{"custom without tag", TokenRequest{BillingModel: "Custom"}, "1.2311.2.23", "needs the MS asset tag"},
		{"custom on an old stamp", TokenRequest{BillingModel: "Custom", MsAssetTag: "TAG"}, "1.1910.0.58", "needs stamp version 1.1912.0.19"},
		{"pay as you use is connected only", TokenRequest{BillingModel: "PayAsYouUse"}, "1.2311.2.23", "not one of Capacity, Development or Custom"},
		{"empty", TokenRequest{}, "1.2311.2.23", "not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate(tt.version)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), "; "):
				t.Errorf("error %q does not say what to do after '; '", err)
			}
		})
	}
}

func TestBillingModelsFor(t *testing.T) {
	for _, tt := range []struct {
		version         string
		customAvailable bool
	}{{"1.2311.2.23", true}, {"1.1912.0.19", true}, {"1.1910.0.58", false}} {
		var names []string
		for _, m := range BillingModelsFor(tt.version) {
			names = append(names, m.Name)
			if m.Name == "Custom" && (m.Unavailable == "") != tt.customAvailable {
				t.Errorf("stamp %s: Custom unavailable %q, want available %v", tt.version, m.Unavailable, tt.customAvailable)
			}
			if m.Name == "Capacity" && (!m.NeedsAgreement || !m.UsageReportingOff) {
				t.Errorf("Capacity: got %+v, want agreement needed and usage reporting off", m)
			}
		}
		if want := []string{"Capacity", "Development", "Custom"}; !slices.Equal(names, want) {
			t.Errorf("stamp %s: got %v, want %v", tt.version, names, want)
		}
	}
}

func TestParseHostsAndRegistrationName(t *testing.T) {
	if got, want := ParseHosts(" 10.0.0.1, 10.0.0.2;10.0.0.3\n10.0.0.4:5985 "), []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4:5985"}; !slices.Equal(got, want) {
		t.Errorf("ParseHosts: got %v, want %v", got, want)
	}
	for in, want := range map[string]string{
		"B8A1ABCD-1a69-46c7-8da4-f9fc3c6da5d7": "AzureStack-b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7",
		"":                                     "AzureStack",
	} {
		if got := DefaultRegistrationName(in); got != want {
			t.Errorf("DefaultRegistrationName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := RenewalRegistrationName("b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", time.Date(2027, 11, 30, 23, 0, 0, 0, time.UTC)); got != "AzureStack-b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7-20271130" {
		t.Errorf("RenewalRegistrationName = %q", got)
	}
}

func TestExplain(t *testing.T) {
	mismatch := &courier.MismatchError{What: "cloud ID", Want: "a", Got: "b", Fix: "use the other key"}
	for _, tt := range []struct {
		name           string
		err            error
		reason, fix    string
		integrity      bool
		detailsContain string
	}{
		{"problem and fix", errors.New("no folder chosen; choose a folder"), "no folder chosen", "choose a folder", false, "no folder chosen"},
		{"no fix", errors.New("boom"), "boom", "", false, "boom"},
		{"wrapped mismatch", fmt.Errorf("check the key: %w", mismatch), "", "", true, "because: cloud ID"},
		{"refused password", &pep.Error{Op: "open PEP session", Host: "10.0.0.224", Err: fmt.Errorf("psrp: open runspace pool: %w", pep.ErrUnauthorized),
			Advice: "check the user (DOMAIN\\CloudAdmin) and its password"},
			"The stamp's privileged endpoint at 10.0.0.224 refused the user name or password", "check the user (DOMAIN\\CloudAdmin) and its password", false, "HTTP 401"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := Explain(tt.err)
			if tt.reason != "" && v.Reason != tt.reason {
				t.Errorf("reason %q, want %q", v.Reason, tt.reason)
			}
			if tt.fix != "" && v.Fix != tt.fix {
				t.Errorf("fix %q, want %q", v.Fix, tt.fix)
			}
			if v.Integrity != tt.integrity {
				t.Errorf("integrity %v, want %v", v.Integrity, tt.integrity)
			}
			if !strings.Contains(v.Details, tt.detailsContain) {
				t.Errorf("details %q lack %q", v.Details, tt.detailsContain)
			}
		})
	}
}

func TestExportAndImportQR(t *testing.T) {
	env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}, Warn: func(m string) { t.Errorf("warning: %s", m) }}
	svc := NewService(env)
	a, err := courier.Parse(testutil.ReadShared(t, "tokens", "registration-token-4node.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := svc.Export(context.Background(), ExportRequest{Artefact: newView(a, nil, "test"), Dir: dir, QR: true, Sheet: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.QRFiles) < 2 || res.Sheet == "" || res.Manifest == "" {
		t.Fatalf("got %+v, want several QR files, a sheet and a manifest", res)
	}
	// Saving again does not replace the file silently.
	if _, err := svc.Export(context.Background(), ExportRequest{Artefact: newView(a, nil, "test"), Dir: dir}, nil); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second export: got %v, want 'already exists'", err)
	}
	// One part short: the missing part is named.
	_, st, err := svc.ImportQR(context.Background(), res.QRFiles[1:], KindToken, nil)
	if err == nil || !slices.Equal(st.Missing, []int{1}) || !strings.Contains(err.Error(), "missing 1;") {
		t.Errorf("without part 1: got %v, missing %v; want an error naming part 1", err, st.Missing)
	}
	// In any order, all parts give the artefact back.
	v, _, err := svc.ImportQR(context.Background(), reversed(res.QRFiles), KindToken, nil)
	if err != nil || v.SHA256 != a.SHA256 {
		t.Fatalf("all parts: got %v, %v; want SHA-256 %s", v, err, a.SHA256)
	}
	// The wrong kind is an integrity error.
	if _, _, err := svc.ImportQR(context.Background(), res.QRFiles, KindKey, nil); !errors.Is(err, courier.ErrIntegrity) {
		t.Errorf("token where a key is wanted: got %v, want an integrity error", err)
	}
	// The file reads back with its manifest.
	f, err := svc.ImportFile(context.Background(), res.File, KindToken)
	if err != nil || f.SHA256 != a.SHA256 || !strings.HasPrefix(f.Manifest, "matches") {
		t.Errorf("import file: got %+v, %v; want the same hash and a matching manifest", f, err)
	}
	if chk, err := env.Ledger().Verify(nil); err != nil || chk.Entries < 5 {
		t.Errorf("ledger: %d entries, %v; want every step recorded", chk.Entries, err)
	}
}

// reversed returns a copy of s in reverse order.
func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}

// TestQRSessionRejectsAWrongImageAlone: an image of another artefact is
// turned away by itself, saying what it holds; the parts already in stay,
// and the right images still complete the key. (The GUI's QR import used
// to refuse every image after one wrong one.)
func TestQRSessionRejectsAWrongImageAlone(t *testing.T) {
	env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}, Warn: func(m string) { t.Errorf("warning: %s", m) }}
	svc := NewService(env)
	ctx := context.Background()
	write := func(vector string) QRResult {
		a, err := courier.Parse(testutil.ReadShared(t, "tokens", vector))
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.WriteQR(ctx, QRRequest{Artefact: newView(a, nil, "test"), Dir: filepath.Join(t.TempDir(), "qr")})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	key, token := write("activation-key-4node.txt"), write("registration-token-4node.txt")
	if key.Parts < 3 {
		t.Fatalf("the key has %d parts; the test wants at least 3", key.Parts)
	}
	q := svc.NewQRSession(KindKey)
	res, err := q.Add(ctx, []string{key.PNGs[1], token.PNGs[0], key.PNGs[2]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Problem != "" || res[2].Problem != "" {
		t.Fatalf("results %+v: want the two key images accepted", res)
	}
	if p := res[1].Problem; !strings.Contains(p, filepath.Base(token.PNGs[0])) || !strings.Contains(p, "registration token") || !strings.Contains(p, "needs the activation key") {
		t.Errorf("the token's image: %q; want its name, what it holds and what the step needs", p)
	}
	if got := q.Progress(); !strings.Contains(got, fmt.Sprintf("2 of %d parts so far", key.Parts)) {
		t.Errorf("progress %q", got)
	}
	// A file of the key's frames completes it, whatever came before.
	if _, err := q.Add(ctx, []string{key.Frames}, nil); err != nil {
		t.Fatal(err)
	}
	v := q.Artefact()
	if v == nil || v.Kind != KindKey || v.Length == 0 {
		t.Fatalf("after frames.txt: artefact %+v, progress %q", v, q.Progress())
	}
	// Clear starts over; a folder is read whole.
	q.Clear()
	if q.Artefact() != nil || q.Status().Parts != 0 {
		t.Fatal("Clear kept parts")
	}
	if _, err := q.Add(ctx, []string{filepath.Dir(key.PNGs[0])}, nil); err != nil || q.Artefact() == nil {
		t.Fatalf("the key's folder: %v, artefact %v", err, q.Artefact())
	}
}

func TestFormatExpiryAndTime(t *testing.T) {
	if got := FormatExpiry("9999-12-30T23:59:59.9999999Z"); got != "never expires (9999-12-30)" {
		t.Errorf("far-off expiry: got %q", got)
	}
	if got := FormatExpiry("soon"); got != "soon" {
		t.Errorf("unreadable expiry: got %q", got)
	}
	at := time.Date(2027, 3, 1, 9, 30, 0, 0, time.UTC)
	got := FormatExpiry(at.Format(time.RFC3339))
	if !strings.Contains(got, "UTC") || !strings.Contains(got, "2027-03-01") {
		t.Errorf("a real expiry: got %q, want the date with UTC", got)
	}
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = time.FixedZone("CET", 3600)
	if got := FormatTime(at); got != "2027-03-01 10:30 CET (09:30 UTC)" {
		t.Errorf("FormatTime in CET: got %q", got)
	}
	time.Local = time.UTC
	if got := FormatTime(at); got != "2027-03-01 09:30 UTC" {
		t.Errorf("FormatTime in UTC: got %q", got)
	}
}

// TestNothingCrossesUnrecorded: when the custody ledger cannot be written
// (here its last entry is damaged), an export fails and leaves no file, QR
// code or sheet behind, and a read fails too.
func TestNothingCrossesUnrecorded(t *testing.T) {
	env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}}
	svc := NewService(env)
	a, err := courier.Parse(testutil.ReadShared(t, "tokens", "registration-token-4node.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// A damaged last entry: every append fails, and says so.
	ledger := env.Ledger().Path()
	if err := os.MkdirAll(env.ConfigDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ledger, []byte("{not an entry}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = svc.Export(context.Background(), ExportRequest{Artefact: newView(a, nil, "test"), Dir: dir, QR: true, Sheet: true}, nil)
	var le *courier.LedgerError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "could not record") {
		t.Fatalf("export with an unwritable ledger: %v, want a ledger error", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files left behind: %v", names)
	}
	if _, err := svc.WriteQR(context.Background(), QRRequest{Artefact: newView(a, nil, "test"), Dir: filepath.Join(dir, "qr")}); !errors.As(err, &le) {
		t.Errorf("qr encode: %v, want a ledger error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "qr")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the QR folder exists after a refused ledger entry: %v", err)
	}
	src := testutil.Shared(t, "tokens", "registration-token-4node.txt")
	if _, err := svc.ImportFile(context.Background(), src, KindToken); !errors.As(err, &le) {
		t.Errorf("import: %v, want a ledger error", err)
	}
	// With the ledger set aside, the same export works and is recorded.
	os.Remove(ledger)
	if _, err := svc.Export(context.Background(), ExportRequest{Artefact: newView(a, nil, "test"), Dir: dir}, nil); err != nil {
		t.Fatal(err)
	}
	if chk, err := env.Ledger().Verify(nil); err != nil || chk.Entries != 1 {
		t.Errorf("ledger after the export: %+v, %v; want one entry", chk, err)
	}
}

func TestLedgerCSVIsExcelSafe(t *testing.T) {
	var b bytes.Buffer
	entries := []courier.Entry{{Seq: 1, Step: "import", File: `C:\drop\=cmd|' /C calc'!A0.txt`, Outcome: "ok",
		Detail: "@SUM(1+1)", User: "-2+3", Machine: "+1", App: "line1\nline2\tend\\x"}}
	if err := writeLedgerCSV(&b, entries); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "\ufeffseq,") || !strings.Contains(out, "\r\n") || strings.Count(out, "\n") != strings.Count(out, "\r\n") {
		t.Fatalf("not UTF-8 with BOM and CRLF: %q", out)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV does not read back: %v %v", rows, err)
	}
	get := func(col string) string { return rows[1][slices.Index(rows[0], col)] }
	for col, want := range map[string]string{
		"file":    `C:\drop\=cmd|' /C calc'!A0.txt`, // a formula only at the start
		"detail":  "'@SUM(1+1)",
		"user":    "'-2+3",
		"machine": "'+1",
		"app":     `line1\x0Aline2\x09end\\x`,
		"step":    "import",
	} {
		if got := get(col); got != want {
			t.Errorf("%s = %q, want %q", col, got, want)
		}
	}
}
