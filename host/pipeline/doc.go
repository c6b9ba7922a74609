// Package pipeline runs one quantization session: it starts the target
// plugin, loads the model and uploads the data sets once, runs the chain
// of algorithm plugins (serving them the Host service), and evaluates
// plans with the run's metric.
//
// Session is the facade; its parts each keep their own state: the Host
// service over the target, model and data (hostService, with the
// statistics cache statsCache, which gathers the statistics the
// algorithms of a chain tell ahead into one pass), the algorithm
// plugins and their descriptions (algorithmSet), the parameter checker
// (paramChecker), the chain runner (chainRunner), the evaluator
// (evaluator, with its workerPool, evalCache and floatRefs) and the
// checkpoint store (checkpointStore).
package pipeline
