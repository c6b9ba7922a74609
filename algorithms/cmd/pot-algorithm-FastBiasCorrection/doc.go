// Command pot-algorithm-FastBiasCorrection is the FastBiasCorrection
// algorithm plugin.
package main
