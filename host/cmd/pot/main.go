package main

import (
	"os"

	"github.com/potgo/pot/host/cli"
)

func main() { os.Exit(cli.Main()) }
