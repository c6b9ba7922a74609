package dataset

import (
	"context"
	"slices"
	"testing"

	"github.com/potgo/pot/sdk"
)

// TestReadBatch checks that the parallel batch reader gives the same
// samples and labels as Read.
func TestReadBatch(t *testing.T) {
	ds, err := Open(examples + "/mnist-calib.json")
	if err != nil {
		t.Fatal(err)
	}
	idx := indices(sdk.Subset(ds.Len(), 37, 3, true))
	dst := make([]float32, len(idx)*784)
	labels, err := ReadBatch(context.Background(), ds, idx, dst)
	if err != nil {
		t.Fatal(err)
	}
	one := make([]float32, 784)
	for j, i := range idx {
		l, err := ds.Read(i, one)
		if err != nil {
			t.Fatal(err)
		}
		if l != labels[j] || !slices.Equal(one, dst[j*784:(j+1)*784]) {
			t.Fatalf("batch entry %d (sample %d) differs from Read", j, i)
		}
	}
	if _, err := ReadBatch(context.Background(), ds, idx, dst[1:]); err == nil {
		t.Error("short buffer: no error")
	}
	if _, err := ReadBatch(context.Background(), ds, []int{0, 5000}, make([]float32, 2*784)); err == nil {
		t.Error("index out of range: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadBatch(ctx, ds, idx, dst); err == nil {
		t.Error("cancelled context: no error")
	}
}

// indices converts sdk.Subset's indices to ReadBatch's.
func indices(idx []int64) []int {
	out := make([]int, len(idx))
	for i, v := range idx {
		out[i] = int(v)
	}
	return out
}
