// Package sdk is what a pot plugin author imports.
//
// # Plugins
//
// A target plugin (a device backend) declares itself with the target
// SDK, sdk/target, the engine pot's own targets run on (docs/targets.md),
// or implements Target and calls ServeTarget from main; an algorithm
// plugin implements Algorithm and calls ServeAlgorithm. The binary is named pot-target-NAME or
// pot-algorithm-NAME and found in $POT_PLUGIN_PATH, the user's plugin
// folder ($XDG_DATA_HOME/pot/plugins) or beside the pot binary.
//
// The SDK hides go-plugin and gRPC: the handshake (protocol version
// ProtocolVersion, the pot.v1 protobuf package), graphs and data sets that
// arrive whole (they travel in 2 MiB chunks underneath, through servers
// whose message limit is raised to 256 MiB), panics in a handler that
// become errors instead of crashing the host, and a watch that ends the
// plugin when the host process is gone. No exported identifier of the
// SDK's packages names a go-plugin type (a test checks it): sdk/plugintest
// serves a plugin in-process through an option only the SDK's own
// packages can make.
//
// # Talking to the host
//
// During Run an algorithm talks to pot through Host: it reads the graph,
// asks for statistics (reduced inside the target: activations never cross
// the wire) and evaluations (which pot forwards to the target), runs other
// algorithms (composition), checkpoints its state and reports progress.
//
// # Errors and results
//
// A handler returns an *Error (Summary, Detail, Node) to tell the user
// what went wrong; pot prints one line naming the plugin and the node.
// Any other error becomes the summary. What pot reads of a result is
// typed in the protocol (RunResponse.search for an accuracy search); the
// JSON report is for free-form extras, except its top-level "tables"
// (ReportTable), which report.html shows as tables. AlgorithmCapabilities in the
// description say what pot must do for an algorithm (evaluation data,
// checkpoints, the parameters its --max-drop and --workers set, where
// passed-on parameters go); pot never goes by an algorithm's name.
//
// # Logging
//
// A plugin logs through Logger: hclog JSON lines on stderr, which pot
// shows under the plugin's name, filtered by its --log-level. Nothing but
// the go-plugin handshake may be written to stdout.
//
// # Helpers and tests
//
// sdk/graph indexes graphs, sdk/plan applies plans and computes integer
// parameters, sdk/params splits an algorithm's own parameters from those
// it passes on, sdk/stats reduces and aggregates statistics, sdk/onnx reads
// and writes ONNX, sdk/opset upgrades a graph of an old default ONNX opset
// (pot's host does so on import, to opset 13). sdk/plugintest is the conformance kit every plugin
// should pass from its own go test. docs/plugins.md walks through writing
// a plugin from scratch.
package sdk
