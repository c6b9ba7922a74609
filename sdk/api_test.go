package sdk_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goPlugin is the import path (and prefix) of go-plugin, which the SDK
// hides (see the package doc).
const goPlugin = "github.com/hashicorp/go-plugin"

// The SDK owns its API: no exported function, method, field, variable or
// type of a public sdk package (sdk, sdk/plugintest, sdk/target, ...)
// mentions a go-plugin type, directly or through the types it exposes,
// those of internal packages included.
func TestAPIHidesGoPlugin(t *testing.T) {
	a := loadAPI(t, "github.com/potgo/pot/sdk/...", "github.com/potgo/pot/internal/plugins")
	if len(a.roots) < 5 {
		t.Fatalf("found the packages %v, want sdk and its public subpackages", a.roots)
	}
	for _, path := range a.roots {
		if path == "github.com/potgo/pot/internal/plugins" || strings.Contains(path, "/internal/") {
			continue
		}
		if leaks := a.mentions(t, path, goPlugin); len(leaks) > 0 {
			t.Errorf("the API of %s mentions go-plugin:\n\t%s", path, strings.Join(leaks, "\n\t"))
		}
	}
	// The check sees go-plugin where it is: in the transport, whose
	// plugins implement go-plugin's interfaces.
	if leaks := a.mentions(t, "github.com/potgo/pot/internal/plugins", goPlugin); len(leaks) == 0 {
		t.Error("the check finds no go-plugin type in the API of internal/plugins, which has some")
	}
}

// api is the type-checked export data of packages and their
// dependencies, read from the build cache through go list.
type api struct {
	roots   []string
	imp     types.Importer
	exports map[string]string // import path → export data file
}

func loadAPI(t *testing.T, patterns ...string) *api {
	t.Helper()
	run := func(args ...string) []byte {
		cmd := exec.Command("go", args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}
	a := &api{exports: map[string]string{}}
	for _, l := range strings.Fields(string(run(append([]string{"list", "-f", "{{.ImportPath}}"}, patterns...)...))) {
		a.roots = append(a.roots, l)
	}
	sc := bufio.NewScanner(bytes.NewReader(run(append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, patterns...)...)))
	for sc.Scan() {
		if path, file, ok := strings.Cut(sc.Text(), "\t"); ok && file != "" {
			a.exports[path] = file
		}
	}
	a.imp = importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (_ io.ReadCloser, err error) {
		file, ok := a.exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
	return a
}

// mentions lists the exported identifiers of package path whose types
// reach a type of a package under prefix, each with the way there.
func (a *api) mentions(t *testing.T, path, prefix string) []string {
	t.Helper()
	pkg, err := a.imp.Import(path)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	w := &walker{prefix: prefix, seen: map[types.Type]bool{}}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		w.typ(pkg.Name()+"."+name, obj.Type())
	}
	slices.Sort(w.found)
	return slices.Compact(w.found)
}

// walker follows the types an API exposes: the exported fields and
// methods of the types of this module it reaches, the elements of
// composite types, the parameters and results of functions. It stops at
// other modules' types, noting those under prefix.
type walker struct {
	prefix string
	seen   map[types.Type]bool
	found  []string
}

const module = "github.com/potgo/pot/"

func (w *walker) typ(where string, t types.Type) {
	if t == nil || w.seen[t] {
		return
	}
	w.seen[t] = true
	switch t := t.(type) {
	case *types.Alias:
		w.typ(where, types.Unalias(t))
	case *types.Named:
		pkg := t.Obj().Pkg()
		if pkg == nil {
			return // error
		}
		if pkg.Path() == w.prefix || strings.HasPrefix(pkg.Path(), w.prefix+"/") {
			w.found = append(w.found, fmt.Sprintf("%s: %s", where, types.TypeString(t, nil)))
			return
		}
		for i := range t.TypeArgs().Len() {
			w.typ(where, t.TypeArgs().At(i))
		}
		if !strings.HasPrefix(pkg.Path(), module) {
			return
		}
		name := t.Obj().Name()
		w.typ(where+" → "+name, t.Underlying())
		if _, isInterface := t.Underlying().(*types.Interface); isInterface {
			return
		}
		ms := types.NewMethodSet(types.NewPointer(t))
		for i := range ms.Len() {
			if m := ms.At(i).Obj(); m.Exported() {
				w.typ(where+" → "+name+"."+m.Name(), m.Type())
			}
		}
	case *types.Pointer:
		w.typ(where, t.Elem())
	case *types.Slice:
		w.typ(where, t.Elem())
	case *types.Array:
		w.typ(where, t.Elem())
	case *types.Chan:
		w.typ(where, t.Elem())
	case *types.Map:
		w.typ(where, t.Key())
		w.typ(where, t.Elem())
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tup.Len() {
				w.typ(where, tup.At(i).Type())
			}
		}
	case *types.Struct:
		for i := range t.NumFields() {
			// An embedded field promotes its exported members even when
			// its type is unexported.
			if f := t.Field(i); f.Exported() || f.Embedded() {
				w.typ(where+"."+f.Name(), f.Type())
			}
		}
	case *types.Interface:
		for i := range t.NumMethods() {
			if m := t.Method(i); m.Exported() {
				w.typ(where+"."+m.Name(), m.Type())
			}
		}
	case *types.TypeParam:
		w.typ(where, t.Constraint())
	}
}
