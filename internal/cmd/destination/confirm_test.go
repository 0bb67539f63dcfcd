package destination

import (
	"context"
	"errors"
	"testing"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/store"
)

// terminal makes the harness's stdin and stdout a terminal, with answer
// waiting on stdin.
func (h *harness) terminal(answer string) {
	h.ios.SetStdinTTY(true)
	h.ios.SetStdoutTTY(true)
	h.in.Reset()
	h.in.WriteString(answer)
	h.err.Reset()
}

func (h *harness) exists(t *testing.T, name string) bool {
	t.Helper()
	_, err := h.st.GetDestination(context.Background(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// TestRemoveConfirms: 'destination remove' behaves like 'webhook remove'.
func TestRemoveConfirms(t *testing.T) {
	h := newHarness(t)
	if err := h.st.CreateDestination(context.Background(), &store.Destination{Name: "chat", Kind: notify.KindSlack, URL: "https://hooks.slack.com/services/T/B/X", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const prompt = `Remove slack destination "chat"? Notify steps that use it will fail. [y/N] `

	t.Run("piped without --yes refuses", func(t *testing.T) {
		err := h.run("remove", "chat")
		want := `--yes is required to remove "chat" when not running interactively`
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != want {
			t.Fatalf("err = %v (exit %d), want %q (exit 2)", err, cmdutil.ExitCode(err), want)
		}
		if !h.exists(t, "chat") {
			t.Fatal("a refused remove deleted the destination")
		}
	})
	t.Run("terminal, answer n keeps it", func(t *testing.T) {
		for _, answer := range []string{"n\n", "\n", ""} {
			h.terminal(answer)
			err := h.run("remove", "chat")
			if !errors.Is(err, cmdutil.ErrCancel) || cmdutil.ExitCode(err) != cmdutil.ExitFailure {
				t.Errorf("answer %q: err = %v, want cancelled (exit 1)", answer, err)
			}
			if h.err.String() != prompt {
				t.Errorf("answer %q: stderr = %q, want the prompt", answer, h.err)
			}
			if !h.exists(t, "chat") {
				t.Fatalf("answer %q removed the destination", answer)
			}
		}
	})
	t.Run("terminal, unknown name is not asked about", func(t *testing.T) {
		h.terminal("y\n")
		err := h.run("remove", "nope")
		if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || err.Error() != `no destination "nope": run 'tw-cli destination list'` {
			t.Errorf("err = %v (exit %d)", err, cmdutil.ExitCode(err))
		}
		if h.err.Len() != 0 {
			t.Errorf("asked about a destination that does not exist: %q", h.err)
		}
	})
	t.Run("terminal, answer y removes it", func(t *testing.T) {
		h.terminal("y\n")
		if err := h.run("remove", "chat"); err != nil {
			t.Fatal(err)
		}
		if h.err.String() != prompt+"✓ Removed destination chat\n" {
			t.Errorf("stderr = %q", h.err)
		}
		if h.exists(t, "chat") {
			t.Fatal("answering y did not remove the destination")
		}
	})
}

// TestRemoveYes: --yes removes without asking, piped or on a terminal.
func TestRemoveYes(t *testing.T) {
	for _, tty := range []bool{false, true} {
		h := newHarness(t)
		h.st.CreateDestination(context.Background(), &store.Destination{Name: "chat", Kind: notify.KindSlack, URL: "https://hooks.slack.com/services/T/B/X", CreatedAt: now})
		if tty {
			h.terminal("n\n") // would refuse, were it asked
		}
		if err := h.run("remove", "chat", "-y"); err != nil {
			t.Fatalf("tty %v: %v", tty, err)
		}
		if h.err.String() != "✓ Removed destination chat\n" || h.exists(t, "chat") {
			t.Errorf("tty %v: stderr %q, exists %v", tty, h.err, h.exists(t, "chat"))
		}
	}
}

// TestDiscardAllConfirms: 'discard --all' asks like 'webhook remove';
// discarding ids the user typed does not.
func TestDiscardAllConfirms(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var ids []string
	for _, num := range []string{"INC-2024-0001", "INC-2024-0002", "INC-2024-0003"} {
		dl := &store.DeadLetter{Destination: "hec", Kind: notify.KindSplunkHEC, IncidentNumber: num, Body: []byte("{}"), Attempts: 1, LastError: "HTTP 500", CreatedAt: now, UpdatedAt: now}
		if err := h.st.AddDeadLetter(ctx, dl); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, dl.ID)
	}
	count := func() int {
		t.Helper()
		dls, err := h.st.ListDeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(dls)
	}

	t.Run("piped --all without --yes refuses", func(t *testing.T) {
		err := h.run("discard", "--all")
		want := "--yes is required to discard every dead letter when not running interactively"
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != want {
			t.Fatalf("err = %v (exit %d), want %q (exit 2)", err, cmdutil.ExitCode(err), want)
		}
		if n := count(); n != 3 {
			t.Fatalf("a refused discard --all left %d of 3", n)
		}
	})
	t.Run("piped ids need no --yes", func(t *testing.T) {
		h.err.Reset()
		if err := h.run("discard", ids[0]); err != nil {
			t.Fatal(err)
		}
		if h.err.String() != "✓ Discarded "+ids[0]+"\n" || count() != 2 {
			t.Fatalf("stderr %q, %d left", h.err, count())
		}
	})
	t.Run("terminal --all, answer n keeps them", func(t *testing.T) {
		for _, answer := range []string{"n\n", ""} {
			h.terminal(answer)
			err := h.run("discard", "--all")
			if !errors.Is(err, cmdutil.ErrCancel) || cmdutil.ExitCode(err) != cmdutil.ExitFailure {
				t.Errorf("answer %q: err = %v, want cancelled (exit 1)", answer, err)
			}
			if want := "Discard all 2 failed notification(s)? They will not be sent again. [y/N] "; h.err.String() != want {
				t.Errorf("answer %q: stderr = %q, want %q", answer, h.err, want)
			}
			if n := count(); n != 2 {
				t.Fatalf("answer %q: %d left of 2", answer, n)
			}
		}
	})
	t.Run("terminal ids are not asked about", func(t *testing.T) {
		h.terminal("n\n")
		if err := h.run("discard", ids[1]); err != nil {
			t.Fatal(err)
		}
		if h.err.String() != "✓ Discarded "+ids[1]+"\n" || count() != 1 {
			t.Fatalf("stderr %q, %d left", h.err, count())
		}
	})
	t.Run("terminal --all, answer y discards them", func(t *testing.T) {
		h.terminal("y\n")
		if err := h.run("discard", "--all"); err != nil {
			t.Fatal(err)
		}
		want := "Discard all 1 failed notification(s)? They will not be sent again. [y/N] ✓ Discarded " + ids[2] + "\n"
		if h.err.String() != want || count() != 0 {
			t.Fatalf("stderr %q, %d left", h.err, count())
		}
	})
	t.Run("terminal --all on an empty list does not ask", func(t *testing.T) {
		h.terminal("n\n")
		if err := h.run("discard", "--all"); err != nil || h.err.String() != "No failed notifications.\n" {
			t.Fatalf("err %v, stderr %q", err, h.err)
		}
	})
}
