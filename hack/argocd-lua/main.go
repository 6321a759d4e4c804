// Command argocd-lua runs Argo CD resource health checks the way Argo CD does: in gopher-lua (the
// Lua VM Argo CD embeds), with the live object as the global `obj`, a one-second limit, and the
// returned table read as {status, message}. It checks a resource_customizations tree laid out as in
// Argo CD's repository: <group>/<Kind>/{health.lua, health_test.yaml, testdata/*.yaml}.
//
// Usage:
//
//	argocd-lua test <resource_customizations dir>   run every health_test.yaml case; exit 1 on a mismatch
//	argocd-lua run <health.lua> < object.yaml        print the health status of one object as JSON
//	argocd-lua globals <health.lua>                  print the global names the script reads and writes
//
// Each case runs twice: with only the libraries Argo CD opens for a script configured in argocd-cm
// (base, table, package: no string, os or io) and with all of gopher-lua's libraries, as Argo CD's
// own tests and its built-in scripts run. Both must give the expected status and message.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprintln(stderr, "usage: argocd-lua test DIR | run SCRIPT < OBJECT | globals SCRIPT")
		return 2
	}
	switch {
	case args[0] == "test" && len(args) == 2:
		results, err := testTree(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "argocd-lua:", err)
			return 1
		}
		failed := 0
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if !r.Pass {
				failed++
			}
			_ = enc.Encode(r)
		}
		fmt.Fprintf(stderr, "%d cases, %d failed\n", len(results), failed)
		if failed > 0 {
			return 1
		}
		return 0
	case args[0] == "run" && len(args) == 2:
		obj, err := readObject(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "argocd-lua:", err)
			return 1
		}
		status, err := runHealthFile(args[1], obj, argoCDLibs)
		if err != nil {
			fmt.Fprintln(stderr, "argocd-lua:", err)
			return 1
		}
		_ = json.NewEncoder(stdout).Encode(status)
		return 0
	case args[0] == "globals" && len(args) == 2:
		g, err := scriptGlobals(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "argocd-lua:", err)
			return 1
		}
		_ = json.NewEncoder(stdout).Encode(g)
		return 0
	}
	fmt.Fprintf(stderr, "argocd-lua: unknown command %q; usage: test DIR | run SCRIPT | globals SCRIPT\n", args[0])
	return 2
}
