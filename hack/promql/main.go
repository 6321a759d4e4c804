// Command promql-metrics prints the metric names a list of PromQL expressions select, parsed by
// Prometheus's own PromQL parser. It reads a JSON array of expressions on stdin and writes a JSON
// array with, for each expression, {expr, metrics} or {expr, error}; it exits 1 when any expression
// does not parse.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type result struct {
	Expr    string   `json:"expr"`
	Metrics []string `json:"metrics"`
	Error   string   `json:"error,omitempty"`
}

func main() {
	var exprs []string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		fmt.Fprintln(os.Stderr, "promql-metrics: stdin must be a JSON array of strings:", err)
		os.Exit(2)
	}
	code := 0
	results := make([]result, 0, len(exprs))
	for _, e := range exprs {
		r := result{Expr: e, Metrics: []string{}}
		names, err := metricNames(e)
		if err != nil {
			r.Error = err.Error()
			code = 1
		} else {
			r.Metrics = names
		}
		results = append(results, r)
	}
	_ = json.NewEncoder(os.Stdout).Encode(results)
	os.Exit(code)
}

// metricNames parses expr and returns the names of the metrics its vector selectors select. A
// selector without an exact __name__ (e.g. {__name__=~"x.*"}) is an error: it could select anything.
func metricNames(expr string) ([]string, error) {
	ast, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var bad error
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type != labels.MatchEqual {
				bad = fmt.Errorf("selector %s does not name one metric", vs.String())
			}
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			bad = fmt.Errorf("selector %s names no metric", vs.String())
		}
		seen[name] = true
		return nil
	})
	if bad != nil {
		return nil, bad
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
