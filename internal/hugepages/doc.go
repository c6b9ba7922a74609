// Package hugepages lets a short-lived pot process back its Go heap with
// transparent huge pages where the kernel gives them only on request.
//
// Every page of memory a process touches for the first time costs a page
// fault. pot's processes are short-lived and move tensors between each
// other, so much of what they touch is fresh: quantizing resnet_fmnist
// touches about 100 MB in its six processes (25,000 faults), and in a
// virtual machine a fault costs 10 to 15 µs. With 2 MiB pages one fault
// serves 512 of them.
//
// Linux gives anonymous memory huge pages by default only where
// /sys/kernel/mm/transparent_hugepage/enabled says "always"; where it
// says "madvise" (Debian's and Ubuntu's default) a region must be
// advised (madvise MADV_HUGEPAGE). The Go runtime advises none of its
// heap, so Reserve does it for a region of the heap it has not touched
// yet: it takes the region as one large allocation, advises it, gives it
// back and collects it, so that the heap's next allocations reuse it.
// Past the region the heap grows with ordinary pages, as before.
//
// The host (pot) and every plugin served by the SDK call Reserve as they
// start. POT_HUGEPAGES=0 in the environment turns it off.
package hugepages
