package bad

import (
	"fmt"
	"testing"
)

// Tests may print.
func TestHello(t *testing.T) {
	fmt.Println("in a test")
	Hello("x")
}
