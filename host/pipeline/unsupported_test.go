package pipeline

import (
	"fmt"
	"strings"
	"testing"
)

func TestUnsupportedErrorIsBounded(t *testing.T) {
	tests := []struct {
		nodes      int
		hint, want string
		shown      int
	}{
		{2, "", "cannot run 2 node(s) of the model: n0 (Op): no; n1 (Op): no (pot quantizes", 2},
		{5, "", "n4 (Op): no (pot quantizes", 5},
		{80, "measure another target", "n4 (Op): no; and 75 more (measure another target)", 5},
	}
	for _, tt := range tests {
		var nodes []string
		for i := range tt.nodes {
			nodes = append(nodes, fmt.Sprintf("n%d (Op): no", i))
		}
		msg := (&UnsupportedError{Target: "gna", Nodes: nodes, Hint: tt.hint}).Error()
		if !strings.Contains(msg, tt.want) {
			t.Errorf("%d nodes: %q lacks %q", tt.nodes, msg, tt.want)
		}
		if got := strings.Count(msg, "(Op)"); got != tt.shown {
			t.Errorf("%d nodes: %d named, want %d", tt.nodes, got, tt.shown)
		}
	}
}
