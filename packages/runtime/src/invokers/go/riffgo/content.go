// Content negotiation for Go functions: the same rules as packages/runtime/src/content.ts and
// the other shims (docs/invokers.md, "The contract"), applied to the function's Go types.
package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

const (
	textPlain   = "text/plain"
	appJSON     = "application/json"
	octetStream = "application/octet-stream"
	formType    = "application/x-www-form-urlencoded"
)

// supported lists the types riff understands, in the order riff prefers them.
var supported = []string{textPlain, appJSON, octetStream, formType}

const supportedList = "text/plain, application/json, application/octet-stream, application/x-www-form-urlencoded"

// contentError is a failure the caller caused; its code travels in the ERROR frame.
type contentError struct{ code, message string }

func (e *contentError) Error() string { return e.message }

func mediaType(value string) string {
	if value == "" {
		return textPlain
	}
	if i := strings.IndexByte(value, ';'); i >= 0 {
		value = value[:i]
	}
	return strings.ToLower(strings.TrimSpace(value))
}

func isSupported(t string) bool {
	for _, s := range supported {
		if s == t {
			return true
		}
	}
	return false
}

func matches(rng, t string) bool {
	return rng == "*/*" || rng == t || (strings.HasSuffix(rng, "/*") && strings.HasPrefix(t, rng[:len(rng)-1]))
}

// negotiate picks the reply type for an Accept header; "" when nothing acceptable is supported.
func negotiate(accept, preferred string) string {
	if strings.TrimSpace(accept) == "" {
		return preferred
	}
	type rng struct {
		t     string
		q     float64
		order int
	}
	var ranges []rng
	for order, part := range strings.Split(accept, ",") {
		pieces := strings.Split(part, ";")
		q := 1.0
		for _, p := range pieces[1:] {
			if k, v, ok := strings.Cut(p, "="); ok && strings.TrimSpace(k) == "q" {
				parsed, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					parsed = 0
				}
				q = parsed
			}
		}
		if t := strings.ToLower(strings.TrimSpace(pieces[0])); t != "" && q > 0 {
			ranges = append(ranges, rng{t, q, order})
		}
	}
	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].q > ranges[j].q })
	for _, r := range ranges {
		if matches(r.t, preferred) {
			return preferred
		}
		for _, s := range supported {
			if matches(r.t, s) {
				return s
			}
		}
	}
	return ""
}

// checkTypes refuses, before the function runs, a Content-Type or Accept riff cannot serve.
func checkTypes(contentType, accept string) error {
	t := mediaType(contentType)
	if !isSupported(t) {
		return &contentError{"RIFF_CONTENT_TYPE_UNSUPPORTED", fmt.Sprintf("content type '%s' is not supported; send %s", t, supportedList)}
	}
	if negotiate(accept, t) == "" {
		return &contentError{"RIFF_ACCEPT_UNSUPPORTED", fmt.Sprintf("no supported reply type satisfies Accept '%s'; accept %s", accept, supportedList)}
	}
	return nil
}

var (
	bytesType           = reflect.TypeOf([]byte(nil))
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	textMarshalerType   = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	stringerType        = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()
)

func invalid(format string, args ...any) error {
	return &contentError{"RIFF_INVALID_ARGUMENT", fmt.Sprintf(format, args...)}
}

// decodeArg turns a payload into a value of the function's parameter type t.
func decodeArg(contentType string, payload []byte, t reflect.Type) (reflect.Value, error) {
	ct := mediaType(contentType)
	ptr := reflect.New(t)
	switch {
	case t == bytesType:
		return reflect.ValueOf(append([]byte(nil), payload...)), nil
	case t.Kind() == reflect.Interface && ct != appJSON:
		// An `any` parameter gets what the type says: text a string, bytes, a form a map.
		var v any = string(payload)
		if ct == octetStream {
			v = append([]byte(nil), payload...)
		} else if ct == formType {
			m, err := parseForm(payload)
			if err != nil {
				return reflect.Value{}, err
			}
			v = m
		}
		ptr.Elem().Set(reflect.ValueOf(v))
		return ptr.Elem(), nil
	case ct == appJSON || ct == octetStream:
		if t.Kind() == reflect.String && ct == octetStream {
			ptr.Elem().SetString(string(payload))
		} else if err := json.Unmarshal(payload, ptr.Interface()); err != nil {
			return reflect.Value{}, invalid("payload is not a JSON %s: %v", t, err)
		}
	case ct == formType:
		m, err := parseForm(payload)
		if err != nil {
			return reflect.Value{}, err
		}
		if t.Kind() == reflect.String {
			ptr.Elem().SetString(string(payload))
		} else if b, _ := json.Marshal(m); json.Unmarshal(b, ptr.Interface()) != nil {
			return reflect.Value{}, invalid("a form cannot be decoded into %s; take a map[string]string or a struct of strings", t)
		}
	default: // text/plain
		if err := decodeText(string(payload), ptr); err != nil {
			return reflect.Value{}, err
		}
	}
	return ptr.Elem(), nil
}

// decodeText: strings as they are, numbers and booleans parsed, TextUnmarshalers by their own
// method, anything else as JSON text (riff's Go invoker did the same).
func decodeText(s string, ptr reflect.Value) error {
	t := ptr.Elem().Type()
	if ptr.Type().Implements(textUnmarshalerType) {
		if err := ptr.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return invalid("payload '%s' is not a valid %s: %v", s, t, err)
		}
		return nil
	}
	if t.Kind() == reflect.String {
		ptr.Elem().SetString(s)
		return nil
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), ptr.Interface()); err != nil {
		return invalid("payload '%s' is not a valid %s", s, t)
	}
	return nil
}

func parseForm(payload []byte) (map[string]string, error) {
	values, err := url.ParseQuery(string(payload))
	if err != nil {
		return nil, invalid("payload is not a valid form: %v", err)
	}
	m := make(map[string]string, len(values))
	for k, v := range values {
		m[k] = v[0]
	}
	return m, nil
}

// structured results become JSON when the caller did not say otherwise.
func structured(v reflect.Value) bool {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct, reflect.Map, reflect.Array:
		return !v.Type().Implements(textMarshalerType) && !v.Type().Implements(stringerType)
	case reflect.Slice:
		return v.Type() != bytesType
	}
	return false
}

func isBytes(v reflect.Value) bool {
	return v.IsValid() && v.Type() == bytesType || v.Kind() == reflect.Interface && !v.IsNil() && v.Elem().Type() == bytesType
}

// encodeResult is the reply's type and bytes for a result: the request's type, except that
// structured values become JSON and []byte stays bytes, unless Accept asks for something else.
func encodeResult(v reflect.Value, accept, requestType string) (string, []byte, error) {
	preferred := mediaType(requestType)
	if !isSupported(preferred) {
		preferred = textPlain
	}
	if strings.TrimSpace(accept) == "" && v.IsValid() {
		if structured(v) {
			preferred = appJSON
		} else if isBytes(v) {
			preferred = octetStream
		}
	}
	chosen := negotiate(accept, preferred)
	if chosen == "" {
		return "", nil, &contentError{"RIFF_ACCEPT_UNSUPPORTED", fmt.Sprintf("no supported reply type satisfies Accept '%s'", accept)}
	}
	b, err := toBytes(v, chosen)
	return chosen, b, err
}

func toBytes(v reflect.Value, t string) ([]byte, error) {
	if !v.IsValid() || (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && v.IsNil() {
		if t == appJSON && v.IsValid() {
			return []byte("null"), nil
		}
		return nil, nil
	}
	x := v.Interface()
	if b, ok := x.([]byte); ok && t != appJSON {
		return b, nil
	}
	if t == appJSON {
		return json.Marshal(x)
	}
	if t == formType && structured(v) {
		var m map[string]any
		if b, err := json.Marshal(x); err == nil && json.Unmarshal(b, &m) == nil {
			form := url.Values{}
			for k, val := range m {
				form.Set(k, fmt.Sprint(val))
			}
			return []byte(form.Encode()), nil
		}
	}
	switch y := x.(type) {
	case string:
		return []byte(y), nil
	case encoding.TextMarshaler:
		return y.MarshalText()
	case fmt.Stringer:
		return []byte(y.String()), nil
	case error:
		return []byte(y.Error()), nil
	}
	if structured(v) {
		return json.Marshal(x)
	}
	return []byte(fmt.Sprint(x)), nil
}
