package openvino

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Net is an IR document: the <net> element of model.xml.
type Net struct {
	XMLName xml.Name `xml:"net"`
	Name    string   `xml:"name,attr"`
	// Version is the IR version: 10 or 11.
	Version int      `xml:"version,attr"`
	Layers  []*Layer `xml:"layers>layer"`
	Edges   []Edge   `xml:"edges>edge"`
	// RTInfo is the model's runtime information, kept as read.
	RTInfo *RawElement `xml:"rt_info,omitempty"`
}

// Layer is one operation (<layer>).
type Layer struct {
	ID   int    `xml:"id,attr"`
	Name string `xml:"name,attr"`
	// Type is the operation's type ("Convolution", "Const", ...).
	Type string `xml:"type,attr"`
	// Version is the operation set ("opset1", ...).
	Version string `xml:"version,attr,omitempty"`
	// Data holds the operation's attributes in document order.
	Data   *Data       `xml:"data,omitempty"`
	RTInfo *RawElement `xml:"rt_info,omitempty"`
	Input  []Port      `xml:"input>port,omitempty"`
	Output []Port      `xml:"output>port,omitempty"`
	// Body is the subgraph of TensorIterator and Loop layers, and the
	// Then/Else bodies of If (then_body, else_body), kept as read.
	Body     *RawElement `xml:"body,omitempty"`
	ThenBody *RawElement `xml:"then_body,omitempty"`
	ElseBody *RawElement `xml:"else_body,omitempty"`
	PortMap  *RawElement `xml:"port_map,omitempty"`
	BackEdge *RawElement `xml:"back_edges,omitempty"`
}

// Data is a layer's <data> element: its attributes, in order.
type Data struct {
	Attrs []xml.Attr `xml:",any,attr"`
}

// Port is an input or output port of a layer.
type Port struct {
	ID int `xml:"id,attr"`
	// Precision is the port's element type in IR spelling ("FP32", "I64").
	Precision string `xml:"precision,attr,omitempty"`
	// Names are the tensor names of an output port, comma separated.
	Names  string      `xml:"names,attr,omitempty"`
	Dims   []string    `xml:"dim"`
	RTInfo *RawElement `xml:"rt_info,omitempty"`
}

// Edge connects an output port of one layer to an input port of another.
type Edge struct {
	FromLayer int `xml:"from-layer,attr"`
	FromPort  int `xml:"from-port,attr"`
	ToLayer   int `xml:"to-layer,attr"`
	ToPort    int `xml:"to-port,attr"`
}

// RawElement is an element kept as read and written back unchanged.
type RawElement struct {
	Attrs []xml.Attr `xml:",any,attr"`
	Inner string     `xml:",innerxml"`
}

// Limits on what Decode accepts, against hostile documents.
const (
	maxLayers = 1 << 20
	maxDims   = 64
)

// Decode parses model.xml.
func Decode(b []byte) (*Net, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var n Net
	if err := d.Decode(&n); err != nil {
		return nil, fmt.Errorf("IR xml: %w", err)
	}
	if n.XMLName.Local != "net" {
		return nil, fmt.Errorf("IR xml: root element is <%s>, not <net>", n.XMLName.Local)
	}
	if n.Version != 10 && n.Version != 11 {
		return nil, fmt.Errorf("IR xml: version %d (pot reads IR v10 and v11)", n.Version)
	}
	if len(n.Layers) > maxLayers {
		return nil, fmt.Errorf("IR xml: %d layers (at most %d)", len(n.Layers), maxLayers)
	}
	ids := make(map[int]bool, len(n.Layers))
	for _, l := range n.Layers {
		if l == nil {
			return nil, fmt.Errorf("IR xml: empty layer")
		}
		if ids[l.ID] {
			return nil, fmt.Errorf("IR xml: layer id %d appears twice (layer %q)", l.ID, l.Name)
		}
		ids[l.ID] = true
		for _, ps := range [][]Port{l.Input, l.Output} {
			for _, p := range ps {
				if len(p.Dims) > maxDims {
					return nil, fmt.Errorf("IR xml: layer %q port %d has %d dims (at most %d)", l.Name, p.ID, len(p.Dims), maxDims)
				}
			}
		}
	}
	for _, e := range n.Edges {
		if !ids[e.FromLayer] || !ids[e.ToLayer] {
			return nil, fmt.Errorf("IR xml: edge %d:%d -> %d:%d names a layer that does not exist", e.FromLayer, e.FromPort, e.ToLayer, e.ToPort)
		}
	}
	return &n, nil
}

// Encode writes model.xml, indented as OpenVINO writes it.
func (n *Net) Encode() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := n.encode(&buf); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func (n *Net) encode(w io.Writer) error {
	e := xml.NewEncoder(w)
	e.Indent("", "\t")
	if err := e.Encode(n); err != nil {
		return fmt.Errorf("IR xml: %w", err)
	}
	return e.Close()
}

// Attr returns the value of a <data> attribute and whether it is there.
func (l *Layer) Attr(name string) (string, bool) {
	if l.Data == nil {
		return "", false
	}
	for _, a := range l.Data.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// SetAttr sets a <data> attribute, appending it when it is new.
func (l *Layer) SetAttr(name, value string) {
	if l.Data == nil {
		l.Data = &Data{}
	}
	for i, a := range l.Data.Attrs {
		if a.Name.Local == name {
			l.Data.Attrs[i].Value = value
			return
		}
	}
	l.Data.Attrs = append(l.Data.Attrs, xml.Attr{Name: xml.Name{Local: name}, Value: value})
}

// Shape parses a shape as IR writes it in attributes ("1,3,224,224",
// "64, 3, 7, 7", "?,3,-1,224", "1..8,3", "" for a scalar). Dynamic
// dimensions ("?", "-1", ranges) are -1.
func ParseShape(s string) ([]int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "[]" {
		return []int64{}, nil
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	parts := strings.Split(s, ",")
	if len(parts) > maxDims {
		return nil, fmt.Errorf("shape %q: %d dims (at most %d)", s, len(parts), maxDims)
	}
	out := make([]int64, len(parts))
	for i, p := range parts {
		d, err := ParseDim(p)
		if err != nil {
			return nil, fmt.Errorf("shape %q: %w", s, err)
		}
		out[i] = d
	}
	return out, nil
}

// ParseDim parses one dimension: a number, or "?", "-1" or a range
// ("1..8", "..8") for a dynamic one (-1).
func ParseDim(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "?" || s == "-1" || strings.Contains(s, "..") {
		return -1, nil
	}
	d, err := strconv.ParseInt(s, 10, 64)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad dimension %q", s)
	}
	return d, nil
}

// FormatShape writes a shape as IR writes it in attributes; -1 is "?".
func FormatShape(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = strconv.FormatInt(d, 10)
		}
	}
	return strings.Join(parts, ",")
}
