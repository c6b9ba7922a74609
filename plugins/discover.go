package plugins

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Binary is a plugin executable found on disk.
type Binary struct {
	Kind string // KindTarget or KindAlgorithm
	Name string
	Path string
}

// Prefix returns the file name prefix of a kind: "pot-target-" or
// "pot-algorithm-".
func Prefix(kind string) string { return "pot-" + kind + "-" }

// SearchPath returns the folders plugins are looked up in, in order:
// each entry of $POT_PLUGIN_PATH (colon-separated), the user's plugin
// folder ($XDG_DATA_HOME/pot/plugins, by default
// ~/.local/share/pot/plugins) and the folder of the running executable
// (where `make build` puts pot and the built-in plugins).
func SearchPath() []string {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("POT_PLUGIN_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		if home, err := os.UserHomeDir(); err == nil {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		dirs = append(dirs, filepath.Join(data, "pot", "plugins"))
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		dirs = append(dirs, filepath.Dir(exe))
	}
	return dirs
}

// DuplicateError reports two plugin binaries of the same kind and name.
type DuplicateError struct {
	Kind, Name string
	Paths      [2]string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("two %s plugins named %q: %s and %s; remove one or change POT_PLUGIN_PATH", e.Kind, e.Name, e.Paths[0], e.Paths[1])
}

// Discover lists the plugin binaries in dirs: executable files named
// pot-target-NAME or pot-algorithm-NAME. Missing folders are skipped.
// The same file reached twice (through a symlink or a repeated folder) is
// listed once; two different files for one kind and name are an error.
func Discover(dirs []string) ([]Binary, error) {
	byKey := map[string]Binary{}
	seen := map[string]bool{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			kind, name, ok := parseName(e.Name())
			if !ok {
				continue
			}
			path := filepath.Join(dir, e.Name())
			info, err := os.Stat(path)
			if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
				continue
			}
			real, err := filepath.EvalSymlinks(path)
			if err != nil {
				continue
			}
			if abs, err := filepath.Abs(real); err == nil {
				real = abs
			}
			if seen[real] {
				continue
			}
			seen[real] = true
			key := kind + "/" + name
			if prev, dup := byKey[key]; dup {
				return nil, &DuplicateError{Kind: kind, Name: name, Paths: [2]string{prev.Path, path}}
			}
			byKey[key] = Binary{Kind: kind, Name: name, Path: path}
		}
	}
	out := make([]Binary, 0, len(byKey))
	for _, b := range byKey {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func parseName(file string) (kind, name string, ok bool) {
	base := strings.TrimSuffix(file, ".exe")
	for _, k := range []string{KindTarget, KindAlgorithm} {
		if n, found := strings.CutPrefix(base, Prefix(k)); found && n != "" {
			return k, n, true
		}
	}
	return "", "", false
}
