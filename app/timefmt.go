package app

import (
	"strings"
	"time"
)

// FormatTime writes t as people at either end read it: the local time with
// its zone, and UTC beside it (the time manifests and the ledger record,
// which officers compare across the gap): "2026-12-01 11:05 CET (10:05
// UTC)". Where the local zone is UTC, once.
func FormatTime(t time.Time) string { return formatTime(t, "15:04") }

// FormatTimeSeconds is FormatTime to the second, for the custody ledger's
// entries, several of which fall in one minute.
func FormatTimeSeconds(t time.Time) string { return formatTime(t, "15:04:05") }

func formatTime(t time.Time, clock string) string {
	local, utc := t.Local(), t.UTC()
	if local.Format("-0700") == "+0000" {
		return utc.Format("2006-01-02 " + clock + " UTC")
	}
	s := local.Format("2006-01-02 " + clock + " MST")
	if local.Format("2006-01-02") == utc.Format("2006-01-02") {
		return s + " (" + utc.Format(clock) + " UTC)"
	}
	return s + " (" + utc.Format("2006-01-02 "+clock) + " UTC)"
}

// FormatExpiry writes an activation key's expiry: "never expires" for the
// far-off date Azure uses for that (9999-12-30T23:59:59.9999999Z), else
// the date in local time with UTC beside it; text it cannot read is shown
// as it is.
func FormatExpiry(s string) string {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return s
	}
	if t.Year() >= 9999 {
		return "never expires (" + t.UTC().Format("2006-01-02") + ")"
	}
	return FormatTime(t)
}
