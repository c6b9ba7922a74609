// Package sdk is what a pot plugin author imports.
//
// A target plugin (a device backend) implements Target and calls
// ServeTarget from main; an algorithm plugin implements Algorithm and
// calls ServeAlgorithm. The SDK hides go-plugin and gRPC: graphs and data
// sets arrive whole (they travel in chunks underneath), panics in a
// handler become errors instead of crashing the host, the plugin logs
// through Logger (JSON on stderr, shown by the host under the plugin's
// name), and the plugin exits by itself when the host process is gone.
//
// During Run an algorithm talks to the host through Host: it reads the
// graph, asks for statistics and evaluations (which the host forwards to
// the target), runs other algorithms and reports progress. Helpers for
// graphs, tensors and plans are in this package and in sdk/plan; the
// conformance kit every plugin should pass is sdk/plugintest.
//
// Binaries are named pot-target-NAME or pot-algorithm-NAME and found in
// $POT_PLUGIN_PATH, the user's plugin folder or beside the pot binary.
package sdk
