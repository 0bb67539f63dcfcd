// Command tw-cli manages webhook integrations between security tools.
package main

import (
	"os"

	"github.com/tw-cli/tw-cli/internal/app"
)

func main() { os.Exit(app.Main()) }
