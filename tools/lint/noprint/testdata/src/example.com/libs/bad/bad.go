package bad

import "fmt"

func Hello(name string) {
	fmt.Println("hello", name) // want `fmt.Println in library package example.com/libs/bad`
	fmt.Printf("%s\n", name)   // want `fmt.Printf in library package`
	fmt.Print(name)            // want `fmt.Print in library package`
	println("debug")           // want `builtin println in library package`
	print("debug")             // want `builtin print in library package`
}

var logf = fmt.Printf // want `fmt.Printf in library package`

func use() { logf("x") }
