package config

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseShapes parses the command line's --shape values: DIMS for a model
// with one input to generate, or NAME=DIMS per input (DIMS as
// 1,3,224,224).
func ParseShapes(values []string) (one []int, byName map[string][]int, err error) {
	for _, v := range values {
		name, dims, named := strings.Cut(v, "=")
		if !named {
			dims, name = v, ""
		}
		var shape []int
		for _, p := range strings.Split(dims, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n <= 0 {
				return nil, nil, fmt.Errorf("--shape %q: want positive sizes separated by commas, e.g. 1,3,224,224 or input=1,16000", v)
			}
			shape = append(shape, n)
		}
		switch {
		case !named && one != nil:
			return nil, nil, fmt.Errorf("--shape is given twice without an input name: name each input's, as NAME=DIMS")
		case !named:
			one = shape
		default:
			if byName == nil {
				byName = map[string][]int{}
			}
			if _, dup := byName[name]; dup {
				return nil, nil, fmt.Errorf("--shape %s is given twice", name)
			}
			byName[name] = shape
		}
	}
	if one != nil && byName != nil {
		return nil, nil, fmt.Errorf("--shape: name every input's shape (NAME=DIMS) when you name one")
	}
	return one, byName, nil
}
