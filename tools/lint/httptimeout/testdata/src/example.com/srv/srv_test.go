package srv

import (
	"net/http"
	"testing"
)

// Tests are exempt.
func TestServe(t *testing.T) {
	s := &http.Server{}
	_ = s
	go http.ListenAndServe("127.0.0.1:0", nil)
}
