package smoothquant

import "testing"

// FuzzParse: any parameter object is parsed or refused, never a panic,
// and what parses keeps α within [0, 1].
func FuzzParse(f *testing.F) {
	f.Add([]byte(Defaults))
	f.Add([]byte(`{"alpha": 0.7, "preset": "mixed", "stat_subset_size": 30}`))
	f.Add([]byte(`{"alpha_search": true, "alpha_grid": [0.1, 1]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"smooth_quant_alpha": 0.8, "preset": "mixed"}`))
	f.Add([]byte(`{"smooth_quant_alpha": -1, "alpha": 0.3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, _, err := parse(b)
		if err == nil && (p.Alpha < 0 || p.Alpha > 1 || p.SearchSamples < 1) {
			t.Errorf("parsed %+v", p)
		}
	})
}
