package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// HealthStatus is what a health script returns, compared field by field as Argo CD's tests do.
type HealthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// libSet says which Lua libraries a script gets.
type libSet int

const (
	// argoCDLibs: what Argo CD opens for a health.lua from argocd-cm (useOpenLibs false, the default).
	argoCDLibs libSet = iota
	// allLibs: every gopher-lua library, as in Argo CD's own tests and for its built-in scripts.
	allLibs
)

// validStatuses are the health status codes Argo CD accepts from a script.
var validStatuses = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true,
}

// invalidHealthStatus is Argo CD's message for a status outside validStatuses.
const invalidHealthStatus = "Lua returned an invalid health status"

// readObject decodes a YAML or JSON object as Argo CD's tests do (numbers become float64).
func readObject(r io.Reader) (map[string]any, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("decoding the object: %w", err)
	}
	return obj, nil
}

func runHealthFile(path string, obj map[string]any, libs libSet) (*HealthStatus, error) {
	script, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return runHealth(string(script), obj, libs)
}

// runHealth executes a health script on obj and reads the table it returns.
func runHealth(script string, obj map[string]any, libs libSet) (*HealthStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: libs == argoCDLibs})
	defer l.Close()
	if libs == argoCDLibs {
		for _, lib := range []struct {
			name string
			open lua.LGFunction
		}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
			if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
				return nil, err
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	ret := l.Get(-1)
	table, ok := ret.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("expect table output from Lua script, not %s", ret.Type())
	}
	status, err := stringField(table, "status")
	if err != nil {
		return nil, err
	}
	message, err := stringField(table, "message")
	if err != nil {
		return nil, err
	}
	if !validStatuses[status] {
		return &HealthStatus{Status: "Unknown", Message: invalidHealthStatus}, nil
	}
	return &HealthStatus{Status: status, Message: message}, nil
}

// stringField reads a string field; like Argo CD's JSON round trip, another type is an error.
func stringField(t *lua.LTable, name string) (string, error) {
	switch v := t.RawGetString(name).(type) {
	case *lua.LNilType:
		return "", nil
	case lua.LString:
		return string(v), nil
	default:
		return "", fmt.Errorf("the script's %s is a %s, not a string", name, v.Type())
	}
}

// toLua converts a decoded object as Argo CD does: maps to tables, arrays to 1-based sequences.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}
