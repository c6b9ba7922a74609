// Command pot-algorithm-BiasCorrection is the BiasCorrection algorithm
// plugin.
package main
