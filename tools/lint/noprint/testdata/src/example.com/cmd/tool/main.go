package main

import "fmt"

func main() { fmt.Println("commands own stdout") }
