package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
	"sigs.k8s.io/yaml"
)

// testFile is a health_test.yaml, as Argo CD's tests read it.
type testFile struct {
	Tests []struct {
		InputPath    string       `json:"inputPath"`
		HealthStatus HealthStatus `json:"healthStatus"`
	} `json:"tests"`
}

// Result is the outcome of one case.
type Result struct {
	Name     string        `json:"name"`
	Libs     string        `json:"libs"`
	Expected HealthStatus  `json:"expected"`
	Actual   *HealthStatus `json:"actual,omitempty"`
	Error    string        `json:"error,omitempty"`
	Pass     bool          `json:"pass"`
}

// testTree runs every case of every health_test.yaml beside a health.lua under root. A tree with
// no case, a health.lua without health_test.yaml, and a testdata file no case uses are errors.
func testTree(root string) ([]Result, error) {
	var results []Result
	scripts := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "health.lua" {
			return err
		}
		scripts++
		dir := filepath.Dir(path)
		r, err := testScript(root, dir)
		results = append(results, r...)
		return err
	})
	if err != nil {
		return results, err
	}
	if scripts == 0 || len(results) == 0 {
		return results, fmt.Errorf("no health.lua with cases under %s", root)
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	return results, nil
}

func testScript(root, dir string) ([]Result, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		return nil, err
	}
	var tf testFile
	if err := yaml.UnmarshalStrict(raw, &tf); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "health_test.yaml"), err)
	}
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		return nil, err
	}
	prefix, _ := filepath.Rel(root, dir)
	used := map[string]bool{}
	var results []Result
	for _, tc := range tf.Tests {
		used[filepath.Clean(tc.InputPath)] = true
		name := filepath.ToSlash(filepath.Join(prefix, tc.InputPath))
		data, err := os.ReadFile(filepath.Join(dir, tc.InputPath))
		if err != nil {
			return results, err
		}
		for _, libs := range []libSet{argoCDLibs, allLibs} {
			r := Result{Name: name, Libs: map[libSet]string{argoCDLibs: "argocd-cm", allLibs: "all"}[libs], Expected: tc.HealthStatus}
			obj, err := readObject(bytes.NewReader(data))
			if err == nil {
				r.Actual, err = runHealth(string(script), obj, libs)
			}
			if err != nil {
				r.Error = err.Error()
			}
			r.Pass = err == nil && *r.Actual == tc.HealthStatus
			results = append(results, r)
		}
	}
	unused, err := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
	if err != nil {
		return results, err
	}
	for _, f := range unused {
		rel, _ := filepath.Rel(dir, f)
		if !used[rel] {
			return results, fmt.Errorf("%s is used by no case of health_test.yaml", f)
		}
	}
	return results, nil
}

// Globals lists the global names a script reads and assigns, from its compiled bytecode.
type Globals struct {
	Reads  []string `json:"reads"`
	Writes []string `json:"writes"`
}

func scriptGlobals(path string) (*Globals, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	chunk, err := parse.Parse(bytes.NewReader(src), path)
	if err != nil {
		return nil, err
	}
	proto, err := lua.Compile(chunk, path)
	if err != nil {
		return nil, err
	}
	reads, writes := map[string]bool{}, map[string]bool{}
	collectGlobals(proto, reads, writes)
	return &Globals{Reads: sortedKeys(reads), Writes: sortedKeys(writes)}, nil
}

// collectGlobals walks a function and its nested functions for GETGLOBAL and SETGLOBAL, whose Bx
// operand indexes the constant holding the name (Lua 5.1 instruction layout: opcode in the top 6 bits).
func collectGlobals(p *lua.FunctionProto, reads, writes map[string]bool) {
	for _, inst := range p.Code {
		op := int(inst >> 26)
		if op != lua.OP_GETGLOBAL && op != lua.OP_SETGLOBAL {
			continue
		}
		name := p.Constants[inst&0x3ffff].String()
		if op == lua.OP_GETGLOBAL {
			reads[name] = true
		} else {
			writes[name] = true
		}
	}
	for _, child := range p.FunctionPrototypes {
		collectGlobals(child, reads, writes)
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
