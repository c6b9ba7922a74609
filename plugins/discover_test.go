package plugins

import (
	"errors"
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
	bins, err := Discover([]string{dir, filepath.Join(dir, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bins {
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
	bins, err := Discover([]string{env, user})
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 2 || bins[0].Path != filepath.Join(env, "pot-algorithm-Mine") || bins[1].Path != filepath.Join(user, "pot-target-vendor") {
		t.Errorf("found %+v", bins)
	}
}

func TestDiscoverDuplicates(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	touch(t, filepath.Join(a, "pot-target-cpu"), 0o755)
	touch(t, filepath.Join(b, "pot-target-cpu"), 0o755)
	_, err := Discover([]string{a, b})
	var dup *DuplicateError
	if !errors.As(err, &dup) {
		t.Fatalf("error %v, want a DuplicateError", err)
	}
	for _, s := range []string{`two target plugins named "cpu"`, filepath.Join(a, "pot-target-cpu"), filepath.Join(b, "pot-target-cpu")} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q lacks %q", err, s)
		}
	}
	// The same folder twice is not a duplicate.
	if _, err := Discover([]string{a, a}); err != nil {
		t.Errorf("the same folder twice: %v", err)
	}
}
