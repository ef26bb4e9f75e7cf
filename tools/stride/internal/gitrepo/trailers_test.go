package gitrepo

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTrailers(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		want      []Trailer
	}{
		{"subject only", "Fix: the thing", nil},
		{"no trailers", "Subject\n\nSome body text.\nMore.", nil},
		{"simple", "Subject\n\nBody.\n\nApproved-by: Alice <alice@x.example>\nSigned-off-by: Bob <bob@x.example>\n",
			[]Trailer{{"Approved-by", "Alice <alice@x.example>"}, {"Signed-off-by", "Bob <bob@x.example>"}}},
		{"continuation", "S\n\nNote: one\n  two\nApproved-by: a@x.example",
			[]Trailer{{"Note", "one two"}, {"Approved-by", "a@x.example"}}},
		{"crlf and trailing blank", "S\r\n\r\nApproved-by: a@x.example\r\n\r\n", []Trailer{{"Approved-by", "a@x.example"}}},
		{"comments dropped", "S\n\nApproved-by: a@x.example\n# a comment", []Trailer{{"Approved-by", "a@x.example"}}},
		{"quarter rule keeps", "S\n\n(cherry picked from commit abc)\nApproved-by: a@x.example",
			[]Trailer{{"Approved-by", "a@x.example"}}},
		{"mostly prose", "S\n\nthis is prose\nand more prose\nand more\nand more\nKey: v", nil},
		{"space in key", "S\n\nNot a key: v", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseTrailers(tc.msg)); diff != "" {
				t.Errorf("ParseTrailers(%q) (-want +got):\n%s", tc.msg, diff)
			}
		})
	}
}

func TestAddressOf(t *testing.T) {
	for in, want := range map[string]string{
		"Alice <alice@x.example>": "alice@x.example",
		"alice@x.example":         "alice@x.example",
		"<alice@x.example>":       "alice@x.example",
		"Alice":                   "",
		"Alice <alice>":           "",
		"Alice <alice@x":          "",
		"a b@x.example":           "",
	} {
		if got := AddressOf(in); got != want {
			t.Errorf("AddressOf(%q) = %q, want %q", in, got, want)
		}
	}
}
