// Package pipeline runs one quantization session: it starts the target
// plugin, loads the model and uploads the data sets once, runs the chain
// of algorithm plugins (serving them the Host service), and evaluates
// plans with the run's metric.
package pipeline
