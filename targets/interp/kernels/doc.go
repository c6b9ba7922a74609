// Package kernels holds the runtime's compute kernels, float32 and
// integer.
//
//   - Sgemm and SgemmEpilogue: C = alpha·op(A)·op(B) + beta·C for
//     row-major matrices, cache-blocked (kc×nc blocks of B, mc×kc blocks
//     of A packed per call), with an optional per-row bias and ReLU.
//   - PackedA (constant left operand, such as convolution weights) and
//     PackedB (constant right operand, such as dense-layer weights),
//     packed once at compile time. PackedA.MulOffsets multiplies by a B
//     given as row offsets into a buffer, which is how convolutions run
//     without an im2col copy.
//   - ConvLayout: the phase-plane layout that turns any strided, dilated,
//     padded N-D convolution into MulOffsets products (Fill, Offsets,
//     Compact), and Depthwise for groups of one input channel. With
//     Epilogue.Rows (ColumnRows), MulOffsets stores a 2-D layout's rows
//     compacted itself, so the products need no Compact pass.
//   - DirectConv (AVX-512, or AVX2 and FMA): stride-1 2-D convolutions
//     whose output rows are as wide as their input rows (3×3 with
//     padding 1, 1×1) run on the image itself, each tap's row of B read
//     under a column mask (the padding), so they need neither Fill nor
//     Compact; stride-2 ones that halve an image of even size run the
//     same way on its four phases (DirectConv.Fill splits them); small
//     images can be stacked several to a product, and a residual addend
//     (Epilogue.Add) joins the biased sum before the clamp in the store.
//     DirectConv.Depthwise is its depthwise counterpart (stride 1).
//   - Winograd (AVX2 and FMA): "same" 3×3 convolutions of one group as
//     Winograd's F(4×4, 3×3), 36 multiplications for each 4×4 block of
//     outputs instead of 144: AVX2 transforms of the input patches and
//     of the products, the 36 products by the transformed weights
//     through PackedA, a residual addend and clamp in the output
//     transform's store. Not the direct sums bit for bit.
//   - Depthwise3x3 (AVX2 and FMA): 3×3 depthwise convolutions of stride
//     1 or 2 on the image itself, in blocks of 8 outputs of a row and
//     several rows at a time. At stride 1 each load of 8 inputs serves
//     the three output rows that read it; at stride 2 each tap's eight
//     inputs are the even or odd elements of sixteen of an input row,
//     picked out in registers (no Fill, no Compact). Bit for bit the sums
//     of Depthwise over ConvLayout's buffer.
//   - ReLU, AddF32, MulF32, MaxF32 and MinF32 (also with a scalar
//     operand, with the Max and Min operators' NaN and signed-zero rules
//     bit for bit), LeakyReLUF32, HardSigmoidF32, HardSwishF32
//     (elementwise), FakeQuantF32 (FakeQuantize's simulated
//     quantization, bit for bit its scalar loop), and row-copy helpers
//     used around them.
//   - The integer kernels of the cpu target: QConvKernel and QPackedB
//     (uint8 levels × int8 weights into int32, in the exact "vnni" or the
//     pair-saturating "avx2" model), QDepthwise, QAdd, and the output
//     stages QRequant (fixed-point requantization), QDequant and
//     QHardSwish and QLeakyReLU (a hard-swish or a LeakyRelu in float32
//     fused into the requantization); ClampU8, the clamp of uint8 levels
//     (VPMAXUB, VPMINUB) that a QLut table of Max or Min runs as; and
//     the max pooling of 8-bit levels (uint8 or int8): Max8 (element-wise,
//     VPMAXUB or VPMAXSB), MaxPairs8 (the maxima of column pairs, a
//     window of width 2 and stride 2: shift, max, mask, VPACKUSWB,
//     VPERMQ) and MaxRowPairs8 (the maxima of row pairs, any row length).
//
// The float inner loops are micro-kernels computing a tile of 6 (or 4)
// rows by 16 columns. On amd64 with AVX2 and FMA (detected at run time
// with golang.org/x/sys/cpu) the hot loops are Go assembly; with
// AVX-512 the micro-kernels hold a tile row in one 512-bit register and
// alternate two sets of accumulators over the reduction. MulOffsets (the
// convolutions' product) runs 32-column tiles on AVX-512, two registers
// per tile row with each element of A broadcast once for both: the same
// reduction order as the 16-column kernel, so bit for bit the same
// results with half the B loads per FMA. Their compacting store
// (flagCompact) keeps a mask's columns of each half-row with VCOMPRESSPS
// and a masked store. DirectConv's kernels are the same 32-column
// kernels with zeroing masked loads of B (a mask per tap and 32-column
// block, indexed from the step), and its depthwise kernel runs 64
// columns (four FMA chains) at a time under the same masks; both add
// the same products in the same order as over ConvLayout's zero padding,
// so the results are bit for bit those of the padded buffer (a masked-out
// column reads +0, as the padding holds). ConvLayout.Fill splits the
// rows of stride-2 layouts into their phases with VCOMPRESSPS too.
//
// Without AVX-512, DirectConv runs on AVX2 in 16-column blocks: its
// micro-kernels are the 6×16 and 4×16 ones (one accumulator per tile
// element, the steps in order: bit for bit kernel6x16 and kernel4x16 on
// the padded buffer) with each step's two registers of B loaded and
// ANDed with the tap's mask, two vectors of 8 int32 per tap and block
// kept with the plan. A step's offset and tap are packed in one int:
// these kernels are bound by their loads (two more per step than the
// padded product's), not by their FMAs. Rows of B that leave the input
// (the first and last blocks) are read with VMASKMOVPS instead, which
// does not fault on the masked-out columns; it is not used throughout
// because on Zen 3 it is slow when it leaves columns out (a 7×7 product
// took twice as long). With two row panels or more, only the first
// panel's kernel masks: it also stores the masked rows it reads
// (flagStorePacked), and the other panels read those with plain loads,
// as the padded product does (flagPacked; the masks had cost ~13% of
// the kernel in L1, 80% of FMA peak against 93%). A kernel call runs a
// panel over a chunk of blocks inside the input, one block near its
// ends; a partial last block goes through a scratch tile. The depthwise kernel sums 16 columns of
// four channels per load of a tap's masks (the same FMA chain per column
// as depthwiseAVX), one channel at a time where rows leave the input
// (only the first channel's and the last's can). MulOffsets too runs a
// panel over a chunk of 16-column blocks per call on AVX2 (a product of
// small depth cost as much in Go calls per block as in FMAs), and its
// last 8 or fewer columns as an 8-column tile, each element's sum
// computed as by kernel6x16; 4 or fewer (the 49th column of a 7×7
// image, the last 4 of a 14×14 one) go to column kernels instead, the
// tile transposed: a panel's rows in the lanes of a register, one
// broadcast of B and one FMA per column and step, and a lone column
// four 6-row panels at a time so that eight FMA chains hide the FMA's
// latency (the same sums: one accumulator from +0, the steps in order;
// the bias and clamp added in Go with the same operations). Stride-2 Fill
// splits rows into phases in chunks of 16 and 8 floats, the last chunk
// ending at the row's end.
//
// The AVX2 code is VEX-encoded only (a legacy SSE instruction between
// AVX ones costs a state transition; a test checks the .s files); every
// other platform, and
// builds with the noasm tag, use pure-Go twins with the same semantics,
// which also serve as the oracle in tests. The choice is made once, from
// the CPU's features; UseAssembly and UseQAssembly switch it for tests
// and benchmarks only (see dispatch.go).
//
// The integer GEMM has three assembly kernels, chosen when weights are
// packed: VPMADDUBSW pairs (the saturating model, and the exact one when
// no pair of weights can overflow int16), int16 weights with VPMADDWD
// (the exact model on AVX2), and VPDPBUSD on 512-bit registers, 8 rows
// by 16 channels per tile (the exact model on CPUs with AVX-512 VNNI).
// Requantizing into uint8 levels, the VPDPBUSD kernels compute two
// channel blocks at a time (8 rows by 32 channels), each broadcast of 4
// activation bytes feeding both; when a layer has one block left, that
// block's weights are also packed interleaved (two reduction groups per
// channel in a qword) so that a broadcast of 8 activation bytes feeds
// two VPDPBUSD there too, channels 0-7 and 8-15 with the two groups in
// the dwords of each qword, added before the output stage. 16 VPDPBUSD
// chains are in flight either way; their output stage runs on
// 512-bit registers (16 channels per vector) from parameters packed per
// block (QRequant.vec16): the sum plus bias converted to float64 and
// VFMADD132PD adding its product with the real multiplier (mult·2^-shift,
// exact in float64) to 1.5·2^52, whose single rounding leaves
// RoundHalfEven of the exact product in the low dword — the fixed-point
// result in 11 instructions per 16 channels instead of 21 in int64. The
// one-block kernel of single-group segments (a first layer of one input
// channel) requantizes the same way, and so do accumulators computed
// elsewhere (depthwise convolutions) on AVX-512. The quantized Add runs on 512-bit registers
// too (16 levels per vector) with AVX-512 F and BW.
//
// On AVX2 the GEMM kernels tile 4 rows by 16 channels and take their
// output stage as an argument: raw int32 accumulators; requantization
// with the same float64 FMA rounding where QRequant.vec16 exists (13
// instructions per 8 channels, none crossing 128-bit lanes: the sum
// becomes a float64 as 2^52 + 2^31 + v, built by in-lane unpacks under
// a constant high dword, minus 2^52 + 2^31, and VSHUFPS gathers the
// rounded low dwords back; VCVTDQ2PD and VPERMQ cost several cycles each
// on Zen 3), the int64 fixed-point steps otherwise; or the hard-swish
// stage, its float32 steps applied to the sums in registers (a
// Conv→HardSwish layer writes its levels without a pass over int32
// accumulators); or the LeakyRelu stage the same way (the product by
// the slope blended in under the sign). Channel-major LeakyRelu levels
// (read only through QDequantize) go through a tile of 16 channels,
// transposed 8 rows at a time by byte unpacks (qTileT8AVX2). A last block of fewer than 16 channels runs the same
// stages into a tile whose first channels are copied out. The
// int16-weight kernel reads the activations widened to uint16 once per
// layer call (qWiden), so that each row's pairs of steps are two
// broadcasts from memory rather than a broadcast and two byte shuffles.
// The saturating kernel's loop is two VPMADDUBSW, two VPMADDWD by ones
// and two VPADDD per row and group of 4 steps: on a CPU with two
// vector-multiply pipes (Zen 3) that is the bound, 32 multiply-adds per
// cycle (measured: 1.8 M multiply-adds of a 16-channel 3×3 layer on
// 28×28 pixels in 18 µs, 100 G/s at 3.1 GHz), since no other
// instruction widens the int16 pair sums to int32 exactly in fewer
// multiply-pipe operations.
//
// Quantize8 and Dequantize8 (QuantizeLinear, DequantizeLinear, and pot's
// QLevels, with Quantize8NaN) run 8 elements per AVX2 vector.
// DequantizeT8, the channels-last QDequantize into channels-first
// float32, dequantizes blocks of 16 channels by 16 pixels on 512-bit
// registers and transposes each block in registers (unpacks, then lane
// shuffles) before storing whole rows of 16 pixels; QDequant's
// channel-major store (a convolution's float32 output) transposes
// blocks of 16 rows of 16 channels the same way, and on AVX2 blocks of
// 8 rows of 8 channels (unpacks, VSHUFPS, VPERM2F128).
//
// With AVX-512 F and BW, the fused hard-swish output stage and the
// depthwise kernel run on 512-bit registers, one 16-channel block per
// register: hard-swish holds a block's parameters in registers across
// its rows; depthwise 3×3 convolutions compute each output row's run
// of windows inside the image in one call with the nine taps' weights
// in registers and the zero point folded into -zp·Σw (exact in
// wrapping int32 arithmetic, so the same sums). A padded 3×3
// depthwise convolution on channels-last levels first copies the
// image into a padded one whose padding holds each channel's zero
// point (a pad tap adds (zp - zp)·w = 0), so that every output row is
// one call of that row kernel, borders included (the padding stays in
// the scratch from one image to the next, recorded with its geometry
// and zero points); with dilation 1 along the row, that kernel is
// qdw3RowVNNI where AVX-512 VNNI and VBMI are: four adjacent pixels'
// levels interleaved by channel (VPERMB) hold a window row, which
// VPDPBUSD sums against weights (w0, w1, w2, 0), and at stride 1 the
// next output pixel's too, against (0, w0, w1, w2): exact products
// and the same wrapping int32 sums. With a hard-swish output stage on
// channels-last levels, qdw3RowVNNIHS applies it to the sums in
// registers (the bias folded into -zp·Σw), the same float32 steps as
// the stage's own kernel; it gathers a window row's four pixels with
// two two-source byte permutes (VPERMT2B) of whole 64-byte loads and
// a blend, from a padded copy with room for the loads past its end.
// Other shapes' pixels go through a 512-bit per-pixel kernel. Their
// AVX2 kernels remain for CPUs without AVX-512 (tests run both
// against the Go twins). On AVX2 the 3×3 row kernel is qdw3RowAVX2 (8
// channels at a time, the nine taps' int32 weights in registers,
// VPMOVZXBD and VPMULLD: exact), on the same padded copies, and with a
// hard-swish output stage on channels-last levels qdw3RowHSAVX2 applies
// it to the sums in registers as qdw3RowVNNIHS does.
package kernels
