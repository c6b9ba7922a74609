// Package alignment implements POT's ActivationChannelAlignment: for a
// convolution that feeds another directly (no activation in between; the
// second with group 1, no padding, stride 1 and dilation 1), it moves the
// middle of each channel's range into the second convolution's bias and
// equalizes the channels' widths by scaling the first convolution's
// output channels and the second's input channels inversely. The float
// model computes the same, but the activation between the two is better
// suited to a per-tensor quantizer.
package alignment
