package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
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
		Short: "List the plugins found, with their versions, and the files named like plugins that are not used (shadowed, not executable)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := g.manager()
			if err != nil {
				return err
			}
			defer m.Close()
			rows := listPlugins(cmd.Context(), m)
			m.Close()
			if g.jsonOut {
				return printJSON(g.stdout, rows)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tPROTOCOL\tPATH\tSTATUS")
			for _, r := range rows {
				status := r.Status
				switch r.Status {
				case "error":
					status = "error: " + r.Problem
				case "shadowed", "unusable":
					status = r.Problem // says what is wrong
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Kind, r.Name, orDash(r.Version), orDash(r.Protocols), r.Path, status)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&g.jsonOut, "json", false, "print JSON")
	var (
		remoteAt string
		rf       remoteFlags
	)
	describe := &cobra.Command{
		Use:   "describe KIND NAME",
		Short: "Describe a plugin as JSON: version, protocol versions, and the hardware config and operators of a target or the parameter schema of an algorithm",
		Args:  g.describeArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if remoteAt != "" {
				return describeRemote(cmd.Context(), g, &rf, remoteAt, args)
			}
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
	describe.Flags().StringVar(&remoteAt, "remote", "", "describe the target served at HOST:PORT (pot target serve) instead of a local plugin")
	rf.add(describe.Flags(), false)
	lock := &cobra.Command{
		Use:   "lock",
		Short: "Record the SHA-256 of every plugin found in the lock file; later runs refuse changed or new binaries",
		Long: `Record the SHA-256 of every plugin found in a lock file. While a lock file
is in force, pot runs only the plugins it lists, and only when their
binaries are unchanged.

The lock file written is --plugin-lock (or $` + plugins.LockEnv + `) when given, else
the lock file in force (./` + plugins.LockFileName + `, else
$XDG_CONFIG_HOME/pot/plugins.lock), else a new
$XDG_CONFIG_HOME/pot/plugins.lock (~/.config/pot/plugins.lock), which is in
force wherever pot runs from.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.validate(); err != nil {
				return err
			}
			dirs := g.dirs()
			if dirs == nil {
				dirs = defaultDirs()
			}
			l, err := plugins.NewLock(plugins.Discover(dirs).Binaries)
			if err != nil {
				return err
			}
			path, err := lockTarget(g.lockPath())
			if err != nil {
				return err
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

// lockTarget is the lock file `pot plugins lock` writes: the one named,
// else the one in force, else the user's (its folder is created).
func lockTarget(named string) (string, error) {
	if named != "" {
		return named, nil
	}
	path, err := plugins.FindLock(plugins.LockSearchPath())
	if err != nil || path != "" {
		return path, err
	}
	path = plugins.UserLockPath()
	if path == "" {
		return "", fmt.Errorf("no home folder for the user's lock file; name one with --plugin-lock PATH")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("lock file folder: %w", err)
	}
	return path, nil
}

// listRow is one line of `pot plugins list`.
type listRow struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version"`
	// Protocols are the protocol versions the plugin says it speaks,
	// comma-separated.
	Protocols string `json:"protocols"`
	Path      string `json:"path"`
	// Status is "ok", "error" (the plugin was refused or could not
	// describe itself), "shadowed" (another plugin of its name comes
	// first in the search path) or "unusable" (it cannot be run).
	Status string `json:"status"`
	// Problem says what is wrong when Status is not "ok".
	Problem string `json:"problem,omitempty"`
}

// listPlugins describes every plugin found and lists the files that are
// not used, sorted by kind and name (the plugin used first).
func listPlugins(ctx context.Context, m *pluginmgr.Manager) []listRow {
	rows := []listRow{}
	for _, b := range m.Binaries() {
		r := listRow{Kind: b.Kind, Name: b.Name, Path: b.Path, Status: "ok"}
		if d, err := describePlugin(ctx, m, b.Kind, b.Name); err != nil {
			r.Status, r.Problem = "error", oneLine(err.Error())
		} else {
			r.Version, r.Protocols = d.version, protocolList(d.protocols)
		}
		rows = append(rows, r)
	}
	for _, s := range m.Skipped() {
		r := listRow{Kind: s.Kind, Name: s.Name, Path: s.Path, Status: "unusable", Problem: strings.TrimPrefix(s.Problem, "is ")}
		if s.ShadowedBy != "" {
			r.Status = "shadowed"
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return strings.ToLower(a.Name) < strings.ToLower(b.Name)
	})
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// describeArgs wants KIND NAME; given a name alone, it suggests the kinds
// of the plugins of that name.
func (g *globals) describeArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 2 {
		return nil
	}
	if r := cmd.Flags().Lookup("remote"); r != nil && r.Value.String() != "" && len(args) == 1 {
		return nil // pot plugins describe target --remote HOST:PORT
	}
	usage := "plugins describe needs KIND NAME, KIND being " + plugins.KindTarget + " or " + plugins.KindAlgorithm
	if len(args) != 1 || args[0] == plugins.KindTarget || args[0] == plugins.KindAlgorithm {
		return fmt.Errorf("%s, e.g. `pot plugins describe target cpu`", usage)
	}
	dirs := g.dirs()
	if dirs == nil {
		dirs = defaultDirs()
	}
	var try []string
	for _, b := range plugins.Discover(dirs).Binaries {
		if strings.EqualFold(b.Name, args[0]) {
			try = append(try, fmt.Sprintf("`pot plugins describe %s %s`", b.Kind, b.Name))
		}
	}
	if len(try) == 0 {
		return fmt.Errorf("%s; no plugin is named %q (see `pot plugins list`)", usage, args[0])
	}
	return fmt.Errorf("%s: %s", usage, strings.Join(try, " or "))
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

// describeRemote describes the target served at endpoint: `pot plugins
// describe target --remote HOST:PORT` (NAME, optional, must match).
func describeRemote(ctx context.Context, g *globals, f *remoteFlags, endpoint string, args []string) error {
	if args[0] != plugins.KindTarget {
		return fmt.Errorf("--remote describes a target: pot plugins describe target --remote %s", endpoint)
	}
	t, err := g.dial(ctx, f, endpoint)
	if err != nil {
		return err
	}
	defer t.Close()
	td := t.Description()
	if len(args) > 1 && args[1] != td.GetName() {
		return fmt.Errorf("the target served at %s is %q, not %q", endpoint, td.GetName(), args[1])
	}
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(td)
	if err != nil {
		return err
	}
	d := &description{Kind: plugins.KindTarget, Name: td.GetName(), Path: endpoint, Protocol: plugins.ProtocolVersion,
		Description: inlineJSON(raw, "params_schema", "defaults")}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.stdout, string(b))
	return err
}
