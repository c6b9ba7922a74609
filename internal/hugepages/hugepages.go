package hugepages

import (
	"os"
	"strings"
)

// Env is the environment variable that turns Reserve off when it is "0".
const Env = "POT_HUGEPAGES"

// Size is the heap region Reserve advises: enough for the working set of
// a plugin serving an example model; more costs nothing until touched.
const Size = 64 << 20

// modeFile holds the kernel's policy for transparent huge pages.
const modeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// Reserve advises the kernel to back the next Size bytes of the Go heap
// with huge pages, where the kernel's policy is to give them only to
// advised memory and the environment does not turn it off. It reports
// whether it advised a region; err is the advice's failure, if any.
// Call it once, as the process starts.
func Reserve() (bool, error) {
	if os.Getenv(Env) == "0" || Mode() != "madvise" {
		return false, nil
	}
	return reserve(Size)
}

// Mode is the kernel's transparent huge page policy: "always",
// "madvise", "never", or "" where there is none to read.
func Mode() string {
	b, err := os.ReadFile(modeFile)
	if err != nil {
		return ""
	}
	return selected(string(b))
}

// selected is the bracketed word of a sysfs choice list, such as
// "always [madvise] never".
func selected(s string) string {
	_, after, ok := strings.Cut(s, "[")
	if !ok {
		return ""
	}
	word, _, ok := strings.Cut(after, "]")
	if !ok {
		return ""
	}
	return word
}
