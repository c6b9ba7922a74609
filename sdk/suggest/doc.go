// Package suggest finds the likely intended name behind a misspelt one
// ("did you mean ...?") by edit distance. It is apart from package
// schema so that binaries which only suggest names (the target plugins,
// through sdk/hwconfig) do not link the JSON Schema compiler, whose
// package initialisation compiles its meta-schema in every process that
// links it (about 15 ms of each plugin start).
package suggest
