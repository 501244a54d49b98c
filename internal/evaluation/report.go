package evaluation

import (
	_ "embed"
	"html/template"
	"io"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
)

//go:embed report.html
var reportHTML string

// StyleSheet is the report's CSS, A4 included: served beside the print
// view, and written into the evidence pack's report.html.
//
//go:embed report.css
var StyleSheet string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":  Num,
	"when": func(t time.Time) string { return t.In(clock.China).Format("2006-01-02 15:04") },
}).Parse(reportHTML))

// Num writes a score or figure as the report does: at most two decimals,
// no trailing zeros.
func Num(x float64) string { return strconv.FormatFloat(round2(x), 'f', -1, 64) }

// ValueText is the line's figure with its unit, or why there is none.
func (l Line) ValueText() string {
	switch l.State {
	case Scored:
		if l.Unit == "%" {
			return Num(l.Value) + "%"
		}
		return Num(l.Value) + " " + l.Unit
	case NotConnected:
		return "未接入数据源"
	case NoData:
		return "本期无数据"
	case NotEntered:
		return "待录入"
	}
	return ""
}

// PointsText is the line's score, "—" when nothing below it is scored.
func (l Line) PointsText() string {
	if l.State != Scored {
		return "—"
	}
	return Num(l.Points)
}

// WriteHTML writes the report as one A4 document: with the style sheet
// linked at styleURL (the print view, under the site's CSP), or inline
// when styleURL is "" (a file that opens anywhere).
func WriteHTML(w io.Writer, rep Report, styleURL string) error {
	data := struct {
		Report   Report
		StyleURL string
		CSS      template.CSS
	}{Report: rep, StyleURL: styleURL}
	if styleURL == "" {
		data.CSS = template.CSS(StyleSheet)
	}
	return reportTemplate.Execute(w, data)
}
