// Package plugintest is the conformance kit of pot plugins: a test suite
// that any plugin author runs from their own `go test`, and the pieces it
// is made of.
//
// A target plugin is checked with
//
//	func TestConformance(t *testing.T) {
//		plugintest.TestTarget(t, mytarget.New())                  // in-process
//		plugintest.TestTargetBinary(t, plugintest.Build(t, "."))  // the built binary
//	}
//
// and an algorithm plugin with TestAlgorithm and TestAlgorithmBinary,
// which need a target to run against (WithTargetBinary or WithTarget).
//
// In-process runs serve the plugin through the SDK's own serve path
// (sdk.ServeTarget, sdk.ServeAlgorithm) in go-plugin's test mode, with an
// option internal to the SDK, and talk to it through a reattached
// go-plugin client, over the same gRPC path, chunking and message limits
// as a real run; out-of-process runs start the binary as pot does. Both
// check:
//
//   - describe: the fields pot relies on are set; an algorithm's parameter
//     schema compiles as JSON Schema and its defaults satisfy it; a
//     target's hardware config and operator list are present;
//   - plans: an algorithm's plan is valid on the model it was given
//     (unique quantizer ids, locations that exist in the graph, non-empty
//     ranges, per-channel lengths that match the channel count) and the
//     target runs it;
//   - statistics: a target's min, max, abs-max and mean of the tensors of
//     a small graph match a float reference computed here;
//   - cancellation: a cancelled context ends a long call;
//   - error reporting: a bad model id is an error, not a crash.
//
// The checks are also exported one by one (CheckTargetDescription,
// CheckAlgorithmDescription, CheckPlan, CheckStatistics), with the host
// the suite runs algorithms against (NewHost) and the models it uses
// (ReferenceModel, CNNModel).
package plugintest
