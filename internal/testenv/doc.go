// Package testenv helps pot's end-to-end tests: it finds the repository
// root and builds pot and plugin binaries once per test package.
package testenv
