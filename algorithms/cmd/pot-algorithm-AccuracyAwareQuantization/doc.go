// Command pot-algorithm-AccuracyAwareQuantization is the
// AccuracyAwareQuantization algorithm plugin.
package main
