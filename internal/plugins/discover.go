package plugins

import (
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

// Skipped is a file named like a plugin that pot does not run: it cannot
// be run (not executable, not a regular file), or another plugin of the
// same kind and name comes first in the search path.
type Skipped struct {
	Binary
	// Problem says why, as a phrase that follows the file's path: "is not
	// executable; chmod +x it".
	Problem string
	// ShadowedBy is the path of the plugin used instead, when the file is
	// shadowed.
	ShadowedBy string
}

func (s Skipped) String() string { return s.Path + " " + s.Problem }

// Found is what Discover found.
type Found struct {
	// Binaries are the plugins pot runs, sorted by kind and name.
	Binaries []Binary
	// Skipped are the other files named like plugins, in search order.
	Skipped []Skipped
}

// Discover lists the plugin files in dirs: files named pot-target-NAME or
// pot-algorithm-NAME. Missing folders are skipped. The same file reached
// twice (through a symlink or a repeated folder) is listed once. As with
// $PATH, a file that cannot be run is passed over (and listed in
// Skipped), and of two runnable files with one kind and name (ignoring
// case) the first in dirs wins; the other is listed in Skipped as
// shadowed. Paths are absolute.
func Discover(dirs []string) Found {
	var found Found
	byKey := map[string]Binary{}
	seen := map[string]bool{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		for _, e := range entries {
			kind, name, ok := parseName(e.Name())
			if !ok {
				continue
			}
			bin := Binary{Kind: kind, Name: name, Path: filepath.Join(dir, e.Name())}
			real, err := filepath.EvalSymlinks(bin.Path)
			if err != nil {
				real = bin.Path
			}
			if seen[real] {
				continue
			}
			seen[real] = true
			if problem := unusable(bin.Path); problem != "" {
				found.Skipped = append(found.Skipped, Skipped{Binary: bin, Problem: problem})
				continue
			}
			key := kind + "/" + strings.ToLower(name)
			if first, dup := byKey[key]; dup {
				found.Skipped = append(found.Skipped, Skipped{Binary: bin, ShadowedBy: first.Path,
					Problem: "is shadowed by " + first.Path + ", which comes first in the plugin search path"})
				continue
			}
			byKey[key] = bin
		}
	}
	for _, b := range byKey {
		found.Binaries = append(found.Binaries, b)
	}
	sort.Slice(found.Binaries, func(i, j int) bool {
		a, b := found.Binaries[i], found.Binaries[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return found
}

// unusable says why the file at path cannot be run as a plugin, or
// returns "".
func unusable(path string) string {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		if l, lerr := os.Lstat(path); lerr == nil && l.Mode()&os.ModeSymlink != 0 {
			return "is a symlink to a file that does not exist"
		}
		return "cannot be read: " + err.Error()
	case info.IsDir():
		return "is a folder, not an executable file"
	case !info.Mode().IsRegular():
		return "is not a regular file"
	case info.Mode().Perm()&0o111 == 0:
		return "is not executable; chmod +x it"
	}
	return ""
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
