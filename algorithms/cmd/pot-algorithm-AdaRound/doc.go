// Command pot-algorithm-AdaRound is the AdaRound algorithm plugin: it
// learns the rounding of each layer's weights (Nagel et al. 2020) on top
// of DefaultQuantization's plan.
package main
