package cli

import (
	"context"
	"fmt"
	"runtime"
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
				Path    string `json:"path"`
				Error   string `json:"error,omitempty"`
			}
			var rows []row
			for _, b := range m.Binaries() {
				r := row{Kind: b.Kind, Name: b.Name, Path: b.Path}
				v, err := describeVersion(cmd.Context(), m, b)
				if err != nil {
					r.Error = err.Error()
				}
				r.Version = v
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
			fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tPATH")
			for _, r := range rows {
				v := r.Version
				if r.Error != "" {
					v = "error: " + r.Error
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Kind, r.Name, v, r.Path)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&g.jsonOut, "json", false, "print JSON")
	describe := &cobra.Command{
		Use:   "describe KIND NAME",
		Short: "Describe a plugin: version, protocol, parameters or hardware config",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := g.manager()
			if err != nil {
				return err
			}
			defer m.Close()
			var msg proto.Message
			switch args[0] {
			case plugins.KindTarget:
				t, err := m.Target(cmd.Context(), args[1])
				if err != nil {
					return err
				}
				d, err := t.Describe(cmd.Context())
				if err != nil {
					return err
				}
				msg = d
			case plugins.KindAlgorithm:
				a, err := m.Algorithm(cmd.Context(), args[1])
				if err != nil {
					return err
				}
				d, err := a.Describe(cmd.Context())
				if err != nil {
					return err
				}
				msg = d
			default:
				return fmt.Errorf("plugin kind %q is not target or algorithm", args[0])
			}
			b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}.Marshal(msg)
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

// describeVersion starts a plugin and asks for its version.
func describeVersion(ctx context.Context, m *pluginmgr.Manager, b plugins.Binary) (string, error) {
	switch b.Kind {
	case plugins.KindTarget:
		t, err := m.Target(ctx, b.Name)
		if err != nil {
			return "", err
		}
		defer t.Kill()
		d, err := t.Describe(ctx)
		return d.GetVersion(), err
	default:
		a, err := m.Algorithm(ctx, b.Name)
		if err != nil {
			return "", err
		}
		defer a.Kill()
		d, err := a.Describe(ctx)
		return d.GetVersion(), err
	}
}
