package hugepages

import "testing"

func TestSelected(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"always [madvise] never\n", "madvise"},
		{"[always] madvise never\n", "always"},
		{"always madvise [never]\n", "never"},
		{"always madvise never\n", ""},
		{"[always", ""},
		{"", ""},
	} {
		if got := selected(tc.in); got != tc.want {
			t.Errorf("selected(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReserveOff(t *testing.T) {
	t.Setenv(Env, "0")
	if ok, err := Reserve(); ok || err != nil {
		t.Fatalf("Reserve with %s=0 = %v, %v; want false, nil", Env, ok, err)
	}
}
