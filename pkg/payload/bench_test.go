package payload

import (
	"encoding/json"
	"testing"
)

// BenchmarkParse measures each format on its largest fixture, through the
// receiver's entry point with the format named and with auto sniffing.
func BenchmarkParse(b *testing.B) {
	largest := map[string]fixture{}
	for _, fx := range fixtures(b) {
		if len(fx.body) > len(largest[fx.format].body) {
			largest[fx.format] = fx
		}
	}
	for _, name := range Formats() {
		fx, ok := largest[name]
		if !ok {
			continue
		}
		for _, mode := range []string{name, FormatAuto} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(len(fx.body)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Parse(mode, fx.body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEventJSON encodes every event of every fixture per iteration, as
// the receiver does for each delivery: through encoding/json, through
// AppendJSON into a fresh slice (what the receiver keeps), and into a
// reused buffer to show the cost of encoding alone.
func BenchmarkEventJSON(b *testing.B) {
	var events []Event
	for _, fx := range fixtures(b) {
		res, err := Parse(fx.format, fx.body)
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, res.Events...)
	}
	var size int64
	for i := range events {
		out, err := json.Marshal(&events[i])
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(out))
	}
	b.Run("json.Marshal", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, ev := range events {
				if _, err := json.Marshal(ev); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("AppendJSON/nil", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for i := range events {
				if _, err := events[i].AppendJSON(nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("AppendJSON/reuse", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for i := range events {
				var err error
				if buf, err = events[i].AppendJSON(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
