package gitrepo

import "os/exec"

func run() { _ = exec.Command("git", "status") }
