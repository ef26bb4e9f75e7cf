package good

import (
	"fmt"
	"io"
	"os"
)

// Writing to a writer the caller passes, or formatting, is fine.
func Report(w io.Writer, n int) string {
	fmt.Fprintf(w, "%d\n", n)
	fmt.Fprintln(os.Stderr, "to stderr, explicitly")
	return fmt.Sprintf("%d", n) + fmt.Sprint(n) + fmt.Sprintln(n)
}

type printer struct{}

func (printer) Println(string) {}

// A method named Println is not fmt's.
func Other() { printer{}.Println("x") }
