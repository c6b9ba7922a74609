package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/plugins"
)

func defaultDirs() []string { return plugins.SearchPath() }

func newVersion(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print pot's version and protocol version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := map[string]any{"version": Version, "protocol": plugins.ProtocolVersion, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH}
			if g.jsonOut {
				return printJSON(g.stdout, v)
			}
			fmt.Fprintf(g.stdout, "pot %s (graph protocol v%d, %s %s/%s)\n", Version, plugins.ProtocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
	cmd.Flags().BoolVar(&g.jsonOut, "json", false, "print JSON")
	return cmd
}

func newPlugins(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "plugins", Short: "List, describe and lock plugins"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the plugins found, with their versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := g.manager()
			if err != nil {
				return err
			}
			defer m.Close()
			type row struct {
				Kind    string `json:"kind"`
				Name    string `json:"name"`
				Version string `json:"version"`
				// Protocols are the protocol versions the plugin says it
				// speaks, comma-separated.
				Protocols string `json:"protocols"`
				Path      string `json:"path"`
				Error     string `json:"error,omitempty"`
			}
			var rows []row
			for _, b := range m.Binaries() {
				r := row{Kind: b.Kind, Name: b.Name, Path: b.Path}
				d, err := describePlugin(cmd.Context(), m, b.Kind, b.Name)
				if err != nil {
					r.Error = err.Error()
				} else {
					r.Version, r.Protocols = d.version, protocolList(d.protocols)
				}
				rows = append(rows, r)
			}
			m.Close()
			if g.jsonOut {
				if rows == nil {
					rows = []row{}
				}
				return printJSON(g.stdout, rows)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tPROTOCOL\tPATH")
			for _, r := range rows {
				v := r.Version
				if r.Error != "" {
					v = "error: " + r.Error
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Kind, r.Name, v, r.Protocols, r.Path)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&g.jsonOut, "json", false, "print JSON")
	describe := &cobra.Command{
		Use:   "describe KIND NAME",
		Short: "Describe a plugin as JSON: version, protocol versions, and the hardware config and operators of a target or the parameter schema of an algorithm",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := g.manager()
			if err != nil {
				return err
			}
			defer m.Close()
			d, err := describePlugin(cmd.Context(), m, args[0], args[1])
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(d, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, string(b))
			return err
		},
	}
	lock := &cobra.Command{
		Use:   "lock",
		Short: "Record the SHA-256 of every plugin found in the lock file; later runs refuse changed binaries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := g.manager()
			if err != nil {
				return err
			}
			l, err := plugins.NewLock(m.Binaries())
			if err != nil {
				return err
			}
			path := g.lockFile
			if path == "" {
				path = plugins.LockFileName
			}
			if err := l.Write(path); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "locked %d plugins in %s\n", len(l.Plugins), path)
			return nil
		},
	}
	cmd.AddCommand(list, describe, lock)
	return cmd
}

// description is what `pot plugins describe` prints.
type description struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Path string `json:"path"`
	// Protocol is the version negotiated in the go-plugin handshake.
	Protocol int `json:"protocol_version"`
	// Description is the plugin's answer to Describe, with the JSON
	// documents it carries as strings (parameter schema, defaults)
	// inlined.
	Description json.RawMessage `json:"description"`
	version     string
	protocols   []int32
}

// describePlugin starts a plugin, asks it to describe itself and stops it.
func describePlugin(ctx context.Context, m *pluginmgr.Manager, kind, name string) (*description, error) {
	var (
		p   *pluginmgr.Process
		msg proto.Message
		d   = &description{Kind: kind}
	)
	switch kind {
	case plugins.KindTarget:
		t, err := m.Target(ctx, name)
		if err != nil {
			return nil, err
		}
		defer t.Kill()
		td, err := t.Describe(ctx)
		if err != nil {
			return nil, err
		}
		p, msg, d.version, d.protocols = t.Process, td, td.GetVersion(), td.GetProtocolVersions()
	case plugins.KindAlgorithm:
		a, err := m.Algorithm(ctx, name)
		if err != nil {
			return nil, err
		}
		defer a.Kill()
		ad, err := a.Describe(ctx)
		if err != nil {
			return nil, err
		}
		p, msg, d.version, d.protocols = a.Process, ad, ad.GetVersion(), ad.GetProtocolVersions()
	default:
		return nil, fmt.Errorf("plugin kind %q is not %s or %s", kind, plugins.KindTarget, plugins.KindAlgorithm)
	}
	d.Name, d.Path, d.Protocol = p.Bin.Name, p.Bin.Path, p.Protocol()
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(msg)
	if err != nil {
		return nil, err
	}
	d.Description = inlineJSON(raw, "params_schema", "defaults")
	return d, nil
}

// inlineJSON replaces the string fields named by keys of a JSON object by
// the JSON documents they hold, when they hold valid JSON.
func inlineJSON(raw []byte, keys ...string) json.RawMessage {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return raw
	}
	for _, k := range keys {
		var s string
		if err := json.Unmarshal(obj[k], &s); err == nil && json.Valid([]byte(s)) {
			obj[k] = json.RawMessage(s)
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return raw
	}
	return b
}

// protocolList prints protocol versions as "1" or "1,2".
func protocolList(vs []int32) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(int(v))
	}
	return strings.Join(s, ",")
}
