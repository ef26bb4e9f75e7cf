package nearest

import (
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	teams := []string{"alpha", "beta", "platform-infra", "platform-web", "web", "empty"}
	tests := []struct {
		name string
		max  int
		want string
	}{
		{"alpah", 3, "alpha"},
		{"platform", 3, "platform-web,platform-infra"},
		{"platfrom-web", 3, "platform-web,web"},
		{"nosuch", 3, ""},
		{"bet", 3, "beta"},
		{"alpha", 3, ""}, // itself is not a suggestion
		{"platform", 1, "platform-web"},
	}
	for _, tc := range tests {
		if got := strings.Join(Names(tc.name, teams, tc.max), ","); got != tc.want {
			t.Errorf("Names(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"alpha", "alpah", 2}} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
