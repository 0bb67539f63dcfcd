package threatstack

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

const redacted = "[REDACTED]"

// redactor replaces every occurrence of the API key (raw and URL-escaped)
// in text bound for logs and errors. The key never goes into a log call on
// purpose; this catches the accidents: a server echoing it in an error body,
// a wrapped transport error, a future debug line.
type redactor struct {
	secrets []string
}

// minRedactLen is the shortest key worth redacting: replacing every "k" of
// a one-letter test key would mangle all output while protecting nothing.
// Threat Stack's keys are far longer.
const minRedactLen = 6

func newRedactor(key string) redactor {
	if len(key) < minRedactLen {
		return redactor{}
	}
	secrets := []string{key}
	if esc := url.QueryEscape(key); esc != key {
		secrets = append(secrets, esc)
	}
	return redactor{secrets: secrets}
}

func (r redactor) string(s string) string {
	for _, k := range r.secrets {
		s = strings.ReplaceAll(s, k, redacted)
	}
	return s
}

func (r redactor) bytes(b []byte) []byte {
	for _, k := range r.secrets {
		b = bytes.ReplaceAll(b, []byte(k), []byte(redacted))
	}
	return b
}

// redactHandler is the slog.Handler wrapped around the caller's debug
// logger: every message and attribute passes through the redactor.
type redactHandler struct {
	inner slog.Handler
	r     redactor
}

func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.string(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return redactHandler{inner: h.inner.WithAttrs(clean), r: h.r}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{inner: h.inner.WithGroup(name), r: h.r}
}

func (h redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.string(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		// Errors and other values print through fmt; only rewrite them
		// when the printed form holds a secret, to keep their type otherwise.
		s := fmt.Sprint(v.Any())
		if clean := h.r.string(s); clean != s {
			return slog.String(a.Key, clean)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// restyLogger routes resty's own messages (retry warnings, final errors)
// to the debug logger instead of resty's default of writing to stderr,
// which a CLI must keep for its own output.
type restyLogger struct{ log *slog.Logger }

func (l restyLogger) Errorf(format string, v ...any) {
	l.log.Debug("resty: " + fmt.Sprintf(format, v...))
}
func (l restyLogger) Warnf(format string, v ...any) {
	l.log.Debug("resty: " + fmt.Sprintf(format, v...))
}
func (l restyLogger) Debugf(format string, v ...any) {
	l.log.Debug("resty: " + fmt.Sprintf(format, v...))
}
