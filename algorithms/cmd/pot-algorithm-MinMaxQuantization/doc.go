// Command pot-algorithm-MinMaxQuantization is the MinMaxQuantization
// algorithm plugin: quantizers placed by the target's hardware config,
// ranges from weights and activation statistics.
package main
