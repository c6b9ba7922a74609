package main

import (
	"os"

	"github.com/potgo/pot/host/cli"
	"github.com/potgo/pot/internal/hugepages"
)

func main() {
	// Advice only: where it fails, the heap has ordinary pages.
	_, _ = hugepages.Reserve()
	os.Exit(cli.Main())
}
