package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

func TestImportStampInformation(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "AzureStackStampInformation.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The same file as Windows PowerShell's Out-File writes it: UTF-16LE.
	u := utf16.Encode([]rune(strings.TrimPrefix(string(data), "\ufeff")))
	wide := []byte{0xff, 0xfe}
	for _, c := range u {
		wide = append(wide, byte(c), byte(c>>8))
	}
	for name, content := range map[string][]byte{"utf-8 with BOM and CRLF": data, "utf-16": wide} {
		t.Run(name, func(t *testing.T) {
			env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}}
			svc := NewService(env)
			path := filepath.Join(t.TempDir(), "AzureStackStampInformation.json")
			os.WriteFile(path, content, 0o600)
			p, err := svc.ImportStampInformation(path)
			if err != nil {
				t.Fatal(err)
			}
			if p.CloudID != "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7" || p.Name != "hub01 (azs.contoso.local)" || p.User != `AZS\CloudAdmin` ||
				!slices.Equal(p.Hosts, []string{"10.20.30.224", "10.20.30.225", "10.20.30.226"}) || p.Nodes != 4 || p.Version != "1.2311.2.23" {
				t.Errorf("profile %+v", p)
			}
			for _, ref := range []string{"hub01", "HUB01 (azs.contoso.local)", "b8a1abcd", "B8A1ABCD-1A69-46C7-8DA4-F9FC3C6DA5D7"} {
				if got, err := svc.FindStamp(ref); err != nil || got.CloudID != p.CloudID {
					t.Errorf("FindStamp(%q) = %v, %v", ref, got, err)
				}
			}
			if _, err := svc.FindStamp("hub02"); err == nil || !strings.Contains(err.Error(), "stamps import") {
				t.Errorf("FindStamp of an unknown stamp: %v", err)
			}
		})
	}
}

func TestImportStampInformationRefusesOtherFiles(t *testing.T) {
	env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}}
	svc := NewService(env)
	for name, content := range map[string]string{
		"not json":     "hello",
		"no cloud ID":  `{"RegionName":"hub01","EmergencyConsoleIPAddresses":["10.0.0.1"]}`,
		"no ERCS":      `{"CloudID":"b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7","RegionName":"hub01"}`,
		"a token, say": `{"CloudId":"x"}`,
	} {
		path := filepath.Join(t.TempDir(), "f.json")
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := svc.ImportStampInformation(path); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
}

// TestDamagedProfileIsReportedNotReset: a profile that does not parse is
// an error naming it, and is left as it is.
func TestDamagedProfileIsReportedNotReset(t *testing.T) {
	env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}}
	svc := NewService(env)
	id := "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7"
	os.MkdirAll(env.stampsPath(), 0o700)
	os.WriteFile(env.profilePath(id), []byte("{damaged"), 0o600)
	if _, err := svc.Stamps(); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("Stamps with a damaged profile: %v", err)
	}
	env.stampEvent(id, "token made", "", "", nil) // a warning, not a reset
	if got, _ := os.ReadFile(env.profilePath(id)); string(got) != "{damaged" {
		t.Errorf("the damaged profile was rewritten: %q", got)
	}
}

func TestExpiryWarnings(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		days int
		want string // words of the warning; "" means none
	}{
		{365, ""}, {61, ""}, {60, "expires in 60 days"}, {31, "expires in 31 days"}, {30, "expires in 30 days"},
		{8, "expires in 8 days"}, {7, "expires in 7 days"}, {0, "expires in 0 days"}, {-1, "expired on"},
	} {
		env := &Env{ConfigDir: t.TempDir(), Build: BuildInfo{Version: "test"}, Now: func() time.Time { return now }}
		svc := NewService(env)
		exp := now.Add(time.Duration(tt.days)*24*time.Hour + time.Hour)
		if tt.days < 0 {
			exp = now.Add(time.Duration(tt.days) * 24 * time.Hour)
		}
		env.updateProfile("b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", func(p *StampProfile) {
			p.Name = "hub01"
			p.Activation = &Activation{Time: now.AddDate(-1, 0, 0), RegistrationName: "r", BillingModel: "Capacity", Expires: exp}
		})
		list, err := svc.Stamps()
		if err != nil || len(list) != 1 {
			t.Fatal(list, err)
		}
		if got := list[0].Warning; tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%d days: warning %q, want %q", tt.days, got, tt.want)
		}
	}
}
