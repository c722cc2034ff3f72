package psrp

import "testing"

func TestErrorRecordTextOnce(t *testing.T) {
	cases := []struct {
		rec  ErrorRecord
		want string
	}{
		{ErrorRecord{Message: "Script blocks are not allowed", FullyQualifiedErrorID: "ScriptsNotAllowed"}, "Script blocks are not allowed (ScriptsNotAllowed)"},
		{ErrorRecord{Message: "Another action is in progress.", FullyQualifiedErrorID: "Another action is in progress."}, "Another action is in progress."},
		{ErrorRecord{CategoryMessage: "NotSpecified: (:) [], RuntimeException"}, "NotSpecified: (:) [], RuntimeException"},
	}
	for _, c := range cases {
		if got := c.rec.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
