package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func touch(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoverNamingConvention(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "pot-target-cpu"), 0o755)
	touch(t, filepath.Join(dir, "pot-algorithm-MinMaxQuantization"), 0o755)
	touch(t, filepath.Join(dir, "pot-algorithm-Windows.exe"), 0o755)
	touch(t, filepath.Join(dir, "pot-target-noexec"), 0o644) // not executable
	touch(t, filepath.Join(dir, "pot-target-"), 0o755)       // no name
	touch(t, filepath.Join(dir, "pot-tool-x"), 0o755)        // unknown kind
	touch(t, filepath.Join(dir, "other"), 0o755)             // not a plugin
	os.Mkdir(filepath.Join(dir, "pot-target-folder"), 0o755) // a folder
	os.Symlink(filepath.Join(dir, "pot-target-cpu"), filepath.Join(dir, "pot-target-alias"))
	var got []string
	for _, b := range Discover([]string{dir, filepath.Join(dir, "missing")}).Binaries {
		got = append(got, b.Kind+"/"+b.Name)
	}
	// The symlink reaches the same file as pot-target-cpu: listed once.
	want := "algorithm/MinMaxQuantization algorithm/Windows target/alias"
	if strings.Join(got, " ") != want && strings.Join(got, " ") != "algorithm/MinMaxQuantization algorithm/Windows target/cpu" {
		t.Errorf("found %v, want %s (or target/cpu)", got, want)
	}
}

// The three locations are searched in order: $POT_PLUGIN_PATH, the user's
// plugin folder, the folder of the executable.
func TestSearchPath(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	data := t.TempDir()
	t.Setenv("POT_PLUGIN_PATH", a+string(os.PathListSeparator)+string(os.PathListSeparator)+b)
	t.Setenv("XDG_DATA_HOME", data)
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	want := []string{a, b, filepath.Join(data, "pot", "plugins"), filepath.Dir(exe)}
	if got := SearchPath(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SearchPath() = %v, want %v", got, want)
	}
	home := t.TempDir()
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", home)
	t.Setenv("POT_PLUGIN_PATH", "")
	want = []string{filepath.Join(home, ".local", "share", "pot", "plugins"), filepath.Dir(exe)}
	if got := SearchPath(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("without XDG_DATA_HOME: SearchPath() = %v, want %v", got, want)
	}
}

func TestDiscoverAcrossLocations(t *testing.T) {
	env, user := t.TempDir(), t.TempDir()
	touch(t, filepath.Join(env, "pot-algorithm-Mine"), 0o755)
	touch(t, filepath.Join(user, "pot-target-vendor"), 0o755)
	bins := Discover([]string{env, user}).Binaries
	if len(bins) != 2 || bins[0].Path != filepath.Join(env, "pot-algorithm-Mine") || bins[1].Path != filepath.Join(user, "pot-target-vendor") {
		t.Errorf("found %+v", bins)
	}
}

// Of two plugins with one kind and name, the first in search order is
// used and the other is reported as shadowed by it; names differing only
// in case are the same plugin (lookup ignores case).
func TestDiscoverFirstInSearchOrderWins(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	touch(t, filepath.Join(a, "pot-target-cpu"), 0o755)
	touch(t, filepath.Join(b, "pot-target-cpu"), 0o755)
	touch(t, filepath.Join(b, "pot-target-CPU"), 0o755)
	for _, tc := range []struct {
		name        string
		dirs        []string
		used        string
		shadowed    []string
		shadowingBy string
	}{
		{"a first", []string{a, b}, a, []string{filepath.Join(b, "pot-target-CPU"), filepath.Join(b, "pot-target-cpu")}, filepath.Join(a, "pot-target-cpu")},
		{"b first", []string{b, a}, b, []string{filepath.Join(b, "pot-target-cpu"), filepath.Join(a, "pot-target-cpu")}, filepath.Join(b, "pot-target-CPU")},
		{"same folder twice", []string{a, a}, a, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found := Discover(tc.dirs)
			if len(found.Binaries) != 1 || filepath.Dir(found.Binaries[0].Path) != tc.used {
				t.Fatalf("binaries %+v, want one in %s", found.Binaries, tc.used)
			}
			var shadowed []string
			for _, s := range found.Skipped {
				shadowed = append(shadowed, s.Path)
				if s.ShadowedBy != tc.shadowingBy || !strings.Contains(s.String(), "is shadowed by "+tc.shadowingBy) {
					t.Errorf("skipped %+v (%s), want shadowed by %s", s, s, tc.shadowingBy)
				}
			}
			if strings.Join(shadowed, " ") != strings.Join(tc.shadowed, " ") {
				t.Errorf("shadowed %v, want %v", shadowed, tc.shadowed)
			}
		})
	}
}

// Files named like plugins that cannot be run are reported with what is
// wrong, and a runnable plugin of the same name later in the search path
// is used (as $PATH does).
func TestDiscoverReportsUnusableFiles(t *testing.T) {
	dir, later := t.TempDir(), t.TempDir()
	touch(t, filepath.Join(dir, "pot-algorithm-NoExec"), 0o644)
	touch(t, filepath.Join(later, "pot-algorithm-NoExec"), 0o755)
	touch(t, filepath.Join(dir, "pot-algorithm-Alone"), 0o600)
	os.Mkdir(filepath.Join(dir, "pot-target-folder"), 0o755)
	os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "pot-target-dangling"))
	found := Discover([]string{dir, later})
	want := map[string]string{
		"pot-algorithm-NoExec": "is not executable; chmod +x it",
		"pot-algorithm-Alone":  "is not executable; chmod +x it",
		"pot-target-folder":    "is a folder, not an executable file",
		"pot-target-dangling":  "is a symlink to a file that does not exist",
	}
	for _, s := range found.Skipped {
		base := filepath.Base(s.Path)
		if filepath.Dir(s.Path) != dir || s.Problem != want[base] || s.ShadowedBy != "" {
			t.Errorf("skipped %+v, want problem %q", s, want[base])
		}
		delete(want, base)
	}
	for base, problem := range want {
		t.Errorf("%s (%s) not reported", base, problem)
	}
	if len(found.Binaries) != 1 || found.Binaries[0].Path != filepath.Join(later, "pot-algorithm-NoExec") {
		t.Errorf("binaries %+v, want the executable NoExec of the later folder", found.Binaries)
	}
}

// A relative folder gives absolute paths: exec.Command would look a bare
// file name up in $PATH, and a path relative to the working directory
// would not name what was listed (or locked) once the directory changes.
func TestDiscoverPathsAreAbsolute(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "pot-target-cpu"), 0o755)
	t.Chdir(dir)
	for _, rel := range []string{".", "./", "../" + filepath.Base(dir)} {
		found := Discover([]string{rel})
		if len(found.Binaries) != 1 || found.Binaries[0].Path != filepath.Join(dir, "pot-target-cpu") {
			t.Errorf("Discover(%q) = %+v, want %s", rel, found.Binaries, filepath.Join(dir, "pot-target-cpu"))
		}
	}
}
