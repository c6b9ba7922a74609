package sdk

import (
	"reflect"
	"testing"
)

func TestTargetOptionsRoundTrip(t *testing.T) {
	opts, err := ParseOptionList([]string{"isa=avx2", "x = a=b ", "isa=vnni"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"isa": "vnni", "x": "a=b"}
	if !reflect.DeepEqual(opts, want) {
		t.Fatalf("parsed %v, want %v", opts, want)
	}
	back, err := ParseTargetOptions(EncodeTargetOptions(opts))
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	if got := OptionKeys(opts); !reflect.DeepEqual(got, []string{"isa", "x"}) {
		t.Errorf("keys %v", got)
	}
	for _, bad := range []string{"novalue", "=x"} {
		if _, err := ParseOptionList([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParseTargetOptions("{"); err == nil {
		t.Error("bad JSON accepted")
	}
	if o, err := ParseTargetOptions(""); err != nil || len(o) != 0 {
		t.Errorf("empty: %v %v", o, err)
	}
}
