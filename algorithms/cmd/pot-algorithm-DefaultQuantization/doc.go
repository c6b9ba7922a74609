// Command pot-algorithm-DefaultQuantization is the DefaultQuantization
// algorithm plugin. It composes the other plugins through the host, in
// POT's order.
package main
