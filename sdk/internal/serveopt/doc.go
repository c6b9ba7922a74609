// Package serveopt holds the options of sdk.ServeTarget and
// sdk.ServeAlgorithm (sdk.ServeOption is an alias of Option). It lives
// under sdk/internal so that the in-process serving of sdk/plugintest,
// which hands go-plugin's test configuration to the SDK's serve path,
// keeps go-plugin's types out of the SDK's exported API: only packages
// under sdk/ can build that option.
package serveopt
