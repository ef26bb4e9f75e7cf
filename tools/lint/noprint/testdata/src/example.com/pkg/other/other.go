package other

import "fmt"

func Hello() { fmt.Println("not under libs/ or internal/") }
