package cmdutil

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/tw-cli/tw-cli/internal/iostreams"
)

// Confirm asks a yes/no question on stderr and reads the answer from
// stdin; anything but y or yes, a closed stdin included, is no.
func Confirm(ios *iostreams.IOStreams, question string) (bool, error) {
	fmt.Fprint(ios.ErrOut, question)
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
