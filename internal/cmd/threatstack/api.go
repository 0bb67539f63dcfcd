package threatstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// APIOptions are the inputs of `threatstack api`.
type APIOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)

	Method    string
	Path      string
	Fields    []string
	InputFile string
	Paginate  bool
	// Output is json (pretty-printed, the default) or yaml; the flag also
	// lets the global --jq filter the response.
	Output string
}

var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead}

// NewCmdAPI returns `threatstack api`.
func NewCmdAPI(f *cmdutil.Factory, runF func(*APIOptions) error) *cobra.Command {
	opts := &APIOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "api <path>",
		Short: "Make an authenticated request to the Threat Stack API",
		Long: `Send a HAWK-signed request to a path of the Threat Stack API and print the
response body (JSON is pretty-printed), like 'gh api'.

-f key=value adds a parameter: to the query string for GET, DELETE and
HEAD, to a JSON object sent as the body for POST, PUT and PATCH. --input
sends a file as the body instead ("-" for stdin); -f then goes to the query.

--paginate follows the pagination token of a GET listing and prints every
page, one JSON document after another (combine them with jq -s; with
-o yaml, YAML documents separated by ---). --jq filters each page.

A non-2xx answer is printed too, and the exit code says what failed: 3 for
401/403, 4 for 404, 5 for a server error.`,
		Example: `  $ tw-cli threatstack api /v2/agents -f status=online --paginate | jq '.agents[].hostname'
  $ tw-cli threatstack api /v2/alerts/severity-counts
  $ echo '{"ids":["5d1f…"],"dismissReason":"OTHER"}' | tw-cli threatstack api -X POST /v2/alerts/dismiss --input -`,
		Args: cmdutil.ExactArgs(1, "API path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			opts.Method = strings.ToUpper(opts.Method)
			if !slices.Contains(apiMethods, opts.Method) {
				return cmdutil.FlagErrorf("invalid --method %q: use %s", opts.Method, strings.Join(apiMethods, ", "))
			}
			if opts.Output != output.JSON && opts.Output != output.YAML {
				return cmdutil.FlagErrorf("invalid output format %q: use json or yaml", opts.Output)
			}
			if opts.Paginate && opts.Method != http.MethodGet {
				return cmdutil.FlagErrorf("--paginate works with GET requests only")
			}
			if opts.InputFile != "" && !bodyMethod(opts.Method) {
				return cmdutil.FlagErrorf("--input needs a method with a body: -X POST, PUT or PATCH")
			}
			for _, fl := range opts.Fields {
				if k, _, ok := strings.Cut(fl, "="); !ok || k == "" {
					return cmdutil.FlagErrorf("invalid -f %q: want key=value", fl)
				}
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return apiRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Method, "method", "X", http.MethodGet, "HTTP `method`")
	fl.StringArrayVarP(&opts.Fields, "field", "f", nil, "Add a `key=value` parameter (repeatable)")
	fl.StringVar(&opts.InputFile, "input", "", "Send this `file` as the JSON body (\"-\" for stdin)")
	fl.BoolVar(&opts.Paginate, "paginate", false, "Follow the pagination token and print every page")
	fl.StringVarP(&opts.Output, "output", "o", output.JSON, "Output format: json or yaml")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{output.JSON, output.YAML}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions(apiMethods, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func bodyMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

// request splits the -f fields and --input into query and body.
func (o *APIOptions) request() (url.Values, []byte, error) {
	query := url.Values{}
	fields := map[string]any{}
	for _, fl := range o.Fields {
		k, v, _ := strings.Cut(fl, "=")
		if bodyMethod(o.Method) && o.InputFile == "" {
			fields[k] = v
		} else {
			query.Add(k, v)
		}
	}
	switch {
	case o.InputFile != "":
		body, err := o.readInput()
		if err != nil {
			return nil, nil, err
		}
		return query, body, nil
	case len(fields) > 0:
		body, err := json.Marshal(fields)
		return query, body, err
	case bodyMethod(o.Method):
		// Hawk hashes the payload of a body request; send an empty
		// object rather than no body at all.
		return query, []byte("{}"), nil
	}
	return query, nil, nil
}

func (o *APIOptions) readInput() ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if o.InputFile == "-" {
		b, err = io.ReadAll(o.IO.In)
	} else {
		b, err = os.ReadFile(o.InputFile)
	}
	if err != nil {
		return nil, cmdutil.FlagErrorf("--input: %v", err)
	}
	if !json.Valid(b) {
		return nil, cmdutil.FlagErrorf("--input %s is not valid JSON", o.InputFile)
	}
	return b, nil
}

func apiRun(cmd *cobra.Command, opts *APIOptions) error {
	query, body, err := opts.request()
	if err != nil {
		return err
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	p := bodyPrinter{w: opts.IO.Out, format: opts.Output}
	if opts.Paginate {
		for page, err := range c.RawPages(cmd.Context(), opts.Path, query) {
			if err != nil {
				var apiErr *threatstack.APIError
				if errors.As(err, &apiErr) {
					_ = p.print(apiErr.Body)
				}
				return apiError(err)
			}
			if err := p.print(page); err != nil {
				return err
			}
		}
		return nil
	}
	resp, err := c.Do(cmd.Context(), opts.Method, opts.Path, query, body)
	if resp != nil {
		// Print the body of a failed request too: the server says why.
		if perr := p.print(resp.Body); perr != nil && err == nil {
			return perr
		}
	}
	return apiError(err)
}

// bodyPrinter writes response bodies: JSON pretty-printed or as YAML
// documents, anything else as it came.
type bodyPrinter struct {
	w      io.Writer
	format string
	docs   int
}

func (p *bodyPrinter) print(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if p.format == output.YAML && json.Valid(body) {
		if p.docs > 0 {
			if _, err := io.WriteString(p.w, "---\n"); err != nil {
				return err
			}
		}
		p.docs++
		return output.WriteYAML(p.w, json.RawMessage(body))
	}
	return printBody(p.w, body)
}

// printBody pretty-prints JSON and writes anything else as it came.
func printBody(w io.Writer, body []byte) error {
	var buf bytes.Buffer
	if json.Indent(&buf, bytes.TrimSpace(body), "", "  ") == nil {
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}
	_, err := w.Write(body)
	if err == nil && !bytes.HasSuffix(body, []byte("\n")) {
		_, err = fmt.Fprintln(w)
	}
	return err
}
