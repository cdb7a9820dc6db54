// Command opa-harness evaluates Rego cases with OPA's Go API (the rego
// package), for cos-policy's differential tester (tests/differential/run.py).
//
// It reads JSON lines from standard input, one case each:
//
//	{"id": "...", "modules": {"p.rego": "package p ..."}, "data": {...},
//	 "input": ... (optional: absent means no input), "query": "data.p.x"}
//
// and writes one JSON line per case to standard output, in the same order:
//
//	{"id": "...", "result": VALUE}
//	{"id": "...", "undefined": true}
//	{"id": "...", "error": {"code": "rego_type_error", "message": "..."}}
//
// Sets come out as arrays in OPA's sort order (as `opa eval` prints them).
// Each evaluation (compile included) is bounded by -timeout.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/util"
)

type request struct {
	ID      string            `json:"id"`
	Modules map[string]string `json:"modules"`
	Data    json.RawMessage   `json:"data"`
	Input   json.RawMessage   `json:"input"`
	Query   string            `json:"query"`
}

type errorOut struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type response struct {
	ID        string      `json:"id"`
	Result    interface{} `json:"result,omitempty"`
	HasResult bool        `json:"-"`
	Undefined bool        `json:"undefined,omitempty"`
	Error     *errorOut   `json:"error,omitempty"`
}

// MarshalJSON keeps a result that is JSON null or false (omitempty would drop it).
func (r response) MarshalJSON() ([]byte, error) {
	m := map[string]interface{}{"id": r.ID}
	switch {
	case r.Error != nil:
		m["error"] = r.Error
	case r.HasResult:
		m["result"] = r.Result
	default:
		m["undefined"] = true
	}
	return json.Marshal(m)
}

func classify(err error) *errorOut {
	// rego.Errors (parse errors of several modules) has no Unwrap: its
	// first error decides the class.
	var regoErrs rego.Errors
	if errors.As(err, &regoErrs) && len(regoErrs) > 0 {
		err = regoErrs[0]
	}
	var astErrs ast.Errors
	if errors.As(err, &astErrs) && len(astErrs) > 0 {
		return &errorOut{Code: astErrs[0].Code, Message: firstLine(astErrs[0].Error())}
	}
	var astErr *ast.Error
	if errors.As(err, &astErr) {
		return &errorOut{Code: astErr.Code, Message: firstLine(astErr.Error())}
	}
	var tdErr *topdown.Error
	if errors.As(err, &tdErr) {
		return &errorOut{Code: tdErr.Code, Message: firstLine(tdErr.Error())}
	}
	if errors.Is(err, context.DeadlineExceeded) || topdown.IsCancel(err) {
		return &errorOut{Code: "timeout", Message: firstLine(err.Error())}
	}
	return &errorOut{Code: "other", Message: firstLine(err.Error())}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func eval(req *request, timeout time.Duration) (out response) {
	out.ID = req.ID
	defer func() {
		if p := recover(); p != nil {
			out = response{ID: req.ID, Error: &errorOut{Code: "panic", Message: fmt.Sprint(p)}}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	opts := []func(*rego.Rego){rego.Query(req.Query)}
	names := make([]string, 0, len(req.Modules))
	for name := range req.Modules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		opts = append(opts, rego.Module(name, req.Modules[name]))
	}
	data := map[string]interface{}{}
	if len(req.Data) > 0 && string(req.Data) != "null" {
		if err := util.UnmarshalJSON(req.Data, &data); err != nil {
			return response{ID: req.ID, Error: &errorOut{Code: "bad_request", Message: "data: " + err.Error()}}
		}
	}
	opts = append(opts, rego.Store(inmem.NewFromObject(data)))
	if len(req.Input) > 0 {
		var input interface{}
		if err := util.UnmarshalJSON(req.Input, &input); err != nil {
			return response{ID: req.ID, Error: &errorOut{Code: "bad_request", Message: "input: " + err.Error()}}
		}
		opts = append(opts, rego.Input(input))
	}
	rs, err := rego.New(opts...).Eval(ctx)
	if err != nil {
		out.Error = classify(err)
		return out
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		out.Undefined = true
		return out
	}
	out.Result = rs[0].Expressions[0].Value
	out.HasResult = true
	return out
}

func main() {
	timeout := flag.Duration("timeout", 10*time.Second, "time limit of one case (compile and evaluation)")
	flag.Parse()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		line := in.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var req request
		var out response
		if err := util.UnmarshalJSON(line, &req); err != nil {
			out = response{ID: req.ID, Error: &errorOut{Code: "bad_request", Message: err.Error()}}
		} else {
			out = eval(&req, *timeout)
		}
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(os.Stderr, "opa-harness:", err)
			os.Exit(1)
		}
		w.Flush()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "opa-harness:", err)
		os.Exit(1)
	}
}
