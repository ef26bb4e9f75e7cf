package other

import "os/exec"

func f() { _ = exec.Command("git", "status") }
