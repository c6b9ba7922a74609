package onnx

import (
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/potgo/pot/internal/filemap"
)

// ReadModel names the external data files, and on Linux the tensors'
// data is a view of the mapped file rather than a copy.
func TestReadModelExternalFilesMapped(t *testing.T) {
	src := exampleModels(t)[0]
	m, err := ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := WriteFile(path, m, WriteOptions{ExternalData: true}); err != nil {
		t.Fatal(err)
	}
	back, files, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if files.Model != path || !slices.Equal(files.External, []string{path + ".data"}) {
		t.Errorf("files %+v", files)
	}
	_, single, err := ReadModel(src)
	if err != nil || len(single.External) != 0 {
		t.Errorf("one-file model: files %+v, %v", single, err)
	}
	mapped := 0
	for _, in := range back.GetGraph().GetInitializer() {
		if len(in.GetRawData()) >= DefaultExternalThreshold && filemap.Mapped(in.GetRawData()) {
			mapped++
		}
	}
	if runtime.GOOS == "linux" && mapped == 0 {
		t.Error("no external tensor's data is mapped")
	}
}
