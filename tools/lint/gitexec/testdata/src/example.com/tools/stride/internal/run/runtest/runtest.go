package runtest

import "os/exec"

func Git() { _ = exec.Command("git", "init") }
