package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

// VersionInfo is what `version --json` prints.
type VersionInfo struct {
	Version   string   `json:"version"`
	Commit    string   `json:"commit"`
	GoVersion string   `json:"goVersion"`
	Platform  string   `json:"platform"`
	Modules   []Module `json:"modules"`
}

// Module is one Go module compiled into the binary.
type Module struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Sum     string `json:"sum,omitempty"`
}

func versionInfo(b app.BuildInfo) VersionInfo {
	v := VersionInfo{Version: b.Version, Commit: b.Commit, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, Modules: []Module{}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			v.Modules = append(v.Modules, Module{Path: d.Path, Version: d.Version, Sum: d.Sum})
		}
	}
	return v
}

func newVersionCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version (--json adds the module list)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionInfo(env.App.Build)
			if asJSON {
				return printJSON(env.IO.Out, v)
			}
			commit := v.Commit
			if commit == "" {
				commit = "unknown"
			}
			_, err := fmt.Fprintf(env.IO.Out, "azs-courier %s (commit %s, %s, %s)\n", v.Version, commit, v.GoVersion, v.Platform)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON with the list of modules")
	return cmd
}
