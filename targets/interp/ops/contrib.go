package ops

// DomainMicrosoft is ONNX Runtime's contrib-operator domain.
const DomainMicrosoft = "com.microsoft"

// ONNX Runtime's com.microsoft QuantizeLinear and DequantizeLinear carry
// 16-bit (and 4-bit) types in models older than opset 21; pot writes them
// for GNA's int16 quantizers. They compute what ONNX's opset-21 versions
// compute.
func init() {
	register(DomainMicrosoft, "QuantizeLinear", 1, contrib(newQuantizeLinear))
	register(DomainMicrosoft, "DequantizeLinear", 1, contrib(newDequantizeLinear))
}

// contrib runs an ONNX operator's factory as of opset 21.
func contrib(f Factory) Factory {
	return func(n *Node) (Kernel, error) {
		n.Opset = 21
		return f(n)
	}
}
