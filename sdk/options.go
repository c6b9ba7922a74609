package sdk

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// TargetOptionsEnv is the environment variable through which the host
// passes target options (pot --target-opt KEY=VALUE, --isa) to target
// plugins, as a JSON object of strings.
const TargetOptionsEnv = "POT_TARGET_OPTIONS"

// TargetOptions returns the options the host set for this target plugin
// (empty when none). A target ignores the keys it does not know: options
// are given to whichever target a command runs.
func TargetOptions() (map[string]string, error) {
	return ParseTargetOptions(os.Getenv(TargetOptionsEnv))
}

// ParseTargetOptions decodes the value of TargetOptionsEnv.
func ParseTargetOptions(s string) (map[string]string, error) {
	opts := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return opts, nil
	}
	if err := json.Unmarshal([]byte(s), &opts); err != nil {
		return nil, fmt.Errorf("%s: %w", TargetOptionsEnv, err)
	}
	return opts, nil
}

// EncodeTargetOptions is the value of TargetOptionsEnv for opts.
func EncodeTargetOptions(opts map[string]string) string {
	if len(opts) == 0 {
		return ""
	}
	b, _ := json.Marshal(opts) // a map of strings always encodes
	return string(b)
}

// ParseOptionList turns KEY=VALUE items (as given to --target-opt) into
// options; a later item overrides an earlier one.
func ParseOptionList(items []string) (map[string]string, error) {
	opts := map[string]string{}
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("target option %q: want KEY=VALUE", it)
		}
		opts[k] = strings.TrimSpace(v)
	}
	return opts, nil
}

// OptionKeys lists the keys of options, sorted (for messages).
func OptionKeys(opts map[string]string) []string {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
