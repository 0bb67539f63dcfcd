package payload

import "testing"

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
