// Package georeport is the wire format of Open311 GeoReport v2
// (http://wiki.open311.org/GeoReport_v2) and of mySociety's
// servicerequestupdates extension: the resources as XML and JSON, the
// error bodies and their statuses, and the parsing of parameters. It
// knows nothing of complaints or the database (package open311 maps
// them), so that its parsers are fuzzed without a database driver linked.
package georeport

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/clock"
)

// Every resource is asked for as resource.json or resource.xml. XML is
// the format the specification requires; JSON follows from it by the
// Spark convention (a list's element names dropped, empty elements null).
const (
	JSON = "json"
	XML  = "xml"
)

// Formats are the formats served, as discovery names their MIME types.
var Formats = []string{"text/xml", "application/json"}

// SplitFormat cuts "TS202612070001.json" into the name and its format.
func SplitFormat(file string) (name, format string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return "", "", false
	}
	name, format = file[:i], file[i+1:]
	return name, format, format == JSON || format == XML
}

// Text is a string that may be empty: JSON gives an empty one as null, as
// the specification's examples do; XML as an empty element.
type Text string

// MarshalJSON gives "" as null.
func (t Text) MarshalJSON() ([]byte, error) {
	if t == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(t))
}

// Coordinate is a latitude or longitude that a request may lack: null in
// JSON, an empty element in XML.
type Coordinate struct {
	v  float64
	ok bool
}

// Coord is the coordinate p points to, or none.
func Coord(p *float64) Coordinate {
	if p == nil {
		return Coordinate{}
	}
	return Coordinate{*p, true}
}

func (c Coordinate) String() string {
	if !c.ok {
		return ""
	}
	return strconv.FormatFloat(c.v, 'f', -1, 64)
}

// MarshalJSON gives a missing coordinate as null.
func (c Coordinate) MarshalJSON() ([]byte, error) {
	if !c.ok {
		return []byte("null"), nil
	}
	return []byte(c.String()), nil
}

// MarshalXML gives a missing coordinate as an empty element.
func (c Coordinate) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(c.String(), start)
}

// W3 writes a time in the W3C subset of ISO 8601 with Beijing's offset,
// 2026-12-07T09:30:00+08:00, to the second; the zero time as "".
func W3(t time.Time) Text {
	if t.IsZero() {
		return ""
	}
	return Text(t.In(clock.China).Truncate(time.Second).Format(time.RFC3339))
}

// List is a response whose JSON is an array and whose XML wraps its
// elements in a root: <services><service>…</service></services>.
type List[T any] struct {
	root, element string
	Items         []T
}

// MarshalJSON gives the items as an array, [] when there are none.
func (l List[T]) MarshalJSON() ([]byte, error) {
	if l.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.Items)
}

// MarshalXML gives the items as elements of the list's root.
func (l List[T]) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	root := xml.StartElement{Name: xml.Name{Local: l.root}}
	if err := e.EncodeToken(root); err != nil {
		return err
	}
	for _, it := range l.Items {
		if err := e.EncodeElement(it, xml.StartElement{Name: xml.Name{Local: l.element}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(root.End())
}

// Write answers v in format. It encodes into a buffer first, so that a
// failure is answered as an error, not as half a body.
func Write(w http.ResponseWriter, format string, status int, v any) error {
	var body bytes.Buffer
	if format == JSON {
		enc := json.NewEncoder(&body)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	} else {
		body.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		enc := xml.NewEncoder(&body)
		enc.Indent("", "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
		body.WriteByte('\n')
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	}
	w.WriteHeader(status)
	_, err := w.Write(body.Bytes())
	return err
}

// Error is one entry of the specification's error list. Code is the HTTP
// status, as the specification's examples give it (400, 403, 404), so it
// stays the same for the same kind of error; Description says in Chinese
// what is wrong.
type Error struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

// Errors is the error body: [{"code":403,"description":"…"}] or
// <errors><error><code>403</code><description>…</description></error></errors>.
func Errors(errs ...Error) List[Error] { return List[Error]{"errors", "error", errs} }

// Status is the specification's status for err: 404 for what does not
// exist, 403 for a missing, wrong or insufficient api_key, and 400 for
// every other failure — a bad parameter, and also a failure of the
// server's own, which the specification calls a "general service error"
// for the client to report.
func Status(err error) int {
	switch apperr.CodeOf(err) {
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Forbidden, apperr.Unauthorized:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// FormatOf is the format a request's path asks for; XML, the required
// one, when it names none (an error about a path without one).
func FormatOf(path string) string {
	if strings.HasSuffix(path, "."+JSON) {
		return JSON
	}
	return XML
}
