package sqlite

import (
	"testing"

	"github.com/tw-cli/tw-cli/internal/store/storetest"
)

func TestTriageSuite(t *testing.T) { storetest.RunTriage(t, open) }
