package bad

import "os/exec"

func helper() { _ = exec.Command("git", "init") } // tests may build repositories
