package onnx

import (
	"io"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/potgo/pot/internal/filemap"
	"github.com/potgo/pot/proto/onnxpb"
)

// Where tensors sit that WriteFile may move to external data.
const (
	fieldInitializer      protoreflect.FullName = "onnx.GraphProto.initializer"
	fieldAttributeTensor  protoreflect.FullName = "onnx.AttributeProto.t"
	fieldAttributeTensors protoreflect.FullName = "onnx.AttributeProto.tensors"
)

// Offsets of tensors of at least alignMin bytes are aligned to
// alignLarge (the mmap granularity of common systems); smaller ones to
// alignSmall.
const (
	alignMin   = 1 << 20
	alignLarge = 1 << 16
	alignSmall = 16
)

// externalPlan lists the tensors that go to the external data file, in
// file order, with their offsets.
type externalPlan struct {
	tensors []*onnxpb.TensorProto
	offsets []int64
	end     int64
}

// write writes the external data file's content.
func (p *externalPlan) write(w io.Writer) error {
	var pos int64
	var zeros [alignLarge]byte
	for i, t := range p.tensors {
		if pad := p.offsets[i] - pos; pad > 0 {
			if _, err := w.Write(zeros[:pad]); err != nil {
				return err
			}
		}
		data := t.GetRawData()
		if t.RawData == nil {
			data = typedToRaw(t)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		filemap.Release(data) // data read from a mapped file need not stay resident
		pos = p.offsets[i] + int64(len(data))
	}
	return nil
}

// externalize returns a copy of m in which every initializer (and, with
// attrs, every tensor attribute) of at least threshold bytes refers to
// location instead of holding its data, and the plan for writing that
// data. Only the messages on the way to a moved tensor are copied; the
// result shares everything else with m and must not be modified. m is not
// modified.
func externalize(m *onnxpb.ModelProto, location string, threshold int64, attrs bool) (*onnxpb.ModelProto, *externalPlan, error) {
	plan := &externalPlan{}
	var firstErr error
	replace := func(t *onnxpb.TensorProto, fd protoreflect.FieldDescriptor) *onnxpb.TensorProto {
		switch fd.FullName() {
		case fieldInitializer:
		case fieldAttributeTensor, fieldAttributeTensors:
			if !attrs {
				return nil
			}
		default:
			return nil
		}
		if err := checkTensor(t); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return nil
		}
		_, size, _ := rawSizeOf(t)
		if size < 0 || size < threshold {
			return nil
		}
		align := int64(alignSmall)
		if size >= alignMin {
			align = alignLarge
		}
		off := (plan.end + align - 1) / align * align
		plan.tensors = append(plan.tensors, t)
		plan.offsets = append(plan.offsets, off)
		plan.end = off + size
		return externalRefTensor(t, location, off, size)
	}
	out := rewriteTensors(m.ProtoReflect(), replace)
	if firstErr != nil {
		return nil, nil, firstErr
	}
	if out == nil {
		return m, plan, nil
	}
	return out.Interface().(*onnxpb.ModelProto), plan, nil
}

// externalRefTensor is t without its data, pointing at location instead.
func externalRefTensor(t *onnxpb.TensorProto, location string, offset, length int64) *onnxpb.TensorProto {
	r := &onnxpb.TensorProto{
		Dims:      t.Dims,
		DataType:  t.DataType,
		Name:      t.Name,
		DocString: t.DocString,
		ExternalData: []*onnxpb.StringStringEntryProto{
			{Key: strPtr("location"), Value: strPtr(location)},
			{Key: strPtr("offset"), Value: strPtr(strconv.FormatInt(offset, 10))},
			{Key: strPtr("length"), Value: strPtr(strconv.FormatInt(length, 10))},
		},
		DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
	}
	r.ProtoReflect().SetUnknown(t.ProtoReflect().GetUnknown())
	return r
}

// rewriteTensors walks m's message fields in field order and calls fn on
// every TensorProto with the field that holds it. Where fn returns a
// replacement, the result is a copy of m with the replacement in place;
// only the messages on the path to a replaced tensor are copied, the rest
// is shared with m. It returns nil when nothing was replaced.
func rewriteTensors(m protoreflect.Message, fn func(*onnxpb.TensorProto, protoreflect.FieldDescriptor) *onnxpb.TensorProto) protoreflect.Message {
	var out protoreflect.Message
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Message() == nil || fd.IsMap() || !m.Has(fd) {
			continue
		}
		if fd.IsList() {
			l := m.Get(fd).List()
			var nl protoreflect.List
			for j := range l.Len() {
				e := l.Get(j).Message()
				r := rewriteOne(e, fd, fn)
				if r != nil && nl == nil {
					if out == nil {
						out = shallowCopy(m)
					}
					nl = out.NewField(fd).List()
					for k := range j {
						nl.Append(l.Get(k))
					}
				}
				if nl != nil {
					if r == nil {
						r = e
					}
					nl.Append(protoreflect.ValueOfMessage(r))
				}
			}
			if nl != nil {
				out.Set(fd, protoreflect.ValueOfList(nl))
			}
			continue
		}
		if r := rewriteOne(m.Get(fd).Message(), fd, fn); r != nil {
			if out == nil {
				out = shallowCopy(m)
			}
			out.Set(fd, protoreflect.ValueOfMessage(r))
		}
	}
	return out
}

func rewriteOne(e protoreflect.Message, fd protoreflect.FieldDescriptor, fn func(*onnxpb.TensorProto, protoreflect.FieldDescriptor) *onnxpb.TensorProto) protoreflect.Message {
	if t, ok := e.Interface().(*onnxpb.TensorProto); ok {
		if r := fn(t, fd); r != nil {
			return r.ProtoReflect()
		}
		return nil
	}
	return rewriteTensors(e, fn)
}

// shallowCopy is a new message with m's fields and unknown fields; lists,
// maps, bytes and sub-messages are shared with m.
func shallowCopy(m protoreflect.Message) protoreflect.Message {
	out := m.New()
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out.Set(fd, v)
		return true
	})
	out.SetUnknown(m.GetUnknown())
	return out
}
