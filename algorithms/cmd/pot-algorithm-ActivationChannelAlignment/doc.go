// Command pot-algorithm-ActivationChannelAlignment is the
// ActivationChannelAlignment algorithm plugin.
package main
